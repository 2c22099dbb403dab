/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The recorder's IMAPI media-type table and state, from what a drive read found. */

#include <imapi/imapi.h>

#include "core/client.h"
#include "core/recorder.h"
#include "macro.h"
#include "tap.h"

typedef struct MediaCase {
        const char *what;
        MediaStatus status;
        unsigned profile;
        bool erasable, is_file;
        int type, flags;
} MediaCase;

static void test_media_types(void) {
        static const MediaCase cases[] = {
                { "an empty drive", MEDIA_STATUS_NONE, 0, false, false, 0, 0 },
                { "a drive that cannot tell", MEDIA_STATUS_UNKNOWN, 0x09, false, false, 0, 0 },
                { "a blank CD-R", MEDIA_STATUS_BLANK, 0x09, false, false, MEDIA_CDDA_CDROM,
                  MEDIA_BLANK | MEDIA_WRITABLE },
                { "an appendable CD-R", MEDIA_STATUS_APPENDABLE, 0x09, false, false, MEDIA_CD_ROM_XA,
                  MEDIA_WRITABLE },
                { "a closed CD-RW", MEDIA_STATUS_CLOSED, 0x0A, true, false, MEDIA_CDDA_CDROM, MEDIA_RW },
                { "a blank CD-RW", MEDIA_STATUS_BLANK, 0x0A, true, false, MEDIA_CDDA_CDROM,
                  MEDIA_BLANK | MEDIA_WRITABLE | MEDIA_RW },
                { "a CD-ROM", MEDIA_STATUS_CLOSED, 0x08, false, false, MEDIA_CDDA_CDROM, 0 },
                { "a DVD+RW", MEDIA_STATUS_APPENDABLE, 0x1A, true, false, MEDIA_SPECIAL, MEDIA_WRITABLE | MEDIA_RW },
                { "a blank DVD-R", MEDIA_STATUS_BLANK, 0x11, false, false, MEDIA_SPECIAL,
                  MEDIA_BLANK | MEDIA_WRITABLE },
                { "a DVD-ROM", MEDIA_STATUS_CLOSED, 0x10, false, false, MEDIA_SPECIAL, 0 },
                { "a BD-R IMAPI cannot use", MEDIA_STATUS_UNSUITABLE, 0x41, false, false, MEDIA_SPECIAL,
                  MEDIA_FORMAT_UNUSABLE_BY_IMAPI },
                { "an empty image file", MEDIA_STATUS_BLANK, 0, true, true, MEDIA_SPECIAL,
                  MEDIA_BLANK | MEDIA_WRITABLE | MEDIA_RW },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const MediaCase *t = &cases[i];
                Recorder r = {
                        .media = { .status = t->status, .profile = t->profile, .erasable = t->erasable,
                                   .is_file = t->is_file },
                };
                int type = -1, flags = -1;

                recorder_media_type(&r, &type, &flags);
                CHECK(type == t->type && flags == t->flags, "QueryMediaType of %s: %d, 0x%x (got %d, 0x%x)",
                      t->what, t->type, t->flags, type, flags);
        }
}

static void test_recorder_state(void) {
        Client c = { .n_ref = 1 };
        Recorder r = {};

        CHECK(recorder_state(&r) == RECORDER_DOING_NOTHING, "an idle recorder does nothing");
        r.owner = &c;
        CHECK(recorder_state(&r) == RECORDER_OPENED, "one held through OpenExclusive is opened");
        r.busy = 1;
        CHECK(recorder_state(&r) == RECORDER_BURNING, "and one a job uses is burning");
}

int main(void) {
        test_media_types();
        test_recorder_state();
        return tap_done();
}
