/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The time a job has left, from the pace of its current phase (eta.h). */

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "eta.h"
#include "macro.h"

void eta_init(Eta *e) {
        *e = (Eta) {};
}

static void eta_drop_oldest(Eta *e) {
        memmove(e->samples, e->samples + 1, (e->n - 1) * sizeof e->samples[0]);
        e->n--;
}

double eta_update(Eta *e, const char *phase, double fraction, uint64_t now_usec) {
        double pace, left;
        uint64_t span;

        phase = phase ?: "";
        /* Each phase has its own pace (building an image, writing, reading back). */
        if (strncmp(e->phase, phase, sizeof e->phase) != 0) {
                eta_init(e);
                snprintf(e->phase, sizeof e->phase, "%s", phase);
        }
        if (streq(phase, "done") || fraction >= 1.0)
                return NAN;

        if (e->n > 0 && now_usec < e->samples[e->n - 1].usec)
                return NAN;     /* the clock does not go back; ignore what would */
        if (e->n == ETA_SAMPLES_MAX)
                eta_drop_oldest(e);
        e->samples[e->n].usec = now_usec;
        e->samples[e->n].fraction = fraction;
        e->n++;
        /* Keep one sample older than the window, so that the window stays full. */
        while (e->n > 2 && now_usec - e->samples[1].usec >= ETA_WINDOW_USEC)
                eta_drop_oldest(e);

        span = now_usec - e->samples[0].usec;
        if (span < ETA_MIN_SPAN_USEC)
                return NAN;
        pace = (fraction - e->samples[0].fraction) / ((double) span / 1e6);
        if (!(pace > 0))
                return NAN;     /* no movement over the window: no honest number */
        left = (1.0 - fraction) / pace;
        return left;
}
