/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * media/drive-thread.c: the thread that a marked caller starts (as libburn's write thread is
 * started in burn_disc_write()) is found by its name for as long as it runs and no longer; the
 * caller gets its own name back; threads that were there before are not taken for it; and the
 * FIFO's filling thread, which the write thread starts and which outlives it, is not either.
 */

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "macro.h"
#include "media/drive-fifo.h"
#include "media/drive-internal.h"
#include "tap.h"

typedef struct Gate {
        pthread_mutex_t lock;
        pthread_cond_t changed;
        bool go;
} Gate;

static void gate_wait(Gate *g) {
        pthread_mutex_lock(&g->lock);
        while (!g->go)
                pthread_cond_wait(&g->changed, &g->lock);
        pthread_mutex_unlock(&g->lock);
}

static void gate_open(Gate *g) {
        pthread_mutex_lock(&g->lock);
        g->go = true;
        pthread_cond_broadcast(&g->changed);
        pthread_mutex_unlock(&g->lock);
}

/* Runs until its gate opens. */
static void *waiter(void *userdata) {
        gate_wait(userdata);
        return NULL;
}

/* After a thread's pthread_join(), the kernel may list it for a moment longer (the join wakes
 * before the task is released): what drive_thread_named() says once that moment has passed. */
static int named_once_gone(const char *name) {
        int r = 1;

        for (unsigned i = 0; i < 500 && r == 1; i++) {
                r = drive_thread_named(name);
                if (r == 1)
                        usleep(10 * 1000);
        }
        return r;
}

static void own_name(char name[static DRIVE_THREAD_NAME_MAX]) {
        memset(name, 0, DRIVE_THREAD_NAME_MAX);
        (void) prctl(PR_GET_NAME, name);
}

static void test_marked_child(void) {
        char before[DRIVE_THREAD_NAME_MAX], mark[DRIVE_THREAD_NAME_MAX], mark2[DRIVE_THREAD_NAME_MAX],
                saved[DRIVE_THREAD_NAME_MAX], after[DRIVE_THREAD_NAME_MAX];
        Gate old_gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false };
        Gate gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false };
        pthread_t old, child;

        own_name(before);
        /* A thread from before the mark runs all along. */
        CHECK(pthread_create(&old, NULL, waiter, &old_gate) == 0, "a thread from before starts");

        drive_thread_mark(mark, saved);
        CHECK(streq(saved, before) && !streq(mark, before), "the caller is named %s for the call (was %s)",
              mark, saved);
        CHECK(pthread_create(&child, NULL, waiter, &gate) == 0, "a thread starts during the mark");
        drive_thread_unmark(saved);
        own_name(after);
        CHECK(streq(after, before), "the caller has its name back (%s)", after);

        CHECK(drive_thread_named(mark) == 1, "the thread started during the mark is found by its name");
        gate_open(&gate);
        pthread_join(child, NULL);
        CHECK(named_once_gone(mark) == 0, "once it has ended, no thread has the name (the one from before "
              "still runs)");

        drive_thread_mark(mark2, saved);
        drive_thread_unmark(saved);
        CHECK(!streq(mark, mark2) && drive_thread_named(mark2) == 0,
              "the next mark is another name (%s), and with no thread started no thread has it", mark2);
        CHECK(drive_thread_named("") == 0 && drive_thread_named(before) == 1,
              "an empty name is nobody's; the process's own name is found");

        gate_open(&old_gate);
        pthread_join(old, NULL);
}

/* A source that never ends: the FIFO's filling thread stays, waiting for room. */
static int zeros_read(struct burn_source *s, unsigned char *buf, int size) {
        memset(buf, 0, (size_t) size);
        return size;
}

static off_t zeros_get_size(struct burn_source *s) {
        return 0;
}

static int zeros_set_size(struct burn_source *s, off_t size) {
        return 1;
}

static void zeros_free(struct burn_source *s) {
}

typedef struct Reader {
        struct burn_source *fifo;
        int got;
} Reader;

/* libburn's write thread, as far as the FIFO sees it: one read, which starts the filling
 * thread, then the end. */
static void *reader(void *userdata) {
        Reader *r = userdata;
        unsigned char block[2048];

        r->got = r->fifo->read_xt(r->fifo, block, sizeof block);
        return NULL;
}

static void test_fifo_thread(void) {
        char mark[DRIVE_THREAD_NAME_MAX], saved[DRIVE_THREAD_NAME_MAX];
        struct burn_source *inp = drive_source_new(&(struct burn_source) { .read = zeros_read,
                                                                           .get_size = zeros_get_size,
                                                                           .set_size = zeros_set_size,
                                                                           .free_data = zeros_free },
                                                   NULL);
        Reader r = { .fifo = inp ? drive_fifo_new(inp, 256 * 1024) : NULL };
        size_t size = 0, filled = 0;
        pthread_t th;

        CHECK(r.fifo != NULL, "a FIFO is made");
        if (!r.fifo)
                return;
        drive_thread_mark(mark, saved);
        CHECK(pthread_create(&th, NULL, reader, &r) == 0,
              "a thread that reads the FIFO starts during the mark");
        drive_thread_unmark(saved);
        pthread_join(th, NULL);
        CHECK(r.got == 2048 && drive_fifo_status(r.fifo, &size, &filled),
              "it read a block; the FIFO is filling");
        CHECK(named_once_gone(mark) == 0,
              "once the reader has ended, the FIFO's filling thread it started does not have its name");
        burn_source_free(r.fifo);
        burn_source_free(inp);
}

int main(void) {
        test_marked_child();
        test_fifo_thread();
        return tap_done();
}
