/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "media/drive-fifo.h"
#include "macro.h"

/* What the filling thread asks of the source at once: large reads, few wake-ups. */
#define FIFO_CHUNK (64 * 1024)

typedef struct Fifo {
        struct burn_source *inp;
        uint8_t *ring;
        size_t size;                    /* a multiple of FIFO_CHUNK */
        pthread_mutex_t lock;
        pthread_cond_t changed;
        pthread_t thread;
        bool started;
        /* Under lock: bytes put in and taken out since the start; the ring holds in - out. */
        uint64_t in, out;
        bool ended;                     /* the source gave its last byte */
        bool failed;                    /* the source gave -1 */
        bool stop;                      /* the reader went away: the thread ends */
} Fifo;

static void *fill_thread(void *userdata) {
        Fifo *f = userdata;
        sigset_t all;

        /* Born with the name of libburn's write thread that made it, by which that thread is
         * told apart (drive-thread.c); this one outlives it. */
        (void) prctl(PR_SET_NAME, "imapid-fifo");
        /* Signals are the event loop's; a fault still ends the process. */
        sigfillset(&all);
        sigdelset(&all, SIGSEGV);
        sigdelset(&all, SIGBUS);
        sigdelset(&all, SIGILL);
        sigdelset(&all, SIGFPE);
        pthread_sigmask(SIG_BLOCK, &all, NULL);
        for (;;) {
                size_t at;
                int n;

                pthread_mutex_lock(&f->lock);
                while (!f->stop && f->in - f->out > f->size - FIFO_CHUNK)
                        pthread_cond_wait(&f->changed, &f->lock);
                if (f->stop) {
                        pthread_mutex_unlock(&f->lock);
                        return NULL;
                }
                at = (size_t) (f->in % f->size);
                pthread_mutex_unlock(&f->lock);

                /* The chunk at `at` is free and only this thread writes there. */
                n = f->inp->read ? f->inp->read(f->inp, f->ring + at, FIFO_CHUNK)
                                 : f->inp->read_xt(f->inp, f->ring + at, FIFO_CHUNK);

                pthread_mutex_lock(&f->lock);
                if (n > 0)
                        f->in += (uint64_t) n;
                if (n < 0)
                        f->failed = true;
                /* A short read is the source's last (libburn.h: only the last may be short). */
                if (n < FIFO_CHUNK)
                        f->ended = true;
                pthread_cond_broadcast(&f->changed);
                pthread_mutex_unlock(&f->lock);
                if (n < FIFO_CHUNK)
                        return NULL;
        }
}

/* Called with the lock held. */
static int start_locked(Fifo *f) {
        pthread_attr_t attr;
        int r;

        if (f->started)
                return 0;
        if (pthread_attr_init(&attr) != 0)
                return -ENOMEM;
        r = pthread_create(&f->thread, &attr, fill_thread, f);
        pthread_attr_destroy(&attr);
        if (r != 0)
                return -r;
        f->started = true;
        return 0;
}

static int fifo_read(struct burn_source *s, unsigned char *buf, int size) {
        Fifo *f = s->data;
        size_t done = 0, want = (size_t) MAX(size, 0);

        pthread_mutex_lock(&f->lock);
        if (start_locked(f) < 0) {
                pthread_mutex_unlock(&f->lock);
                return -1;
        }
        while (done < want) {
                size_t have = (size_t) (f->in - f->out), at, n;

                if (have == 0) {
                        if (f->ended || f->stop)
                                break;
                        pthread_cond_wait(&f->changed, &f->lock);
                        continue;
                }
                at = (size_t) (f->out % f->size);
                n = MIN(MIN(have, want - done), f->size - at);
                memcpy(buf + done, f->ring + at, n);
                done += n;
                f->out += n;
                pthread_cond_broadcast(&f->changed);
        }
        /* The data that was there first, then the source's failure. */
        if (done == 0 && f->failed) {
                pthread_mutex_unlock(&f->lock);
                return -1;
        }
        pthread_mutex_unlock(&f->lock);
        return (int) done;
}

static off_t fifo_get_size(struct burn_source *s) {
        Fifo *f = s->data;

        return f->inp->get_size(f->inp);
}

static int fifo_set_size(struct burn_source *s, off_t size) {
        Fifo *f = s->data;

        return f->inp->set_size(f->inp, size);
}

static void fifo_stop(Fifo *f) {
        pthread_mutex_lock(&f->lock);
        f->stop = true;
        pthread_cond_broadcast(&f->changed);
        pthread_mutex_unlock(&f->lock);
}

static int fifo_cancel(struct burn_source *s) {
        fifo_stop(s->data);
        return 1;
}

static void fifo_free(struct burn_source *s) {
        Fifo *f = s->data;

        fifo_stop(f);
        /* The thread may be inside the source's read; that read ends by itself. */
        if (f->started)
                pthread_join(f->thread, NULL);
        burn_source_free(f->inp);
        pthread_cond_destroy(&f->changed);
        pthread_mutex_destroy(&f->lock);
        free(f->ring);
        free(f);
}

struct burn_source *drive_source_new(const struct burn_source *callbacks, void *data) {
        struct burn_source *s = calloc(1, sizeof(struct burn_source));

        if (!s)
                return NULL;
        *s = *callbacks;
        s->refcount = 1;
        s->data = data;
        return s;
}

struct burn_source *drive_fifo_new(struct burn_source *inp, size_t bytes) {
        struct burn_source *s;
        Fifo *f;

        f = calloc(1, sizeof(Fifo));
        if (!f)
                return NULL;
        f->size = MAX(ALIGN_TO(bytes, FIFO_CHUNK), 2 * FIFO_CHUNK);
        /* Pages are only touched as the ring fills. */
        f->ring = malloc(f->size);
        if (!f->ring) {
                free(f);
                return NULL;
        }
        /* Version 1: read_xt and cancel instead of read. */
        s = drive_source_new(&(struct burn_source) { .version = 1, .read_xt = fifo_read,
                                                     .cancel = fifo_cancel, .get_size = fifo_get_size,
                                                     .set_size = fifo_set_size, .free_data = fifo_free },
                             f);
        if (!s) {
                free(f->ring);
                free(f);
                return NULL;
        }
        pthread_mutex_init(&f->lock, NULL);
        pthread_cond_init(&f->changed, NULL);
        f->inp = inp;
        inp->refcount++;
        return s;
}

bool drive_fifo_status(struct burn_source *s, size_t *ret_size, size_t *ret_filled) {
        Fifo *f = s->data;
        bool active;

        pthread_mutex_lock(&f->lock);
        *ret_size = f->size;
        *ret_filled = (size_t) (f->in - f->out);
        active = f->started && !(f->ended && f->in == f->out);
        pthread_mutex_unlock(&f->lock);
        return active;
}
