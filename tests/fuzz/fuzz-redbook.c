/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzzes the Redbook (audio) master's block bookkeeping as master-redbook.c drives it: a
 * sequence of CreateAudioTrack (refused, as there, without room for a 4-second track), audio
 * blocks for the open track (as many as the input offers, clamped to what
 * redbook_available_blocks() says fits, as AddAudioTrackBlocks is),
 * CloseAudioTrack and changes of the recorder's AudioGapSize, on a disc of a size from the
 * input. The oracle is a list of the tracks' lengths. Invariants: creating is refused exactly
 * while a track is open (-EBUSY) or 99 are there (-E2BIG); closing exactly when none is open
 * (-ENOENT) or the open one is shorter than 4 s (-EMSGSIZE, and it stays open); used, gap and
 * needed blocks are the model's sums; while the gap stays what it was, what was added never
 * takes more than the disc holds, and "available" is exactly the rest (for a new track, the rest
 * after its gap); redbook_clear() removes every track's stash file once.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/redbook.h"
#include "log.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct Input {
        const uint8_t *data;
        size_t size;
} Input;

static uint64_t take(Input *in, unsigned bytes) {
        uint64_t v = 0;

        for (unsigned i = 0; i < bytes; i++)
                if (in->size > 0) {
                        v |= (uint64_t) in->data[0] << (8 * i);
                        in->data++;
                        in->size--;
                }
        return v;
}

static void on_remove(const char *path, void *userdata) {
        unsigned *removed = userdata;
        unsigned i;

        if (sscanf(path, "track-%u", &i) != 1 || i >= REDBOOK_MAX_TRACKS || removed[i]++ != 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint64_t model[REDBOOK_MAX_TRACKS], total, used, fits;
        unsigned removed[REDBOOK_MAX_TRACKS] = {}, gap;
        Input in = { data, size };
        bool open = false, gap_grew = false;
        size_t n = 0;
        Redbook rb;
        int r;

        log_set_max_level(LOG_EMERG - 1);
        redbook_init(&rb);
        /* Up to 2^24 blocks: 80-minute CDs (360,000) and the largest image files alike. */
        total = take(&in, 3);
        gap = take(&in, 1) % 226;

        while (in.size > 0) {
                uint8_t op = take(&in, 1);

                switch (op % 4) {
                case 0: {       /* CreateAudioTrack */
                        char *path;

                        r = redbook_check_create(&rb);
                        if (r != (open ? -EBUSY : n >= REDBOOK_MAX_TRACKS ? -E2BIG : 0))
                                abort();
                        if (r < 0)
                                break;
                        /* master_create_audio_track(): DISCFULL without room for 4 s. */
                        if (redbook_available_blocks(&rb, total, gap) < REDBOOK_MIN_TRACK_BLOCKS)
                                break;
                        if (asprintf(&path, "track-%zu", n) < 0)
                                abort();
                        if (redbook_add_track(&rb, path, -1, (int32_t) (take(&in, 4) & INT32_MAX)) < 0)
                                abort();
                        model[n++] = 0;
                        open = true;
                        break;
                }
                case 1: {       /* AddAudioTrackBlocks: as many as fit */
                        uint64_t want = take(&in, 3), room = redbook_available_blocks(&rb, total, gap);

                        if (!open)
                                break;
                        redbook_track_grew(&rb, MIN(want, room));
                        model[n - 1] += MIN(want, room);
                        break;
                }
                case 2:         /* CloseAudioTrack */
                        r = redbook_check_close(&rb);
                        if (r != (!open ? -ENOENT : model[n - 1] < REDBOOK_MIN_TRACK_BLOCKS ? -EMSGSIZE : 0))
                                abort();
                        if (r == 0) {
                                redbook_close_track(&rb);
                                open = false;
                        }
                        break;
                default: {      /* SetRecorderProperties' AudioGapSize */
                        unsigned g = take(&in, 1) % 226;

                        gap_grew = gap_grew || g > gap;
                        gap = g;
                        break;
                }
                }

                used = 0;
                for (size_t i = 0; i < n; i++)
                        used += model[i];
                if (rb.n != n || rb.track_open != open || redbook_used_blocks(&rb) != used ||
                    redbook_gap_blocks(&rb, gap) != (n > 1 ? (uint64_t) gap * (n - 1) : 0) ||
                    redbook_needed_blocks(&rb, gap) != used + redbook_gap_blocks(&rb, gap))
                        abort();
                if (gap_grew)
                        continue;
                /* The gaps never shrank what was staged: it all still fits. */
                if (redbook_needed_blocks(&rb, gap) > total)
                        abort();
                fits = total - redbook_needed_blocks(&rb, gap);
                if (!open)
                        fits = n >= REDBOOK_MAX_TRACKS ? 0 : n > 0 ? (fits > gap ? fits - gap : 0) : fits;
                if (redbook_available_blocks(&rb, total, gap) != fits)
                        abort();
        }

        redbook_clear(&rb, on_remove, removed);
        for (size_t i = 0; i < REDBOOK_MAX_TRACKS; i++)
                if (removed[i] != (i < n))
                        abort();
        return 0;
}
