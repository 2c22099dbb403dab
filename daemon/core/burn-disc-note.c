/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a burn that failed or was cancelled left on the disc, in a sentence for the job's message:
 * the user must not take a disc for blank, or for what it was, when it is not.
 *
 * Sequential media (CD-R/RW, DVD-R/RW, DVD+R, BD-R) keep whatever the drive wrote: a burn cut
 * short leaves an incomplete track or session there, as libburn's cancel does on a real drive,
 * and a write-once disc is then no longer blank for good. On random-access media the new
 * session's head is written last (burn-data.c), so a data burn stopped before it leaves the disc
 * showing what it did; only a replace gives up the old file system (its head is invalidated
 * before the write), and an image is written over block 0 from the start.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/burn-ops.h"
#include "macro.h"

/* Blocks from where the burn began, as the drive reports its tracks now. */
static uint64_t blocks_recorded(const MediaInfo *m, uint32_t start_lba) {
        uint64_t n = 0;

        for (size_t i = 0; i < m->n_readable; i++) {
                uint64_t from = MAX(m->readable[i].start, start_lba),
                         end = (uint64_t) m->readable[i].start + m->readable[i].blocks;

                if (end > from)
                        n += end - from;
        }
        return n;
}

_printf_(1, 2) static char *note(const char *fmt, ...) {
        char *s = NULL;
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vasprintf(&s, fmt, ap);
        va_end(ap);
        return k < 0 ? NULL : s;
}

static char *note_sequential(const Burn *b, BurnStage stage, const RecorderReadout *ro) {
        const char *id = b->recorder->id;
        const char *erase = b->recorder->media.erasable ? "; erasing it makes it blank again" : "";
        uint64_t blocks = ro->error >= 0 ? blocks_recorded(&ro->media, b->plan.start_lba) : 0;

        if (stage == BURN_STAGE_VERIFYING)
                return note("The disc in recorder %s holds the new session as it was written and is no "
                            "longer blank%s.", id, erase);
        if (ro->error >= 0 && ro->media.status == MEDIA_STATUS_BLANK)
                return note("Writing had started, but the disc in recorder %s still reads as blank.", id);
        if (blocks > 0)
                /* A CD written at once has its track's length in the TOC before its data: what
                 * the drive reports may be more than reached the disc. */
                return note("The disc in recorder %s now holds an incomplete session (the drive reports "
                            "%llu blocks) and is no longer blank%s.", id, (unsigned long long) blocks, erase);
        /* The drive could not be read again (gone, say): what was sent is all there is to go by. */
        return note("The disc in recorder %s now holds an incomplete session (%llu blocks had been sent "
                    "to the drive) and is no longer blank%s.", id,
                    (unsigned long long) atomic_load(&b->blocks_done), erase);
}

static char *note_random_access(const Burn *b, BurnStage stage) {
        const char *id = b->recorder->id;

        if (b->ops == &burn_image_ops && stage == BURN_STAGE_VERIFYING)
                return note("The disc in recorder %s holds the image as it was written.", id);
        if (b->ops == &burn_image_ops)
                return b->plan.mode == SESSION_REPLACE ?
                        note("The image was being written over what the disc in recorder %s held: that is "
                             "lost, and the disc holds part of the image.", id) :
                        note("The disc in recorder %s holds part of the image and is no longer blank.", id);
        if (b->plan.mode == SESSION_REPLACE)
                return stage == BURN_STAGE_VERIFYING ?
                        note("The disc in recorder %s holds the new file system as it was written; what it "
                             "held before was replaced, as asked.", id) :
                        note("What the disc in recorder %s held before was being replaced, as asked, and is "
                             "gone: the disc reads as blank.", id);
        if (stage == BURN_STAGE_VERIFYING)
                return note("The disc in recorder %s shows the new session as it was written.", id);
        if (stage == BURN_STAGE_CLOSING)
                return NULL;    /* the closing stage's own message says what the disc shows */
        return b->plan.mode == SESSION_APPEND ?
                note("What the disc in recorder %s held before is unchanged; the new session is not on it.", id) :
                note("The disc in recorder %s still reads as blank.", id);
}

char *burn_disc_note(const Burn *b, BurnStage stage, const RecorderReadout *ro) {
        if (!b->disc_touched)
                return note("The disc in recorder %s was not touched.", b->recorder->id);
        return b->plan.random_access ? note_random_access(b, stage) : note_sequential(b, stage, ro);
}
