/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A disc master: IDiscMaster and IJolietDiscMaster's state machine for one client. Open takes
 * a stash; a format and a recorder are chosen; content is staged; RecordDisc starts a burn
 * (burn.h). Owned by the client that created it: when the client goes away the master closes,
 * unless work runs, which then finishes and cleans up after itself.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "core/async.h"
#include "core/client.h"
#include "core/manager.h"
#include "core/redbook.h"
#include "core/session-plan.h"
#include "core/staging.h"
#include "imapi-error.h"
#include "jolietname.h"
#include "media/drive.h"

typedef struct Stash Stash;
typedef struct Burn Burn;
typedef struct AddBatch AddBatch;
typedef struct AudioAdd AudioAdd;
typedef struct FileCopy FileCopy;
typedef struct DiscRead DiscRead;

typedef enum MasterFormat {
        MASTER_FORMAT_NONE,
        MASTER_FORMAT_JOLIET,
        MASTER_FORMAT_REDBOOK,
        MASTER_FORMAT_IMAGE,    /* a disc image burned as it is (master-image.c) */
} MasterFormat;

/* At most this many (name, fd) entries in one AddData call: a bound on the fds held. */
#define MASTER_ADD_BATCH_MAX 256
/* The Joliet volume descriptor holds 16 UCS-2 characters (the ISO 9660 id is derived). */
#define JOLIET_VOLUME_NAME_MAX 16

struct Master {
        Manager *manager;
        unsigned id;
        Client *owner;          /* NULL once it is gone */
        bool opened;
        bool opening;           /* Open's stash is being made in a worker (calls that need an open
                                 * master fail with NOTOPENED meanwhile, a second Open with ALREADYOPEN) */
        bool burn_authorized;   /* the owner may burn it: asked at Open, before anything is staged */
        bool closing;           /* closed or owner gone while work was running */
        core_done_fn close_done; /* the Close to answer once the stash is removed */
        void *close_userdata;

        MasterFormat format;
        Recorder *recorder;     /* the active recorder */
        Stash *stash;

        /* What SetActiveDiscRecorder found the disc could take (session-plan.h). RecordDisc
         * makes the plan again from the disc it finds, and while plan_known it must be the same
         * disc (IMAPI_E_WRONGDISC). Changing the format, ClearFormatContent and a successful
         * burn forget it, as they end IMAPI's multi-session mode. */
        SessionPlan plan;
        bool plan_known;
        bool replace;           /* SetActiveDiscRecorder's replace option */
        uint32_t total_blocks;

        /* Joliet */
        Staging staging;
        char *volume_name;
        bool adapt_names;       /* StrictJolietNames off: Joliet names are adapted (jolietname.h) */
        AddBatch *adding;       /* an AddData whose copy runs (master-joliet.c) */
        FileCopy *boot_adding;  /* a SetBootImage whose copy runs (master-boot.c) */
        unsigned discarding;    /* staged content being deleted in a worker */
        unsigned preparing;     /* a call waiting for the active recorder to be read */

        Burn *burn;             /* the burns whose jobs run, newest first (burn.c: one, or one per
                                 * recorder of a RecordDiscTo) */
        unsigned burns_running; /* of those, not yet ended */
        bool burns_failed;      /* one of them failed: the staged content stays */

        /* Redbook (master-redbook.c) */
        Redbook redbook;
        AudioAdd *audio_adding; /* an AddAudioTrackBlocks whose write runs */

        /* Image (master-image.c): the image is the one entry of the staging, so that it is
         * cleared, handed to workers and deleted after a successful burn as Joliet's files are. */
        FileCopy *image_adding; /* a SetImage whose copy runs */
        DiscRead *reading;      /* a ReadDisc whose job runs (disc-read.c) */
};

/* Open makes the stash, staging or a burn runs, or the drive is being read: the master may not
 * change, and its close waits. */
static inline bool master_busy(const Master *m) {
        return m->opening || m->adding || m->boot_adding || m->burn || m->audio_adding || m->image_adding ||
               m->reading ||
               m->discarding > 0 ||
               m->preparing > 0;
}

int master_new(Manager *manager, Client *owner, Master **ret);
/* IMAPI_E_ALREADYOPEN once Open has succeeded, or while it runs. */
int master_check_not_open(Master *m, ImapiError *error);
/* Removes and frees everything, the stash included. No work may be running. */
Master *master_free(Master *m);
/* Closes, or defers the close until running work has stopped. */
void master_close_or_defer(Master *m);

/* The IDiscMaster methods. Those with a done callback follow async.h. */
/* Checks the stash root and makes the master's stash in a worker, off the event loop; the
 * stash's errors (stash.h) come with done. A Close meanwhile is answered once that stash is
 * removed again (Open fails with NOTOPENED); a SIGTERM meanwhile fails it with USERABORT. */
int master_open(Master *m, core_done_fn done, void *userdata, ImapiError *error);
/* Answered once the stash is removed (so that another may take its name); a running job defers
 * the close and the call is done at once. */
int master_close(Master *m, core_done_fn done, void *userdata, ImapiError *error);
int master_check_opened(Master *m, ImapiError *error);
/* Only the client that created a disc master may use it (IMAPI_E_ACCESSDENIED). */
int master_check_client(Master *m, Client *c, ImapiError *error);
/* GetActiveDiscMasterFormat (the IID) and GetActiveDiscRecorder. */
int master_get_format(Master *m, const char **ret_iid, ImapiError *error);
int master_get_recorder(Master *m, Recorder **ret, ImapiError *error);
/* EnumDiscRecorders: r can write the active format (Joliet while there is none). */
bool master_offers_recorder(const Master *m, const Recorder *r);
/* IMAPI_E_NOACTIVEFORMAT, or WRONGFORMAT when the other format is active. */
int master_check_format(Master *m, MasterFormat f, ImapiError *error);
/* "Joliet", "Redbook" or "Image", for messages. */
const char *master_format_to_name(MasterFormat f);
/* format: "joliet", "redbook", "image" or an IID. Done once the staged files are deleted. */
int master_set_format(Master *m, const char *format, core_done_fn done, void *userdata, ImapiError *error);
bool master_recorder_supports(const Master *m, const Recorder *r, MasterFormat f);
/* Reads the disc in r, as IMAPI does here; replace: the burn is to write a new file system over
 * what an overwriteable medium holds. */
int master_set_recorder(Master *m, Recorder *r, bool replace, core_done_fn done, void *userdata,
                        ImapiError *error);
/* IMAPI_E_NOACTIVERECORDER, or DEVICE_NOTPRESENT for a removed one. */
int master_check_recorder(Master *m, ImapiError *error);
int master_clear(Master *m, core_done_fn done, void *userdata, ImapiError *error);

/* RecordDisc, with the disc in rec just read: what the burn does with it (session-plan.h), in
 * the active recorder the same disc as at SetActiveDiscRecorder, and a test write if asked for
 * one where the medium can take it (IMAPI_E_DEVICE_INVALIDTYPE). */
int master_plan_burn(Master *m, Recorder *rec, bool replace, bool simulate, SessionPlan *ret, ImapiError *error);

/* Deletes the stash files of staged content (a master's, or moved out of one) and frees its
 * bookkeeping; any thread. */
void master_delete_staged(Staging *s, Redbook *rb, Stash *stash);
/* Drops the staged content and deletes its stash files, here. */
void master_clear_staging(Master *m);

/* UsedDataBlocks: the staged data's estimate (Joliet), the image's blocks (Image). */
uint32_t master_used_blocks(const Master *m);
/* For DISCFULL messages: "needs 2.1 MiB, 2.0 MiB free", and how many blocks are missing when the
 * sizes read the same. */
#define MASTER_ROOM_MAX 96
char *master_format_room(uint64_t need_blocks, uint64_t free_blocks, char buf[static MASTER_ROOM_MAX]);
const char *master_format_to_iid(MasterFormat f);
/* The IIDs of the formats, for EnumDiscMasterFormats. */
extern const char *const master_format_iids[];
/* The job of the running burn, or NULL. */
Job *master_job(const Master *m);

/* IJolietDiscMaster's properties: the volume name (1 to 16 characters valid in a Joliet name,
 * none beyond U+FFFF; else E_INVALIDARG). */
int master_check_volume_name(const char *name, ImapiError *error);
int master_set_volume_name(Master *m, const char *name, ImapiError *error);

/* IJolietDiscMaster's boot image (master-boot.c), kept in Staging.boot. SetJolietProperties'
 * values are checked one by one (E_INVALIDARG), then applied together: the format must be
 * Joliet, the master idle, a floppy emulation must match the staged image's size, and a boot
 * image is refused on a disc that SetActiveDiscRecorder found not blank
 * (IMAPI_E_BOOTIMAGE_AND_NONBLANK_DISC). */
#define MASTER_BOOT_MANUFACTURER_MAX 24
/* A boot image's load size is counted in 512-byte sectors in 16 bits. */
#define MASTER_BOOT_IMAGE_MAX (UINT64_C(65535) * 512)
typedef struct MasterBootChange {
        int place, platform, emulation; /* -1: unchanged */
        const char *manufacturer;       /* NULL: unchanged */
} MasterBootChange;
#define MASTER_BOOT_CHANGE_NONE ((MasterBootChange) { .place = -1, .platform = -1, .emulation = -1 })
int master_check_boot_platform(int64_t v, ImapiError *error);
int master_check_boot_emulation(int64_t v, ImapiError *error);
int master_check_boot_manufacturer(const char *s, ImapiError *error);
int master_set_boot_properties(Master *m, const MasterBootChange *c, ImapiError *error);
/* SetBootImage: the image the client's fd reads (a regular file, 1 byte to
 * MASTER_BOOT_IMAGE_MAX) copied into the stash in a worker; it replaces a previous one. fd must
 * stay open until done is called. */
int master_set_boot_image(Master *m, int fd, core_done_fn done, void *userdata, ImapiError *error);
void master_cancel_boot_adding(Master *m);
/* RecordDisc of a Joliet master with PlaceBootImageOnDisc: an image is staged, and the plan
 * writes the medium's first file system. */
int master_check_boot_burn(const Master *m, const Recorder *rec, const SessionPlan *p, ImapiError *error);

/* The client vanished. */
void master_client_gone(Master *m, Client *c);
/* Work on the master (staging, a burn) ended: finish a deferred close. */
void master_work_done(Master *m);
/* Stops running staging (at exit or close); the calls fail with USERABORT. */
void master_cancel_staging(Master *m);
/* Tells the observer that the state or a count changed (MasterChange). */
void master_changed(Master *m, unsigned changes);

/* AddData (master-joliet.c): a batch of names in the image and the fds of their files, which
 * must stay open until done is called. Validated, then copied into the stash in a worker; all
 * or nothing. */
typedef struct MasterAddEntry {
        const char *name;
        int fd;
} MasterAddEntry;
int master_add_data(Master *m, const MasterAddEntry *entries, size_t n, bool overwrite, core_done_fn done,
                    void *userdata, ImapiError *error);
void master_cancel_adding(Master *m);
/* StrictJolietNames (master-joliet.c). Strict (the default): AddData refuses with
 * IMAPI_E_BADJOLIETNAME every name that is no Joliet name as it is, as IMAPI does. Off: only
 * names no tree can hold are refused (disc_name_check()), and the Joliet tree gets adapted names.
 * Turning strict on while staged names need adapting is IMAPI_E_BADJOLIETNAME, naming one. */
int master_set_strict_joliet_names(Master *m, bool strict, ImapiError *error);
/* The staged names the Joliet tree holds adapted (none while strict), sorted by path. */
int master_adapted_names(Master *m, JolietAdaptation **ret, size_t *ret_n);

/* IRedbookDiscMaster (master-redbook.c). The adds write in a worker; data (and fd) must stay
 * valid until done is called. */
int master_create_audio_track(Master *m, int32_t blocks, ImapiError *error);
int master_add_audio_data(Master *m, const void *data, size_t size, core_done_fn done, void *userdata,
                          ImapiError *error);
int master_add_audio_fd(Master *m, int fd, core_done_fn done, void *userdata, ImapiError *error);
int master_close_audio_track(Master *m, ImapiError *error);
void master_cancel_audio_adding(Master *m);
/* The recorder's gap, and the Redbook properties. */
unsigned master_audio_gap(const Master *m);
typedef struct MasterAudioCounts {
        uint64_t tracks, total, used, available;
} MasterAudioCounts;
void master_audio_counts(const Master *m, MasterAudioCounts *ret);
/* CD-TEXT: the fields of the album (track 0) or of track 1..TotalAudioTracks that set[] names, to
 * value[] (UTF-8; NULL or "": none). All or nothing: each value must be ISO-8859-1 text, and the
 * whole must fit one CD-TEXT block. */
typedef struct MasterAudioText {
        bool set[_CDTEXT_FIELD_MAX];
        const char *value[_CDTEXT_FIELD_MAX];
} MasterAudioText;
int master_set_audio_text(Master *m, int32_t track, const MasterAudioText *t, ImapiError *error);

/* A file the client passes to be copied into the stash whole (SetImage, SetBootImage; `what`
 * names it in messages): a regular file open for reading (else E_INVALIDARG), with what its copy
 * will cost the stash. */
int master_examine_fd(int fd, const char *what, struct stat *ret_st, uint64_t *ret_cost, ImapiError *error);

/* IImageDiscMaster (master-image.c): SetImage copies the disc image the client's fd reads (a
 * regular file, whole 2048-byte blocks) into the stash in a worker, after checking that it fits
 * the disc in the active recorder; fd must stay open until done is called. One image per disc
 * master: another needs ClearFormatContent first. */
int master_set_image(Master *m, int fd, core_done_fn done, void *userdata, ImapiError *error);
void master_cancel_image_adding(Master *m);
/* The staged image's size in bytes, 0 without one. */
uint64_t master_image_size(const Master *m);
/* The image becomes the master's one staged entry: a stash copy of size bytes costing cost. */
int master_commit_image(Master *m, uint32_t copy, uint64_t size, uint64_t cost);
int master_check_image_ready(Master *m, uint64_t blocks, ImapiError *error);
