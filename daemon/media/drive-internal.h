/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What drive.c, drive-media.c, drive-write.c and drive-start.c share: the Drive structure and
 * libburn's failure messages. */
#pragma once

#include <libburn/libburn.h>
#include <pthread.h>
#include <stdint.h>

#include "media/drive.h"

/* A thread's name (prctl(2) PR_SET_NAME: 16 bytes with the NUL). */
#define DRIVE_THREAD_NAME_MAX 16

struct Drive {
        struct burn_drive_info info;    /* a copy; .drive stays valid until forgotten */
        struct burn_drive_info *array;  /* our own array when made by scan_and_grab */
        char *address;
        /* libburn's reads and random-access writes lend the drive object a buffer of their own
         * for the call and put the previous one back at its end (read.c, write.c: d->buffer).
         * Two at once on one drive, from two workers, put back each other's: the later one then
         * copied from a NULL buffer and imapid crashed. They take turns on this lock. */
        pthread_mutex_t io_lock;
        bool grabbed;
        int role;                       /* libburn's drive role: 1 an MMC drive, 2..5 stdio: */
        bool buf_capable;               /* BURN-Free, as the drive said when last grabbed */

        /* A write or erase in progress (drive-write.c). */
        struct burn_disc *disc;
        struct burn_source *source, *fifo;
        struct burn_write_opts *opts;
        uint64_t op_seq;                /* message sequence number when it started */
        bool erasing;
        int format_flag;                /* burn_disc_format()'s, for the format set up */
        /* An operation set up and not yet taken by libburn (drive-start.c). */
        void (*pending_start)(Drive *d);
        uint64_t start_deadline_usec;
        unsigned start_tries;
        bool fifo_starved;              /* seen while writing: an underrun risk */
        int64_t reached_lba;            /* the furthest block libburn counted while writing (polls) */
        char write_thread[DRIVE_THREAD_NAME_MAX]; /* the name of libburn's thread of the write,
                                         * drive_thread_mark(); "" before burn_disc_write() */
        uint64_t idle_since_usec;       /* CLOCK_MONOTONIC when libburn said IDLE, 0 before */
        bool cancelled;                 /* drive_cancel() was called for this operation */
        bool lost;                      /* libburn's object was forgotten and not renewed: nothing
                                         * may touch info.drive until drive_revive() */
};

typedef struct DriveMessage {
        uint64_t seq;
        int code;
        int os_errno;
        int rank;                       /* 0 NEVER .. 4 SORRY */
        char text[512];
} DriveMessage;

#define DRIVE_MESSAGE_RING 128

/* Makes a new libburn drive object for d's address and grabs it (tries times, 200 ms apart). */
int drive_attach(Drive *d, unsigned tries);
/* burn_drive_info_forget() of info (NULL: none), then burn_drive_info_free() of array (NULL:
 * none), serialized with the making of drive objects on other threads. */
void drive_forget_info(struct burn_drive_info *info, struct burn_drive_info *array, int force);

/* How long a start is tried again (drive-start.c), and a direct read or write waits for the
 * drive to be IDLE after an operation, and how often it looks. */
#define DRIVE_SETTLE_USEC (5 * 1000 * 1000ULL)
#define DRIVE_SETTLE_STEP_USEC (10 * 1000)

/* Calls start, which hands the drive to a libburn worker thread (burn_disc_write(),
 * burn_disc_erase(), burn_disc_format()), if libburn takes it now: 0, or -EAGAIN while the
 * drive's previous operation still has it (then drive_start_wait(), drive.h). Never waits. */
int drive_start_operation(Drive *d, void (*start)(Drive *d));
/* Frees the operation set up and not started (nothing if there is none). */
void drive_start_abandon(Drive *d);
/* Starts libburn's write of d->disc with d->opts, and the wait for its thread's end in
 * drive_poll(); 0 or -EAGAIN as drive_start_operation(). */
int drive_disc_write(Drive *d);

/* Frees what a write or erase set up (drive-write.c). */
void drive_free_write_state(Drive *d);

/* A cancel of an operation was asked for and the operation has not finished: libburn then ends
 * it with a FATAL "Burn run failed", which is no news. Any thread. */
void drive_note_cancel(bool begins);

uint64_t drive_message_seq(void);
/* Copies message seq of the ring, if it is still there. */
bool drive_message_get(uint64_t seq, DriveMessage *ret);

/* The thread that calls burn_disc_write() takes a name that no thread had (ret_mark; its own in
 * ret_saved), which the write thread that libburn starts there inherits and keeps until it ends
 * (drive-thread.c); drive_thread_unmark() gives the caller its name back after the call. */
void drive_thread_mark(char ret_mark[static DRIVE_THREAD_NAME_MAX],
                       char ret_saved[static DRIVE_THREAD_NAME_MAX]);
void drive_thread_unmark(const char saved[static DRIVE_THREAD_NAME_MAX]);
/* 1 if a thread of the process has that name, 0 if none, negative errno if /proc cannot say. */
int drive_thread_named(const char *name);
/* Whether libburn's thread of d's write has ended (or was never started). Where /proc cannot
 * say, it has not: the caller's time limit ends the wait (drive_poll()). */
bool drive_write_thread_ended(const Drive *d);
