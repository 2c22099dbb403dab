/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The limits derived from the fd budget: they always fit in it, and the unit's is enough. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/limits.h"
#include "macro.h"
#include "tap.h"

/* What the limits let clients hold at most, plus the reserve. */
static uint64_t spent(const Limits *l, const Config *c) {
        size_t n = 0;

        while (c->drives && c->drives[n])
                n++;
        return limits_reserved_fds(n + (c->default_drive ? 1 : 0)) +
               (uint64_t) LIMITS_MASTER_FDS * l->max_masters + (uint64_t) LIMITS_PEER_FDS * l->max_peers +
               l->max_call_fds;
}

/* The LimitNOFILE= of systemd/imapid.service.in. */
static uint64_t unit_limit(void) {
        const char *src = getenv("IMAPI_SRCDIR");
        char path[4096], line[512];
        uint64_t v = 0;
        FILE *f;

        snprintf(path, sizeof path, "%s/systemd/imapid.service.in", src ? src : ".");
        f = fopen(path, "re");
        if (!f)
                return 0;
        while (fgets(line, sizeof line, f))
                if (strncmp(line, "LimitNOFILE=", 12) == 0)
                        v = strtoull(line + 12, NULL, 10);
        fclose(f);
        return v;
}

int main(void) {
        Config c;
        Limits l;
        bool fits = true, ordered = true;
        uint64_t unit;
        int r;

        config_init(&c);

        r = limits_derive(&c, limits_needed_fds(&c), &l);
        CHECK(r == 0 && !l.clamped && l.max_masters == c.max_masters && l.max_peers == c.max_clients,
              "limits_needed_fds() (%llu) holds the configured maxima (%u masters, %u peers)",
              (unsigned long long) limits_needed_fds(&c), l.max_masters, l.max_peers);
        CHECK(l.max_call_fds >= (limits_needed_fds(&c) - limits_reserved_fds(1)) / 4,
              "and leaves at least a quarter of what is not reserved to calls in progress (%u fds)",
              l.max_call_fds);
        r = limits_derive(&c, limits_needed_fds(&c) - 1, &l);
        CHECK(r == 0 && l.clamped, "one fd less, and a limit is lowered");

        unit = unit_limit();
        r = limits_derive(&c, unit, &l);
        CHECK(unit >= limits_needed_fds(&c) && r == 0 && !l.clamped,
              "the unit's LimitNOFILE=%llu holds the default limits", (unsigned long long) unit);

        r = limits_derive(&c, 1024, &l);
        CHECK(r == 0 && l.clamped && l.max_masters < c.max_masters && l.max_masters > 0 && l.max_peers > 0,
              "the usual soft limit of 1024 serves %u disc masters and %u peers", l.max_masters, l.max_peers);

        CHECK(limits_derive(&c, limits_min_fds(&c) - 1, &l) == -EMFILE, "below limits_min_fds(): EMFILE");
        CHECK(limits_derive(&c, limits_min_fds(&c), &l) == 0 && l.max_masters > 0 && l.max_peers > 0 &&
              l.max_call_fds >= LIMITS_MIN_CALL_FDS,
              "at limits_min_fds(): one message of calls, and some masters and peers");

        /* Whatever the budget, what clients can hold never exceeds it, and more fds never mean
         * less. */
        Limits prev = {};
        for (uint64_t n = limits_min_fds(&c); n < 100000; n += 7) {
                if (limits_derive(&c, n, &l) < 0 || spent(&l, &c) > n)
                        fits = false;
                if (l.max_masters < prev.max_masters || l.max_peers < prev.max_peers)
                        ordered = false;
                prev = l;
        }
        CHECK(fits, "for every budget, the reserve and all limits together fit in it");
        CHECK(ordered, "and the limits grow with the budget");

        c.max_masters = 3;
        c.max_clients = 2;
        CHECK(limits_derive(&c, 100000, &l) == 0 && l.max_masters == 3 && l.max_peers == 2 && !l.clamped,
              "configured limits below the budget are kept");

        config_done(&c);
        return tap_done();
}
