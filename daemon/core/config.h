/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's configuration: built-in defaults, then the config file, then the command line. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct Config {
        char **drives;                  /* libburn addresses, e.g. "stdio:/var/tmp/disc.iso" */
        bool scan;                      /* look for hardware drives */
        char *default_drive;            /* used when no drive is found or configured; NULL: none */
        char *stash_dir;
        char *bus_address;              /* NULL: the system bus */
        bool bus;                       /* connect to a bus at all (off: peer-to-peer only) */
        uint64_t idle_timeout_usec;     /* 0: never exit on idle */
        uint64_t hotplug_interval_usec; /* how often to look for drives that come and go; 0: never */
        uint64_t peer_idle_timeout_usec; /* a peer holding nothing and silent this long is closed */
        unsigned max_masters_per_client;
        unsigned max_masters;           /* in all; lowered to what the fd budget holds (limits.h) */
        unsigned max_clients;
        /* Per user (quota.h): at most a quarter of the global limits above. */
        unsigned max_clients_per_user;
        unsigned max_masters_per_user;
        uint64_t max_stash_bytes_per_user; /* 0: half of the stash's file system */
        unsigned max_staged_files_per_user;
        unsigned max_jobs_per_user;
} Config;

#define CONFIG_DEFAULT_PATH SYSCONFDIR "/imapid/imapid.conf"
#define CONFIG_DEFAULT_DRIVE "stdio:/var/lib/imapid/disc.iso"

void config_init(Config *c);
void config_done(Config *c);

/* Reads an INI-style file with a [Daemon] section. A missing file is not an error unless
 * must_exist is set. Returns -EINVAL (after logging file:line) for a malformed one. */
int config_parse_file(Config *c, const char *path, bool must_exist);
int config_add_drive(Config *c, const char *address);
/* Parses "1048576", "512K", "64M", "2G", "1T" (powers of 1024). */
int config_parse_size(const char *s, uint64_t *ret_bytes);
/* Parses "30", "30s", "5min", "1h", "0" (never). */
int config_parse_timespan(const char *s, uint64_t *ret_usec);
