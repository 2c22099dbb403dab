/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inside a burn (burn.c): the state every burn has, and the operations by which a format (data
 * in burn-data.c, audio in burn-audio.c) fills in the skeleton. Only burn*.c include this.
 *
 *   start      burn_start(): the common checks, ops->check, the drive read (recorder_prepare)
 *   wait       with wait_for_medium, while the disc will not do (burn-wait.c): polled until one does
 *   setup      ops->setup on the loop: the medium checked, the format's state made, the job's size
 *   prepare    ops->prepare_run in a worker (the image build), then ops->prepared on the loop
 *   write      ops->write_start in a worker (tried again there while the drive's previous
 *              operation still has it), then libburn polled: ops->write_progress, ops->written
 *   close      ops->closing_run in a worker, where ops->needs_closing says so (the head)
 *   verify     in a worker: the disc read again, ops->verify_setup, ops->verify_run
 *   end        the drive released and read again, the stash cleaned (worker), then the report
 *
 * Worker stages set b->result and, on failure, b->error; they poll b->cancel and count their
 * blocks in b->blocks_done.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "core/burn.h"
#include "core/job.h"
#include "core/master.h"
#include "core/recorder.h"
#include "core/session-plan.h"
#include "imapi-error.h"
#include "media/drive.h"

/* How often the burn's timer polls libburn's write. */
#define BURN_POLL_USEC (250 * 1000)

typedef enum BurnStage {
        BURN_STAGE_PREPARING,
        BURN_STAGE_WRITING,
        BURN_STAGE_CLOSING,
        BURN_STAGE_VERIFYING,
        BURN_STAGE_DONE,
        BURN_STAGE_WAITING,     /* for a usable disc, before everything else (burn-wait.c) */
} BurnStage;

typedef struct BurnOps BurnOps;
typedef struct BurnWait BurnWait;

struct Burn {
        Master *master;
        Recorder *recorder;
        Job *job;
        RecordOptions options;
        const BurnOps *ops;
        void *format;                   /* the format's own state */
        SessionPlan plan;               /* what is written where (session-plan.h) */
        BurnStage stage;

        uint64_t write_blocks;          /* what the write puts on the disc (BlockProgress' total) */
        uint64_t stage_blocks;          /* the work of the current worker stage */
        volatile bool cancel;
        _Atomic uint64_t blocks_done;   /* of the current stage */
        int result;                     /* of the last worker stage */
        ImapiError error;               /* why it failed, if it says */
        bool closing_announced;
        DriveWriteOptions write_options; /* what the write starts with */
        bool starting;                  /* a worker starts the write (burn.c) and has the drive */
        char *start_reason;             /* why the start failed, from that worker */
        bool aborted;                   /* burn_abort(): the loop is gone */
        bool finishing;                 /* the write is over; a worker takes libburn's outcome */
        bool finish_cancelled;          /* what that worker is told (b->cancel when it began) */
        uint32_t finish_hr;             /* its outcome, and the sentence that explains a failure */
        char *finish_message;
        /* The disc was written to (not a simulation): the write started, or a replace invalidated
         * the old head. What a failure leaves there is then no longer what was there before. */
        bool disc_touched;
        BurnWait *wait;                 /* while waiting for a usable disc */
        sd_event_source *timer;
        Burn *next;                     /* the master's next burn (master.h) */
};

/* What the end of a burn does besides the common part. */
typedef struct BurnEndFiles {
        char *remove_path;      /* a stash file to delete (the image); taken */
        int close_fd;           /* its fd, closed after the delete and the release (-1: none); taken */
        uint64_t reserved;      /* stash reservation to return once it is deleted */
        void (*release)(void *p); /* frees p in the end's worker (a large tree), if set; taken */
        void *release_data;
} BurnEndFiles;

struct BurnOps {
        const char *activity;           /* for logind's inhibitor: "Burning a disc" */
        unsigned block_size;            /* bytes of one block as the job counts them */
        double prepare_share;           /* of the job's progress; 0 without a prepare stage */
        double verify_share;            /* with verification */

        /* RecordDisc's checks of the staged content, before the drive is read. */
        int (*check)(Master *m, ImapiError *error);
        /* The disc is read and the plan made: the format's state in b->format, its room checked,
         * b->write_blocks and the job's Bytes estimated. The job does not exist yet. */
        int (*setup)(Burn *b, ImapiError *error);
        /* Worker: preparing what is written (NULL: nothing to prepare). */
        void (*prepare_run)(Burn *b);
        /* On the loop, after prepare_run succeeded: the last checks before writing. */
        int (*prepared)(Burn *b, ImapiError *error);
        /* The job is announced (after PreparingBurn; NULL: nothing to add). */
        void (*started)(Burn *b);
        /* Worker: starts libburn's write with the common options filled in; -EAGAIN while the
         * drive's previous operation still has it, and the caller then calls drive_start_wait(). */
        int (*write_start)(Burn *b, const DriveWriteOptions *wo, char **ret_reason);
        /* A poll of the write: sets b->blocks_done; true when the progress is known. */
        bool (*write_progress)(Burn *b, const DriveProgress *p);
        /* The write ended well (NULL: nothing to do). */
        void (*written)(Burn *b);
        /* Whether a closing stage follows the write (NULL: never), and its worker. */
        bool (*needs_closing)(Burn *b);
        void (*closing_run)(Burn *b);
        /* Before the verification, in its worker after the disc was read again (NULL: nothing;
         * a failure sets *error, which is b->error), its size, and its worker. */
        int (*verify_setup)(Burn *b, ImapiError *error);
        uint64_t (*verify_blocks)(Burn *b);
        void (*verify_run)(Burn *b);
        /* What a successful burn has to tell (NULL: nothing); a new string. */
        char *(*success_note)(Burn *b);
        /* Files for the end to delete; NULL: none. */
        void (*end_files)(Burn *b, BurnEndFiles *ret);
        void (*free)(void *format);
};

extern const BurnOps burn_data_ops;
extern const BurnOps burn_audio_ops;
extern const BurnOps burn_image_ops;

/* The write progress of one data track (burn-data.c), for the data and the image burn. */
bool burn_data_write_progress(Burn *b, const DriveProgress *p);

/* Verification (burn-verify.c), in a worker. A chunk: n blocks at lba read and compared with
 * `want` (NULL: only reading counts); 0, or the first block that differs (lba + 1) or cannot be
 * read (-(lba + 1)). */
#define BURN_VERIFY_CHUNK_BLOCKS 32
int64_t burn_verify_chunk(Burn *b, uint32_t lba, size_t n, const uint8_t *want, uint8_t *buf);
/* blocks of the medium from start_lba against the file fd of the stash, counted in
 * b->blocks_done; what: "the new session", for messages. 0, -ECANCELED, or burn_fail()'s. */
int burn_verify_file(Burn *b, int fd, uint64_t blocks, uint32_t start_lba, const char *what);

/* The checksums of a stream's chunks of BURN_CHECKSUM_BLOCKS blocks (the last one may be
 * shorter), taken while it is written, so that verification needs no copy of what was written:
 * 8 bytes per MiB, 190 kB for a 25 GB disc. A chunk that differs is located to the block by
 * generating it again (burn_locate_fn). */
#define BURN_CHECKSUM_BLOCKS 512
typedef struct BurnChecksums {
        uint64_t *sums;
        uint64_t blocks;        /* of the stream */
        uint64_t added;         /* blocks summed so far */
        struct XXH3_state_s *state;
} BurnChecksums;

int burn_checksums_init(BurnChecksums *c, uint64_t blocks);
void burn_checksums_add(BurnChecksums *c, const uint8_t *buf, size_t blocks);
void burn_checksums_done(BurnChecksums *c);
/* The medium from start_lba against the checksums (all blocks added), counted in
 * b->blocks_done: 0 or -ECANCELED, -ENOMEM; *ret_bad is 0 or, when a chunk cannot be read or
 * differs, the first block (absolute) that is to blame, as burn_verify_chunk() says it. locate()
 * names the differing block of a chunk: given the chunk as read back (n blocks at lba), it
 * returns the first block that is not what was written (absolute), or a negative errno when it
 * cannot tell (the chunk's first block is named then). */
typedef int64_t (*burn_locate_fn)(Burn *b, uint32_t lba, const uint8_t *read, size_t n, void *userdata);
int burn_verify_checksums(Burn *b, const BurnChecksums *c, uint32_t start_lba, burn_locate_fn locate,
                          void *userdata, int64_t *ret_bad);

/* For the ops: closing the disc has begun (ClosingDisc with an estimate, in seconds); once. */
void burn_announce_closing(Burn *b, int32_t seconds);
/* BlockProgress, TrackProgress and the other master events. */
void burn_notify(Burn *b, MasterEventKind kind, int32_t a, int32_t b2);
/* A worker stage's failure: b->error, and the negative errno it travels as. */
int burn_fail(Burn *b, uint32_t hr, const char *fmt, ...) _printf_(3, 4);

/* After a failure or a cancel, what the disc now holds (burn-disc-note.c): a sentence for the
 * job's message, from the stage the burn ended in and the disc as read again at the end (ro);
 * NULL when there is nothing to add or no memory. A new string. */
char *burn_disc_note(const Burn *b, BurnStage stage, const RecorderReadout *ro);

/* Whether the burn reads back what it wrote (verify, and no simulation). */
bool burn_verifies(const Burn *b);

/* The write (burn-start.c): stage and phase set, the options made, the start handed to a
 * worker; its completion turns the timer on to poll libburn, or ends the burn. */
int burn_write_begin(Burn *b);

/* The end (burn.c): the drive released, the files removed, the report. */
void burn_end(Burn *b, uint32_t hr, const char *message);
/* With the drive grabbed and its disc read (burn.c): the plan and the format's setup, replacing
 * those of an earlier disc. */
int burn_plan(Burn *b, ImapiError *error);
/* The plan is made and the job exists (burn.c): its first stage, and the job is announced. */
int burn_go(Burn *b, ImapiError *error);

/* Waiting for a usable disc (burn-wait.c). Whether the plan's error e is one to wait out. */
bool burn_wait_applies(const RecordOptions *o, const ImapiError *e);
/* The job exists and the drive is grabbed: the wait starts, with why (taken) as its first
 * reason; the drive is let go in a worker. */
int burn_wait_start(Burn *b, ImapiError *why);
/* From the burn's timer: the next poll, the cancellation, the timeout. */
void burn_wait_tick(Burn *b);
/* At exit: true if the burn waits (and has ended, or will when its worker is done). */
bool burn_wait_abort(Burn *b);
void burn_wait_free(Burn *b);

/* RecordDisc's checks of the master and of a recorder it is to burn on (burn.c). */
int burn_check_on(Master *m, Recorder *rec, ImapiError *error);
/* With rec's drive grabbed and its disc read: the plan, the job and its first stage; on failure
 * the drive is released. */
int burn_begin_on(Master *m, Recorder *rec, Client *c, const RecordOptions *o, Job **ret, ImapiError *error);
