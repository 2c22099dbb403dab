/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Parsing /etc/imapid/imapid.conf: a [Daemon] section of Key=Value lines. */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "log.h"
#include "macro.h"

void config_init(Config *c) {
        *c = (Config) {
                .scan = true,
                .bus = true,
                .stash_dir = strdup(DEFAULT_STASH_DIR),
                .default_drive = strdup(CONFIG_DEFAULT_DRIVE),
                .idle_timeout_usec = 0,
                .hotplug_interval_usec = 2 * 1000000ULL,
                .peer_idle_timeout_usec = 60 * 1000000ULL,
                .max_masters_per_client = 8,
                .max_masters = 1024,
                .max_clients = 256,
                .max_clients_per_user = 64,
                .max_masters_per_user = 256,
                .max_stash_bytes_per_user = 0,
                .max_staged_files_per_user = 1000000,
                .max_jobs_per_user = 4,
        };
}

void config_done(Config *c) {
        strv_free(c->drives);
        free(c->stash_dir);
        free(c->default_drive);
        free(c->bus_address);
        *c = (Config) {};
}

int config_add_drive(Config *c, const char *address) {
        size_t n = 0;
        char **l;

        if (!address || !*address)
                return -EINVAL;
        while (c->drives && c->drives[n])
                n++;
        l = realloc(c->drives, (n + 2) * sizeof(char *));
        if (!l)
                return -ENOMEM;
        c->drives = l;
        l[n] = strdup(address);
        if (!l[n])
                return -ENOMEM;
        l[n + 1] = NULL;
        return 0;
}

typedef struct Unit {
        const char *suffix;
        uint64_t factor;
} Unit;

/* A decimal number followed by one of the units' suffixes. */
static int parse_with_units(const char *s, const Unit *units, size_t n_units, uint64_t *ret) {
        char *end;
        unsigned long long v;

        if (!s || !isdigit((unsigned char) *s))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0)
                return -errno;
        for (size_t i = 0; i < n_units; i++)
                if (streq(end, units[i].suffix)) {
                        if (v > UINT64_MAX / units[i].factor)
                                return -ERANGE;
                        *ret = v * units[i].factor;
                        return 0;
                }
        return -EINVAL;
}

int config_parse_timespan(const char *s, uint64_t *ret_usec) {
        static const Unit units[] = {
                { "ms", 1000ULL }, { "s", 1000000ULL }, { "sec", 1000000ULL }, { "", 1000000ULL },
                { "m", 60000000ULL }, { "min", 60000000ULL }, { "h", 3600000000ULL },
        };

        return parse_with_units(s, units, ELEMENTSOF(units), ret_usec);
}

int config_parse_size(const char *s, uint64_t *ret_bytes) {
        static const Unit units[] = {
                { "", 1 }, { "K", 1ULL << 10 }, { "M", 1ULL << 20 }, { "G", 1ULL << 30 }, { "T", 1ULL << 40 },
        };

        return parse_with_units(s, units, ELEMENTSOF(units), ret_bytes);
}

static int parse_bool(const char *v) {
        if (streq(v, "yes") || streq(v, "true") || streq(v, "1") || streq(v, "on"))
                return 1;
        if (streq(v, "no") || streq(v, "false") || streq(v, "0") || streq(v, "off"))
                return 0;
        return -EINVAL;
}

static char *strip(char *s) {
        char *e;

        while (isspace((unsigned char) *s))
                s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char) e[-1]))
                *--e = 0;
        return s;
}

static int set_string(char **field, const char *v) {
        char *copy = *v ? strdup(v) : NULL;

        if (*v && !copy)
                return -ENOMEM;
        free(*field);
        *field = copy;
        return 0;
}

static int parse_uint(const char *v, unsigned min, unsigned max, unsigned *ret) {
        char *end;
        unsigned long n;

        errno = 0;
        n = strtoul(v, &end, 10);
        if (errno || end == v || *end || n < min || n > max)
                return -EINVAL;
        *ret = (unsigned) n;
        return 0;
}

static int config_set(Config *c, const char *key, const char *v) {
        int r;

        if (streq(key, "Drive")) {
                if (!*v) {      /* an empty assignment resets the list */
                        strv_free(c->drives);
                        c->drives = NULL;
                        return 0;
                }
                return config_add_drive(c, v);
        }
        if (streq(key, "Scan")) {
                r = parse_bool(v);
                if (r < 0)
                        return r;
                c->scan = r;
                return 0;
        }
        if (streq(key, "DefaultDrive"))
                return set_string(&c->default_drive, v);
        if (streq(key, "StashDirectory")) {
                if (*v != '/')
                        return -EINVAL;
                return set_string(&c->stash_dir, v);
        }
        if (streq(key, "HotplugIntervalSec"))
                return config_parse_timespan(v, &c->hotplug_interval_usec);
        if (streq(key, "PeerIdleTimeoutSec"))
                return config_parse_timespan(v, &c->peer_idle_timeout_usec);
        if (streq(key, "IdleTimeoutSec"))
                return config_parse_timespan(v, &c->idle_timeout_usec);
        if (streq(key, "MaxDiscMastersPerClient"))
                return parse_uint(v, 1, 1024, &c->max_masters_per_client);
        if (streq(key, "MaxDiscMasters"))
                return parse_uint(v, 1, 65536, &c->max_masters);
        if (streq(key, "MaxClients"))
                return parse_uint(v, 1, 65536, &c->max_clients);
        if (streq(key, "MaxClientsPerUser"))
                return parse_uint(v, 1, 65536, &c->max_clients_per_user);
        if (streq(key, "MaxDiscMastersPerUser"))
                return parse_uint(v, 1, 65536, &c->max_masters_per_user);
        if (streq(key, "MaxStashBytesPerUser"))
                return config_parse_size(v, &c->max_stash_bytes_per_user);
        if (streq(key, "MaxStagedFilesPerUser"))
                return parse_uint(v, 1, 100000000, &c->max_staged_files_per_user);
        if (streq(key, "MaxJobsPerUser"))
                return parse_uint(v, 1, 1024, &c->max_jobs_per_user);
        return -ENOENT;
}

int config_parse_file(Config *c, const char *path, bool must_exist) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        size_t size = 0;
        unsigned lineno = 0;
        bool in_daemon = false;

        f = fopen(path, "re");
        if (!f) {
                if (errno == ENOENT && !must_exist)
                        return 0;
                return log_error_errno(errno, "Cannot open configuration file %s: %m", path);
        }

        while (getline(&line, &size, f) >= 0) {
                char *s = strip(line), *eq;
                int r;

                lineno++;
                if (!*s || *s == '#' || *s == ';')
                        continue;
                if (*s == '[') {
                        in_daemon = streq(s, "[Daemon]");
                        if (!in_daemon)
                                log_warning("%s:%u: unknown section %s, ignoring.", path, lineno, s);
                        continue;
                }
                if (!in_daemon)
                        continue;
                eq = strchr(s, '=');
                if (!eq) {
                        log_error("%s:%u: expected Key=Value.", path, lineno);
                        return -EINVAL;
                }
                *eq = 0;
                r = config_set(c, strip(s), strip(eq + 1));
                if (r == -ENOENT)
                        log_warning("%s:%u: unknown key %s, ignoring.", path, lineno, strip(s));
                else if (r < 0) {
                        log_error_errno(r, "%s:%u: invalid value for %s: %s", path, lineno, strip(s),
                                        strip(eq + 1));
                        return -EINVAL;
                }
        }
        return 0;
}
