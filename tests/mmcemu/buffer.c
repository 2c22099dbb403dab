/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The drive's write buffer.  WRITE commands fill it; once it is full the
 * "laser" starts and drains it at the modelled write rate.  If it runs dry
 * while a track is being written the drive either pauses (BURN-Free, page
 * 05h BUFE set) or fails the next WRITE with 3/0C/09 LOSS OF STREAMING,
 * as MMC-6 7.5.4.2 describes for BUFE=0.  When the host is faster than the
 * write rate, WRITE blocks until there is room, as a real drive's does.
 * A rate of 0 means an infinitely fast drive: the buffer never fills.
 *
 * With a record file (buffer-record), every WRITE appends a line "T FILL CAPACITY STATE": T on
 * CLOCK_MONOTONIC in seconds, FILL the bytes in the buffer when the WRITE arrived (after what
 * drained meanwhile, before the WRITE's data), STATE F while filling, D while the laser drains
 * it; a line with U marks the moment it ran dry without BURN-Free, one with S a SYNCHRONIZE
 * CACHE, one with R the fill that a READ BUFFER CAPACITY reported. Benchmarks and tests compare
 * a writer's own report of the drive buffer with this record.
 */
#include <math.h>
#include <time.h>

#include "emu.h"
#include "sense.h"

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_for(double s) {
        struct timespec ts;

        if (s <= 0)
                return;
        ts.tv_sec = (time_t) s;
        ts.tv_nsec = (long) ((s - ts.tv_sec) * 1e9);
        nanosleep(&ts, NULL);
}

static void record(WriteBuffer *b, char state) {
        if (b->record)
                fprintf(b->record, "%.6f %.0f %llu %c\n", b->last, b->fill, (unsigned long long) b->capacity, state);
}

void buffer_init(WriteBuffer *b, int kib, int rate_kbs, FILE *record_file) {
        *b = (WriteBuffer) {
                .capacity = (uint64_t) kib * 1024,
                .rate = rate_kbs * 1000.0,
                .last = now(),
                .record = record_file,
        };
}

void buffer_update(WriteBuffer *b, bool bufe) {
        double t = now();

        if (b->rate <= 0) {
                b->fill = 0;
                b->last = t;
                return;
        }
        if (b->draining) {
                b->fill -= b->rate * (t - b->last);
                if (b->fill <= 0) {
                        b->fill = 0;
                        b->draining = false;
                        if (!bufe && !b->underrun) {
                                b->underrun = true;
                                b->last = t;
                                record(b, 'U');
                        }
                }
        }
        b->last = t;
}

uint64_t buffer_free(WriteBuffer *b, bool bufe) {
        buffer_update(b, bufe);
        return b->capacity - (uint64_t) fmin(b->fill, (double) b->capacity);
}

uint64_t buffer_report(WriteBuffer *b, bool bufe) {
        uint64_t free_bytes = buffer_free(b, bufe);

        record(b, 'R');
        return free_bytes;
}

/* Returns a sense code (S_LOSS_OF_STREAMING) or 0. */
int buffer_add(WriteBuffer *b, size_t bytes, bool bufe) {
        buffer_update(b, bufe);
        record(b, b->draining ? 'D' : 'F');
        if (b->underrun)
                return S_LOSS_OF_STREAMING;
        if (b->rate <= 0)
                return 0;
        if (b->fill + bytes > b->capacity) {
                /* Full: the drive starts recording and the host waits for room. */
                b->draining = true;
                sleep_for((b->fill + bytes - b->capacity) / b->rate);
                buffer_update(b, bufe);
                if (b->underrun)
                        return S_LOSS_OF_STREAMING;
        }
        b->fill += bytes;
        if (b->fill >= b->capacity)
                b->draining = true;
        return 0;
}

/* A new modelled rate: what drained until now did so at the old one. */
void buffer_set_rate(WriteBuffer *b, int rate_kbs, bool bufe) {
        buffer_update(b, bufe);
        b->rate = rate_kbs * 1000.0;
        if (b->rate <= 0) {
                b->fill = 0;
                b->draining = false;
        }
}

/* SYNCHRONIZE CACHE: record what is left, then the track may end. */
void buffer_flush(WriteBuffer *b) {
        if (b->rate > 0 && b->fill > 0)
                sleep_for(b->fill / b->rate);
        b->fill = 0;
        b->draining = false;
        b->underrun = false;
        b->last = now();
        record(b, 'S');
}
