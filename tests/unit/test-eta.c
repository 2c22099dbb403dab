/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* client/eta.c: no estimate until a phase has shown its pace, then one from that pace. */

#include <math.h>

#include "eta.h"
#include "tap.h"

#define SEC 1000000ULL

int main(void) {
        Eta e;
        double t;

        eta_init(&e);
        /* Building the image: 10 % of the job in 1 s. Extrapolating that from the start of the job
         * (imapid's ExpectedEndTime) would promise the end 9 s later. */
        t = eta_update(&e, "preparing", 0.00, 0);
        CHECK(isnan(t), "no estimate from one sample");
        t = eta_update(&e, "preparing", 0.10, 1 * SEC);
        CHECK(isnan(t), "none after 1 s either");

        /* Writing is slow: 1 % a second. */
        for (unsigned s = 0; s <= 2; s++)
                t = eta_update(&e, "writing", 0.10 + 0.01 * s, (2 + s) * SEC);
        CHECK(isnan(t), "a new phase starts without an estimate: %g", t);
        t = eta_update(&e, "writing", 0.14, 6 * SEC);
        CHECK(!isnan(t) && fabs(t - 86.0) < 0.5, "after 4 s of writing at 1 %%/s, 86 s left: %g", t);

        /* The pace halves: the window follows within its length. */
        for (unsigned s = 1; s <= 40; s++)
                t = eta_update(&e, "writing", 0.14 + 0.005 * s, (6 + s) * SEC);
        CHECK(!isnan(t) && fabs(t - (1.0 - 0.34) / 0.005) < 1.0, "at the new pace: %g s", t);

        /* A stall: no movement over the whole window means no honest number. */
        for (unsigned s = 1; s <= 25; s++)
                t = eta_update(&e, "writing", 0.34, (46 + s) * SEC);
        CHECK(isnan(t), "stalled: no estimate");

        t = eta_update(&e, "done", 1.0, 80 * SEC);
        CHECK(isnan(t), "done: nothing left to estimate");

        /* A clock that goes back is ignored. */
        eta_init(&e);
        eta_update(&e, "writing", 0.1, 10 * SEC);
        t = eta_update(&e, "writing", 0.2, 5 * SEC);
        CHECK(isnan(t) && e.n == 1, "a sample from the past is not recorded");

        return tap_done();
}
