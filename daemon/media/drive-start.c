/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Handing a write, an erase or a format that drive-write.c set up to libburn's thread for the
 * drive: the starts take turns, and one that finds the drive's previous operation still there is
 * tried again until it takes, for a few seconds at most. The callers are workers.
 */

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <imapi/imapierror.h>

#include "hresult.h"
#include "log.h"
#include "media/drive-internal.h"
#include "time-util.h"

/* libburn's "A drive operation is still going on (want to write)" (or erase, format): the
 * drive's previous worker thread is still on libburn's list. It stays there for a moment after
 * the drive reports IDLE (a write thread queues its "ended" message first, an erase sets IDLE
 * first), and for about half a second on image files after a failed or cancelled run:
 * drive_poll() waits until a write's thread is gone (drive-thread.c), but not for an erase's,
 * nor past its time limit. Nothing was started then, so the start is tried again. */
#define BURN_OPERATION_GOING_ON 0x00020102

static bool refused_as_busy_since(uint64_t seq) {
        for (uint64_t s = seq + 1, last = drive_message_seq(); s <= last; s++) {
                DriveMessage m;

                if (drive_message_get(s, &m) && m.code == BURN_OPERATION_GOING_ON)
                        return true;
        }
        return false;
}

/* libburn's list of its operations' threads has no lock (docs/design.md, "libburn's global
 * state"): burn_disc_write(), _erase() and _format() look for the drive in it and add a node.
 * The starts take turns, and one that finds another under way (burn_disc_write()'s checks may
 * wait a second for a real drive) is tried again, as one that libburn refused. */
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;

/* One try, never a wait: drive_start_wait() calls this every DRIVE_SETTLE_STEP_USEC until the
 * drive takes the operation or DRIVE_SETTLE_USEC have gone by. */
static int start_again(Drive *d) {
        if (!d->pending_start)
                return -EINVAL;
        d->start_tries++;
        if (burn_drive_get_status(d->info.drive, NULL) == BURN_DRIVE_IDLE &&
            pthread_mutex_trylock(&start_lock) == 0) {
                bool refused;
                uint64_t seq;

                (void) drive_drain_messages(NULL, NULL);
                seq = drive_message_seq();
                d->pending_start(d);
                (void) drive_drain_messages(NULL, NULL);
                refused = refused_as_busy_since(seq);
                pthread_mutex_unlock(&start_lock);
                if (!refused) {
                        if (d->start_tries > 1)
                                log_debug("%s was free for the next operation after %u tries.", d->address,
                                          d->start_tries);
                        d->pending_start = NULL;
                        return 0;
                }
                /* The refusal explains nothing about the operation that follows. */
                d->op_seq = drive_message_seq();
        }
        if (now_usec(CLOCK_MONOTONIC) < d->start_deadline_usec)
                return -EAGAIN;
        drive_start_abandon(d);
        return log_warning_errno(EBUSY, "Recorder %s still runs its previous operation after %llu s.",
                                 d->address, DRIVE_SETTLE_USEC / 1000000ULL);
}

void drive_start_abandon(Drive *d) {
        if (!d->pending_start)
                return;
        d->pending_start = NULL;
        drive_free_write_state(d);
}

int drive_start_operation(Drive *d, void (*start)(Drive *d)) {
        d->pending_start = start;
        d->start_tries = 0;
        d->start_deadline_usec = now_usec(CLOCK_MONOTONIC) + DRIVE_SETTLE_USEC;
        return start_again(d);
}

int drive_start_wait(Drive *d, const volatile bool *cancel, char **ret_reason) {
        int r;

        do {
                if (cancel && *cancel) {
                        drive_start_abandon(d);
                        return -ECANCELED;
                }
                usleep(DRIVE_SETTLE_STEP_USEC);
                r = start_again(d);
        } while (r == -EAGAIN);
        if (r < 0) {
                *ret_reason = strdup("The recorder is still busy with its previous operation.");
                return hresult_to_errno(IMAPI_E_DEVICE_STILL_IN_USE);
        }
        return 0;
}
