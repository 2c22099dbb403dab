/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The configuration file parser. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/config.h"
#include "macro.h"
#include "tap.h"

static char *write_temp(const char *text) {
        char *path = strdup("/tmp/test-config-XXXXXX");
        int fd = mkstemp(path);
        FILE *f = fdopen(fd, "w");

        fputs(text, f);
        fclose(f);
        return path;
}

int main(void) {
        Config c;
        uint64_t u;
        char *p;

        config_init(&c);
        p = write_temp("# comment\n[Daemon]\nDrive=stdio:/tmp/a.iso\nDrive = /dev/sr1 \nScan=no\n"
                       "StashDirectory=/srv/stash\nIdleTimeoutSec=2min\nMaxDiscMastersPerClient=3\n"
                       "UnknownKey=1\n[Other]\nDrive=ignored\n");
        CHECK(config_parse_file(&c, p, true) == 0, "valid file parses");
        CHECK(c.drives && streq(c.drives[0], "stdio:/tmp/a.iso") && streq(c.drives[1], "/dev/sr1") && !c.drives[2],
              "two drives, whitespace stripped, other sections ignored");
        CHECK(!c.scan, "Scan=no");
        CHECK(streq(c.stash_dir, "/srv/stash"), "StashDirectory");
        CHECK(c.idle_timeout_usec == 120ULL * 1000000, "IdleTimeoutSec=2min");
        CHECK(c.max_masters_per_client == 3, "MaxDiscMastersPerClient");
        unlink(p);
        free(p);
        config_done(&c);

        config_init(&c);
        p = write_temp("[Daemon]\nMaxClientsPerUser=5\nMaxDiscMastersPerUser=6\nMaxStashBytesPerUser=2G\n"
                       "MaxStagedFilesPerUser=7\nMaxJobsPerUser=1\nPeerIdleTimeoutSec=30s\nMaxDiscMasters=9\n");
        CHECK(config_parse_file(&c, p, true) == 0 && c.max_clients_per_user == 5 &&
              c.max_masters_per_user == 6 && c.max_stash_bytes_per_user == 2ULL << 30 &&
              c.max_staged_files_per_user == 7 && c.max_jobs_per_user == 1 &&
              c.peer_idle_timeout_usec == 30000000ULL && c.max_masters == 9,
              "the per-user limits, PeerIdleTimeoutSec and MaxDiscMasters");
        unlink(p);
        free(p);
        p = write_temp("[Daemon]\nMaxStashBytesPerUser=2X\n");
        CHECK(config_parse_file(&c, p, true) == -EINVAL, "a size with an unknown suffix is refused");
        unlink(p);
        free(p);
        {
                uint64_t b = 0;

                CHECK(config_parse_size("512K", &b) == 0 && b == 512 * 1024 &&
                      config_parse_size("3", &b) == 0 && b == 3 &&
                      config_parse_size("1T", &b) == 0 && b == 1ULL << 40 &&
                      config_parse_size("99999999999T", &b) == -ERANGE && config_parse_size("-1", &b) < 0,
                      "config_parse_size: K, M, G, T; overflow and signs refused");
        }
        p = write_temp("[Daemon]\nStashDirectory=relative\n");
        CHECK(config_parse_file(&c, p, true) == -EINVAL, "relative stash directory is refused");
        unlink(p);
        free(p);
        p = write_temp("[Daemon]\nNoEquals\n");
        CHECK(config_parse_file(&c, p, true) == -EINVAL, "a line without = is refused");
        unlink(p);
        free(p);
        p = write_temp("[Daemon]\nMaxDiscMastersPerClient=0\n");
        CHECK(config_parse_file(&c, p, true) == -EINVAL, "a limit of 0 is refused");
        unlink(p);
        free(p);
        p = write_temp("[Daemon]\nDrive=stdio:/a\nDrive=\nDrive=stdio:/b\n");
        CHECK(config_parse_file(&c, p, true) == 0 && streq(c.drives[0], "stdio:/b") && !c.drives[1],
              "an empty Drive= resets the list");
        unlink(p);
        free(p);
        CHECK(config_parse_file(&c, "/nonexistent/imapid.conf", false) == 0, "a missing default file is fine");
        CHECK(config_parse_file(&c, "/nonexistent/imapid.conf", true) < 0, "a missing explicit file is an error");
        config_done(&c);

        CHECK(config_parse_timespan("30", &u) == 0 && u == 30000000ULL, "30 is seconds");
        CHECK(config_parse_timespan("500ms", &u) == 0 && u == 500000ULL, "500ms");
        CHECK(config_parse_timespan("1h", &u) == 0 && u == 3600000000ULL, "1h");
        CHECK(config_parse_timespan("-1", &u) < 0, "negative refused");
        CHECK(config_parse_timespan("5 parsecs", &u) < 0, "unknown unit refused");
        CHECK(config_parse_timespan("99999999999999999999", &u) < 0, "overflow refused");
        return tap_done();
}
