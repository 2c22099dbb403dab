/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The time a job has left, estimated from the progress imapictl has seen over the last seconds of
 * the current phase. imapid's ExpectedEndTime extrapolates from the start of the whole job, so
 * that a fast first phase (building the image) makes it promise far too early an end; a phase's
 * own pace says more about what is left. Until a phase has moved for a few seconds there is no
 * estimate at all, rather than a wrong one.
 */
#pragma once

#include <stdint.h>

#define ETA_SAMPLES_MAX 128

typedef struct Eta {
        char phase[32];
        struct {
                uint64_t usec;
                double fraction;
        } samples[ETA_SAMPLES_MAX];
        unsigned n;
} Eta;

/* How long the progress must have been watched in a phase before an estimate is given. */
#define ETA_MIN_SPAN_USEC (3 * 1000 * 1000ULL)
/* The window the pace is measured over. */
#define ETA_WINDOW_USEC (20 * 1000 * 1000ULL)

void eta_init(Eta *e);
/* Records the job's progress (0..1 of the whole job) in phase at now_usec (CLOCK_MONOTONIC) and
 * returns the seconds left, or NAN while that cannot be told honestly. */
double eta_update(Eta *e, const char *phase, double fraction, uint64_t now_usec);
