/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The rules for what a burn may do with a disc (session-plan.h). */

#include <errno.h>

#include <imapi/imapierror.h>

#include "hresult.h"
#include "media/isohead.h"
#include "macro.h"
#include "core/session-plan.h"

#define HOW_TO_REPLACE "to write a new file system over it, burn with the option replace (imapictl burn --replace)"

static const char *medium_name(const MediaInfo *mi) {
        return mi->profile_name[0] ? mi->profile_name : "disc";
}

const char *session_mode_to_string(SessionMode m) {
        return m == SESSION_APPEND ? "a new session" : m == SESSION_REPLACE ? "a new file system in place of the old" :
               "a new file system";
}

/* What no burn can use, data or audio. */
static int check_present(const Recorder *rec, ImapiError *error) {
        const MediaInfo *mi = &rec->media;

        if (IN_SET(mi->status, MEDIA_STATUS_NONE, MEDIA_STATUS_UNKNOWN))
                return imapi_error_set(error, IMAPI_E_MEDIUM_NOTPRESENT, "There is no disc in recorder %s.",
                                       rec->id);
        if (drive_profile_is_rom(mi->profile))
                return imapi_error_set(error, IMAPI_E_MEDIUM_INVALIDTYPE,
                                       "The disc in recorder %s (%s) is read-only.",
                                         rec->id, mi->profile_name);
        if (mi->status == MEDIA_STATUS_UNSUITABLE)
                return imapi_error_set(error, IMAPI_E_MEDIUM_INVALIDTYPE,
                                       "The disc in recorder %s (%s) cannot be written.",
                                         rec->id, mi->profile_name[0] ? mi->profile_name : "unknown type");
        return 0;
}

/* The last session, or the whole of a random-access medium, holds what imapid cannot add to. */
static int cannot_add(const Recorder *rec, const char *how, ImapiError *error) {
        const MediaInfo *mi = &rec->media;
        uint32_t hr = mi->content == MEDIA_CONTENT_FOREIGN ? IMAPI_E_MEDIUM_INVALIDTYPE : IMAPI_E_DISCINFO;

        return imapi_error_set(error, hr,
                               "The %s in recorder %s holds %s, which imapid cannot add a session to; %s.",
                                 medium_name(mi), rec->id, mi->content_text[0] ? mi->content_text : "unknown data",
                                 how);
}

static int plan_random_access(const Recorder *rec, bool replace, SessionPlan *p, ImapiError *error) {
        const MediaInfo *mi = &rec->media;

        *p = (SessionPlan) { .random_access = true, .start_lba = ISOHEAD_FIRST_SESSION };
        /* libburn formats a DVD+RW by itself when it first writes it; other media it refuses. */
        if (mi->unformatted && mi->profile != 0x1A)
                return imapi_error_set(error, IMAPI_E_MEDIUM_INVALIDTYPE,
                                         "The %s in recorder %s is not formatted; format it first "
                                         "(Recorder.Erase, imapictl erase %s).", medium_name(mi), rec->id, rec->id);
        if (replace)
                p->mode = SESSION_REPLACE;
        else
                switch (mi->content) {
                case MEDIA_CONTENT_NONE:
                        p->mode = SESSION_NEW;
                        break;
                case MEDIA_CONTENT_ISO9660:
                        /* Readers find the newest tree through the head: that is what grows. */
                        p->mode = SESSION_APPEND;
                        p->import_lba = 0;
                        p->start_lba = mi->next_writable;
                        break;
                default:
                        return cannot_add(rec, HOW_TO_REPLACE, error);
                }
        p->room = mi->capacity > p->start_lba ? mi->capacity - p->start_lba : 0;
        return 0;
}

static int plan_sequential(const Recorder *rec, bool replace, SessionPlan *p, ImapiError *error) {
        const MediaInfo *mi = &rec->media;
        const char *erase = mi->erasable ? "; erase it first to use it again" : "";

        *p = (SessionPlan) { .start_lba = mi->next_writable, .room = mi->free_blocks };
        if (mi->status == MEDIA_STATUS_BLANK) {
                p->mode = SESSION_NEW;
                return 0;
        }
        if (mi->status == MEDIA_STATUS_CLOSED)
                return imapi_error_set(error, IMAPI_E_DISCFULL,
                                       "The %s in recorder %s is closed and takes no more "
                                         "data%s.", medium_name(mi), rec->id, erase);
        if (replace)
                return imapi_error_set(error, IMAPI_E_MEDIUM_INVALIDTYPE,
                                         "What the %s in recorder %s holds cannot be written over: sessions are only "
                                         "added to it%s.", medium_name(mi), rec->id,
                                         mi->erasable ? "; erase it first to start over" : "");
        if (mi->content != MEDIA_CONTENT_ISO9660)
                return cannot_add(rec, mi->erasable ? "erase it first to use it again" :
                                  "a write-once disc cannot be written over", error);
        p->mode = SESSION_APPEND;
        p->import_lba = mi->start_address;
        return 0;
}

int session_plan_data(const Recorder *rec, bool replace, SessionPlan *ret, ImapiError *error) {
        SessionPlan p;
        int k;

        k = check_present(rec, error);
        if (k < 0)
                return k;
        if (rec->media.random_access)
                k = plan_random_access(rec, replace, &p, error);
        else
                k = plan_sequential(rec, replace, &p, error);
        if (k < 0)
                return k;
        *ret = p;
        return 0;
}

int session_plan_audio(const Recorder *rec, SessionPlan *ret, ImapiError *error) {
        const MediaInfo *mi = &rec->media;
        int k;

        k = check_present(rec, error);
        if (k < 0)
                return k;
        if (!IN_SET(mi->profile, 0x09u, 0x0Au))
                return imapi_error_set(error, IMAPI_E_MEDIUM_INVALIDTYPE,
                                         "Audio needs a blank CD-R or CD-RW; the disc in recorder %s is a %s.", rec->id,
                                         mi->profile_name[0] ? mi->profile_name : "disc of unknown type");
        if (mi->status == MEDIA_STATUS_CLOSED && !mi->erasable)
                return imapi_error_set(error, IMAPI_E_DISCFULL,
                                       "The %s in recorder %s is closed and takes no more "
                                         "data.", medium_name(mi), rec->id);
        if (mi->status != MEDIA_STATUS_BLANK)
                return imapi_error_set(error, IMAPI_E_MEDIUM_INVALIDTYPE,
                                         "Audio needs a blank disc; the %s in recorder %s is not blank%s.",
                                         mi->profile_name, rec->id, mi->erasable ? " (erase it first)" : "");
        *ret = (SessionPlan) { .mode = SESSION_NEW, .start_lba = mi->next_writable, .room = mi->free_blocks };
        return 0;
}

int session_plan_image(const Recorder *rec, bool replace, SessionPlan *ret, ImapiError *error) {
        const MediaInfo *mi = &rec->media;
        bool blank;
        int k;

        k = check_present(rec, error);
        if (k < 0)
                return k;
        if (mi->random_access && mi->unformatted && mi->profile != 0x1A)
                return imapi_error_set(error, IMAPI_E_MEDIUM_INVALIDTYPE,
                                       "The %s in recorder %s is not formatted; format it first "
                                       "(Recorder.Erase, imapictl erase %s).", medium_name(mi), rec->id, rec->id);
        blank = mi->random_access ? mi->content == MEDIA_CONTENT_NONE : mi->status == MEDIA_STATUS_BLANK;
        if (!blank && !(replace && mi->random_access)) {
                if (!mi->random_access && mi->status == MEDIA_STATUS_CLOSED)
                        return imapi_error_set(error, IMAPI_E_DISCFULL,
                                               "The %s in recorder %s is closed and takes no more data%s.",
                                               medium_name(mi), rec->id,
                                               mi->erasable ? "; erase it first to use it again" : "");
                /* An image's file system points at blocks from 0 on: it is a whole disc, never a
                 * later session. */
                return imapi_error_set(error, IMAPI_E_MEDIUM_INVALIDTYPE,
                                       "A disc image is written to a blank disc, from its first block; the %s in "
                                       "recorder %s is not blank (it holds %s) and an image cannot be appended "
                                       "to it as a session; %s.", medium_name(mi), rec->id,
                                       mi->content_text[0] ? mi->content_text : "data",
                                       mi->random_access ? "burn with the option replace to write over it" :
                                       mi->erasable ? "erase it first" : "use a blank disc");
        }
        *ret = (SessionPlan) {
                .mode = blank ? SESSION_NEW : SESSION_REPLACE,
                .random_access = mi->random_access,
                .start_lba = 0,
                .room = mi->random_access ? mi->capacity : mi->free_blocks,
        };
        return 0;
}

int session_plan_check_boot(const Recorder *rec, const SessionPlan *p, ImapiError *error) {
        const MediaInfo *mi = &rec->media;

        if (p->mode != SESSION_APPEND)
                return 0;
        return imapi_error_set(error, IMAPI_E_BOOTIMAGE_AND_NONBLANK_DISC,
                               "A bootable disc needs a blank medium; the %s in recorder %s is not blank (it holds "
                               "%s), and a boot image cannot go into a later session; %s.", medium_name(mi), rec->id,
                               mi->content_text[0] ? mi->content_text : "data",
                               mi->random_access ? HOW_TO_REPLACE : mi->erasable ? "erase it first" :
                               "use a blank disc");
}

int session_plan_check_same(const Recorder *rec, const SessionPlan *then, const SessionPlan *now,
                            ImapiError *error) {
        if (now->mode == SESSION_REPLACE || then->mode == SESSION_REPLACE)
                return 0;
        if (then->mode == SESSION_APPEND &&
            (now->mode != SESSION_APPEND || now->import_lba != then->import_lba || now->start_lba != then->start_lba))
                return imapi_error_set(error, IMAPI_E_WRONGDISC,
                                       "The multi-session disc was removed from recorder %s.",
                                         rec->id);
        if (then->mode == SESSION_NEW && now->mode != SESSION_NEW)
                return imapi_error_set(error, IMAPI_E_WRONGDISC,
                                         "The disc in recorder %s is no longer the blank disc it was.", rec->id);
        return 0;
}
