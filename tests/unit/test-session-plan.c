/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a burn does with each kind of disc: append, start anew, replace on request, or refuse by
 * name; and the same disc at RecordDisc as at SetActiveDiscRecorder. */

#include <string.h>

#include "core/session-plan.h"
#include "hresult.h"
#include "macro.h"
#include "tap.h"


static Recorder rec = { .id = (char *) "sr0" };

static void medium(unsigned profile, const char *name, MediaStatus status, bool random_access, MediaContent content) {
        rec.media = (MediaInfo) {
                .status = status,
                .profile = profile,
                .random_access = random_access,
                .content = content,
                .erasable = IN_SET(profile, 0x0Au, 0x13u, 0x14u, 0x1Au, 0x43u),
                .capacity = 100000,
                .free_blocks = 60000,
                .next_writable = 40000,
                .start_address = 30000,
        };
        snprintf(rec.media.profile_name, sizeof rec.media.profile_name, "%s", name);
        snprintf(rec.media.content_text, sizeof rec.media.content_text, "%s",
                 content == MEDIA_CONTENT_FOREIGN ? "data that is not an ISO 9660 file system" : "");
}

typedef int (*plan_fn)(const Recorder *rec, bool replace, SessionPlan *ret, ImapiError *error);

/* The error a plan gives, "" for none: of a data disc, or of an image (plan_image). */
static const char *plan_by(plan_fn fn, bool replace, SessionPlan *ret) {
        static char name[128];
        ImapiError e = IMAPI_ERROR_NULL;
        SessionPlan p = {};

        name[0] = 0;
        if (fn(&rec, replace, &p, &e) < 0)
                snprintf(name, sizeof name, "%s", hresult_lookup(e.hresult) ? hresult_lookup(e.hresult)->constant : "?");
        imapi_error_done(&e);
        if (ret)
                *ret = p;
        return name;
}

static const char *plan(bool replace, SessionPlan *ret) {
        return plan_by(session_plan_data, replace, ret);
}

static const char *plan_image(bool replace, SessionPlan *ret) {
        return plan_by(session_plan_image, replace, ret);
}

int main(void) {
        ImapiError e = IMAPI_ERROR_NULL;
        SessionPlan p, q;
        int k;

        /* Random-access media: sessions go after block 32, growing the file system. */
        medium(0x1A, "DVD+RW", MEDIA_STATUS_BLANK, true, MEDIA_CONTENT_NONE);
        CHECK(!*plan(false, &p) && p.mode == SESSION_NEW && p.random_access && p.start_lba == 32 && p.room == 100000 - 32,
              "a blank DVD+RW gets its first file system at block 32");
        medium(0x1A, "DVD+RW", MEDIA_STATUS_APPENDABLE, true, MEDIA_CONTENT_ISO9660);
        CHECK(!*plan(false, &p) && p.mode == SESSION_APPEND && p.import_lba == 0 && p.start_lba == 40000 &&
              p.room == 60000, "a DVD+RW with files grows after them, importing what the head points at");
        CHECK(!*plan(true, &p) && p.mode == SESSION_REPLACE && p.start_lba == 32,
              "replace writes a new file system at block 32");
        medium(0x43, "BD-RE", MEDIA_STATUS_CLOSED, true, MEDIA_CONTENT_FOREIGN);
        CHECK(strcmp(plan(false, NULL), "IMAPI_E_MEDIUM_INVALIDTYPE") == 0, "foreign data is not added to");
        CHECK(!*plan(true, &p) && p.mode == SESSION_REPLACE, "unless it is replaced");
        medium(0xFFFF, "stdio file", MEDIA_STATUS_APPENDABLE, true, MEDIA_CONTENT_DAMAGED);
        CHECK(strcmp(plan(false, NULL), "IMAPI_E_DISCINFO") == 0, "a damaged file system is refused");
        medium(0x43, "BD-RE", MEDIA_STATUS_BLANK, true, MEDIA_CONTENT_NONE);
        rec.media.unformatted = true;
        CHECK(strcmp(plan(false, NULL), "IMAPI_E_MEDIUM_INVALIDTYPE") == 0, "an unformatted BD-RE must be formatted");
        medium(0x1A, "DVD+RW", MEDIA_STATUS_BLANK, true, MEDIA_CONTENT_NONE);
        rec.media.unformatted = true;
        CHECK(!*plan(false, NULL), "a DVD+RW libburn formats by itself");

        /* Sequential media: a new session after the last one, never written over. */
        medium(0x11, "DVD-R", MEDIA_STATUS_BLANK, false, MEDIA_CONTENT_NONE);
        CHECK(!*plan(false, &p) && p.mode == SESSION_NEW && !p.random_access && p.start_lba == 40000 &&
              p.room == 60000, "a blank DVD-R is written where the drive says");
        CHECK(!*plan(true, &p) && p.mode == SESSION_NEW, "replace on a blank disc replaces nothing");
        medium(0x09, "CD-R", MEDIA_STATUS_APPENDABLE, false, MEDIA_CONTENT_ISO9660);
        CHECK(!*plan(false, &p) && p.mode == SESSION_APPEND && p.import_lba == 30000 && p.start_lba == 40000,
              "an appendable CD-R gets a session importing the last one");
        CHECK(strcmp(plan(true, NULL), "IMAPI_E_MEDIUM_INVALIDTYPE") == 0, "and cannot be written over");
        medium(0x09, "CD-R", MEDIA_STATUS_APPENDABLE, false, MEDIA_CONTENT_FOREIGN);
        CHECK(strcmp(plan(false, NULL), "IMAPI_E_MEDIUM_INVALIDTYPE") == 0, "audio or other data is not added to");
        medium(0x11, "DVD-R", MEDIA_STATUS_APPENDABLE, false, MEDIA_CONTENT_UNREADABLE);
        CHECK(strcmp(plan(false, NULL), "IMAPI_E_DISCINFO") == 0, "an unreadable last session is refused");
        medium(0x0A, "CD-RW", MEDIA_STATUS_CLOSED, false, MEDIA_CONTENT_NONE);
        CHECK(strcmp(plan(false, NULL), "IMAPI_E_DISCFULL") == 0, "a closed disc takes nothing more");
        medium(0x08, "CD-ROM", MEDIA_STATUS_CLOSED, false, MEDIA_CONTENT_NONE);
        CHECK(strcmp(plan(true, NULL), "IMAPI_E_MEDIUM_INVALIDTYPE") == 0, "a pressed disc is read-only");
        medium(0, "", MEDIA_STATUS_NONE, false, MEDIA_CONTENT_NONE);
        CHECK(strcmp(plan(false, NULL), "IMAPI_E_MEDIUM_NOTPRESENT") == 0, "no disc, no plan");

        /* Audio needs a blank CD. */
        medium(0x09, "CD-R", MEDIA_STATUS_BLANK, false, MEDIA_CONTENT_NONE);
        CHECK(session_plan_audio(&rec, &p, &e) >= 0 && p.mode == SESSION_NEW, "audio on a blank CD-R");
        medium(0x11, "DVD-R", MEDIA_STATUS_BLANK, false, MEDIA_CONTENT_NONE);
        k = session_plan_audio(&rec, &p, &e);
        CHECK(k < 0 && e.hresult == IMAPI_E_MEDIUM_INVALIDTYPE, "but not on a DVD-R");
        imapi_error_done(&e);

        /* An image is a whole disc, from block 0 of a blank one. */
        medium(0x1A, "DVD+RW", MEDIA_STATUS_BLANK, true, MEDIA_CONTENT_NONE);
        CHECK(!*plan_image(false, &p) && p.mode == SESSION_NEW && p.start_lba == 0 && p.room == 100000,
              "an image goes to block 0 of a blank DVD+RW, not to block 32");
        medium(0x43, "BD-RE", MEDIA_STATUS_APPENDABLE, true, MEDIA_CONTENT_ISO9660);
        CHECK(strcmp(plan_image(false, NULL), "IMAPI_E_MEDIUM_INVALIDTYPE") == 0,
              "an image is not appended to a file system");
        CHECK(!*plan_image(true, &p) && p.mode == SESSION_REPLACE && p.start_lba == 0 && p.room == 100000,
              "with replace it is written over it, from block 0");
        medium(0x11, "DVD-R", MEDIA_STATUS_BLANK, false, MEDIA_CONTENT_NONE);
        rec.media.next_writable = 0;
        CHECK(!*plan_image(false, &p) && p.mode == SESSION_NEW && p.room == 60000, "a blank DVD-R takes an image");
        medium(0x09, "CD-R", MEDIA_STATUS_APPENDABLE, false, MEDIA_CONTENT_ISO9660);
        CHECK(strcmp(plan_image(true, NULL), "IMAPI_E_MEDIUM_INVALIDTYPE") == 0,
              "an appendable CD-R does not, replace or not");
        medium(0x41, "BD-R", MEDIA_STATUS_CLOSED, false, MEDIA_CONTENT_ISO9660);
        CHECK(strcmp(plan_image(false, NULL), "IMAPI_E_DISCFULL") == 0, "a closed BD-R is full");
        medium(0x08, "CD-ROM", MEDIA_STATUS_CLOSED, false, MEDIA_CONTENT_ISO9660);
        CHECK(strcmp(plan_image(true, NULL), "IMAPI_E_MEDIUM_INVALIDTYPE") == 0, "a pressed disc is read-only");

        /* A bootable disc: only as the medium's first file system. */
        medium(0x09, "CD-R", MEDIA_STATUS_BLANK, false, MEDIA_CONTENT_NONE);
        (void) plan(false, &p);
        CHECK(session_plan_check_boot(&rec, &p, &e) >= 0, "a blank CD-R boots");
        medium(0x09, "CD-R", MEDIA_STATUS_APPENDABLE, false, MEDIA_CONTENT_ISO9660);
        (void) plan(false, &p);
        k = session_plan_check_boot(&rec, &p, &e);
        CHECK(k < 0 && e.hresult == IMAPI_E_BOOTIMAGE_AND_NONBLANK_DISC, "a CD-R with a session does not");
        imapi_error_done(&e);
        medium(0x1A, "DVD+RW", MEDIA_STATUS_APPENDABLE, true, MEDIA_CONTENT_ISO9660);
        (void) plan(false, &p);
        k = session_plan_check_boot(&rec, &p, &e);
        CHECK(k < 0 && e.hresult == IMAPI_E_BOOTIMAGE_AND_NONBLANK_DISC && strstr(e.message, "--replace"),
              "nor a DVD+RW with a file system, which replace can write over");
        imapi_error_done(&e);
        (void) plan(true, &p);
        CHECK(session_plan_check_boot(&rec, &p, &e) >= 0, "a replaced file system boots");

        /* The disc of SetActiveDiscRecorder at RecordDisc. */
        medium(0x1A, "DVD+RW", MEDIA_STATUS_APPENDABLE, true, MEDIA_CONTENT_ISO9660);
        (void) plan(false, &p);
        q = p;
        CHECK(session_plan_check_same(&rec, &p, &q, &e) >= 0, "the same disc is the same");
        q.start_lba += 32;
        CHECK(session_plan_check_same(&rec, &p, &q, &e) < 0 && e.hresult == IMAPI_E_WRONGDISC,
              "one with another last session is not");
        imapi_error_done(&e);
        q.mode = SESSION_REPLACE;
        CHECK(session_plan_check_same(&rec, &p, &q, &e) >= 0, "but replacing takes any disc");
        p.mode = SESSION_NEW;
        q.mode = SESSION_APPEND;
        CHECK(session_plan_check_same(&rec, &p, &q, &e) < 0 && e.hresult == IMAPI_E_WRONGDISC,
              "a blank disc that is no longer blank is another disc");
        imapi_error_done(&e);
        return tap_done();
}
