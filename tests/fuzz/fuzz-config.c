/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzzes config_parse_file() with arbitrary bytes as /etc/imapid/imapid.conf, and the size and
 * timespan parsers with every value it holds. The file is the administrator's, not a client's,
 * but it is read by a daemon that runs as root at every start, so a bad line must be an error
 * and never a crash or a value out of range. Invariants: the result is 0 or -EINVAL; accepted
 * values are within the ranges config.c documents; a value that a size or timespan parser
 * accepts, written back in its unit, is accepted again with the same value.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/config.h"
#include "log.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_value(const char *v) {
        char again[32];
        uint64_t a, b;

        if (config_parse_size(v, &a) == 0) {
                (void) snprintf(again, sizeof(again), "%" PRIu64, a);
                if (config_parse_size(again, &b) != 0 || a != b)
                        abort();
        }
        if (config_parse_timespan(v, &a) == 0) {
                /* Every unit is a multiple of a millisecond. */
                if (a % 1000 != 0)
                        abort();
                (void) snprintf(again, sizeof(again), "%" PRIu64 "ms", a / 1000);
                if (config_parse_timespan(again, &b) != 0 || a != b)
                        abort();
        }
}

/* Every "Key=Value" line's value, as config.c would see it after stripping. */
static void check_values(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = strndup((const char *) data, size);
        char *saveptr = NULL;

        if (!text)
                return;
        for (char *line = strtok_r(text, "\n", &saveptr); line; line = strtok_r(NULL, "\n", &saveptr)) {
                char *eq = strchr(line, '='), *e;

                if (!eq)
                        continue;
                eq++;
                while (*eq == ' ' || *eq == '\t')
                        eq++;
                e = eq + strlen(eq);
                while (e > eq && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
                        *--e = 0;
                check_value(eq);
        }
}

static void check_config(const Config *c) {
        for (char **d = c->drives; d && *d; d++)
                if (!**d)
                        abort();
        if (!c->stash_dir || c->stash_dir[0] != '/')
                abort();
        if (c->default_drive && !c->default_drive[0])
                abort();
        if (c->max_masters_per_client < 1 || c->max_masters_per_client > 1024 ||
            c->max_masters < 1 || c->max_masters > 65536 ||
            c->max_clients < 1 || c->max_clients > 65536 ||
            c->max_clients_per_user < 1 || c->max_clients_per_user > 65536 ||
            c->max_masters_per_user < 1 || c->max_masters_per_user > 65536 ||
            c->max_staged_files_per_user < 1 || c->max_staged_files_per_user > 100000000 ||
            c->max_jobs_per_user < 1 || c->max_jobs_per_user > 1024)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_close_ int fd = -1;
        char path[64];
        Config c;
        int r;

        /* The file's messages are the administrator's to read, not the fuzzer's log. */
        log_set_max_level(LOG_EMERG - 1);

        fd = memfd_create("imapid.conf", MFD_CLOEXEC);
        if (fd < 0)
                return 0;
        if (size > 0 && write(fd, data, size) != (ssize_t) size)
                return 0;
        (void) snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

        config_init(&c);
        if (!c.stash_dir || !c.default_drive) {
                config_done(&c);
                return 0;       /* out of memory */
        }
        r = config_parse_file(&c, path, true);
        if (r != 0 && r != -EINVAL && r != -ENOMEM)
                abort();
        /* A refused file may have set some keys before the bad line: they must be in range too. */
        check_config(&c);
        config_done(&c);

        check_values(data, size);
        return 0;
}
