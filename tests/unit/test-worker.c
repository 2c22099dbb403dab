/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/worker.c as the core uses it: every task runs once off the loop and its completion once
 * on the loop, after it; AddData's calls, one after the other, reuse a thread of the pool, which
 * is all there is at rest; tasks that
 * hold their threads never hold up the next task, which starts at once; and worker_free() with
 * tasks still running waits for them and for what their completions submit, runs every
 * completion, and leaves no thread behind.
 */

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "core/worker.h"
#include "macro.h"
#include "tap.h"

#define KEEP 2
#define MANY 2000
#define CHAIN 10000
#define TOGETHER (KEEP + 3)
#define PENDING 20
#define GATE_WAIT_SEC 60

static pthread_t loop_thread;

static unsigned threads_of_process(void) {
        DIR *d = opendir("/proc/self/task");
        struct dirent *de;
        unsigned n = 0;

        if (!d)
                abort();
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

static void run_until(sd_event *e, const unsigned *count, unsigned want) {
        while (*count < want)
                if (sd_event_run(e, UINT64_MAX) < 0)
                        abort();
}

/* One task: how often its run and its completion ran, and whether in that order and where. */
typedef struct Item {
        atomic_uint runs;
        unsigned dones;
        bool run_on_loop;
        bool done_before_run;
        bool done_off_loop;
} Item;

typedef struct Tally {
        unsigned dones;
        bool ok;
} Tally;

static Tally tally;

static void item_run(void *userdata) {
        Item *it = userdata;

        if (pthread_equal(pthread_self(), loop_thread))
                it->run_on_loop = true;
        atomic_fetch_add(&it->runs, 1);
}

static void item_done(void *userdata) {
        Item *it = userdata;

        if (atomic_load(&it->runs) != 1)
                it->done_before_run = true;
        if (!pthread_equal(pthread_self(), loop_thread))
                it->done_off_loop = true;
        it->dones++;
        tally.dones++;
}

static bool items_ok(const Item *items, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (atomic_load(&items[i].runs) != 1 || items[i].dones != 1 || items[i].run_on_loop ||
                    items[i].done_before_run || items[i].done_off_loop)
                        return false;
        return true;
}

static void test_many(sd_event *e) {
        Worker *w = NULL;
        Item *items = calloc(MANY, sizeof(Item));
        bool submitted = true;

        CHECK(worker_new_keep(e, KEEP, &w) == 0 && worker_threads(w) == KEEP, "a worker with a pool of %u threads",
              KEEP);
        tally = (Tally) {};
        for (size_t i = 0; i < MANY; i++)
                submitted = submitted && worker_submit(w, item_run, item_done, &items[i]) == 0;
        CHECK(submitted && worker_running(w) == MANY, "%u tasks submitted at once", MANY);
        run_until(e, &tally.dones, MANY);
        CHECK(items_ok(items, MANY), "each of %u tasks ran once in a thread, then completed once on the loop",
              MANY);
        CHECK(worker_running(w) == 0, "none running after");
        CHECK(worker_threads(w) == KEEP, "%u threads left, the pool's", worker_threads(w));
        worker_free(w);
        free(items);
}

/* As AddData's calls come: the next is submitted from the completion of the one before. */
typedef struct Chain {
        Worker *worker;
        Item *items;
        unsigned next;
        unsigned max_threads;
        bool submit_failed;
} Chain;

static Chain chain;

static void chain_done(void *userdata) {
        item_done(userdata);
        chain.max_threads = MAX(chain.max_threads, worker_threads(chain.worker));
        if (chain.next < CHAIN && worker_submit(chain.worker, item_run, chain_done, &chain.items[chain.next++]) < 0)
                chain.submit_failed = true;
}

static void test_chain(sd_event *e, unsigned keep) {
        chain = (Chain) { .items = calloc(CHAIN, sizeof(Item)) };
        tally = (Tally) {};
        if (worker_new_keep(e, keep, &chain.worker) < 0)
                abort();
        chain.next = 1;
        CHECK(worker_submit(chain.worker, item_run, chain_done, &chain.items[0]) == 0, "the first of a chain");
        run_until(e, &tally.dones, CHAIN);
        CHECK(!chain.submit_failed && items_ok(chain.items, CHAIN),
              "keeping %u: %u tasks one after the other, each ran once, then completed once", keep, CHAIN);
        if (keep > 0)
                CHECK(chain.max_threads == keep, "keeping %u: the pool's threads did them all (at most %u at a time)",
                      keep, chain.max_threads);
        else
                CHECK(worker_threads(chain.worker) == 0, "keeping none: no thread left once they are done");
        worker_free(chain.worker);
        free(chain.items);
}

/* Tasks that return only once all of them run at the same time (or give up after a minute). */
typedef struct Rendezvous {
        pthread_mutex_t lock;
        pthread_cond_t changed;
        unsigned want;
        unsigned arrived;
        unsigned gave_up;
        unsigned dones;
} Rendezvous;

static void rendezvous_run(void *userdata) {
        Rendezvous *r = userdata;
        struct timespec until;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += GATE_WAIT_SEC;
        pthread_mutex_lock(&r->lock);
        r->arrived++;
        pthread_cond_broadcast(&r->changed);
        while (r->arrived < r->want)
                if (pthread_cond_timedwait(&r->changed, &r->lock, &until) == ETIMEDOUT) {
                        r->gave_up++;
                        break;
                }
        pthread_mutex_unlock(&r->lock);
}

static void rendezvous_done(void *userdata) {
        Rendezvous *r = userdata;

        r->dones++;
}

static void rendezvous_init(Rendezvous *r, unsigned want) {
        *r = (Rendezvous) { .want = want };
        pthread_mutex_init(&r->lock, NULL);
        pthread_cond_init(&r->changed, NULL);
}

static void test_together(sd_event *e) {
        Rendezvous two, all;
        Worker *w = NULL;
        bool submitted = true;

        if (worker_new_keep(e, KEEP, &w) < 0)
                abort();
        /* Both of the pool's threads at once, and idle again. */
        rendezvous_init(&two, KEEP);
        for (unsigned i = 0; i < KEEP; i++)
                submitted = submitted && worker_submit(w, rendezvous_run, rendezvous_done, &two) == 0;
        run_until(e, &two.dones, KEEP);
        CHECK(submitted && two.gave_up == 0 && worker_threads(w) == KEEP, "%u tasks at once, then %u threads idle",
              KEEP, worker_threads(w));

        /* More tasks than idle threads, each holding its thread until all have started: the
         * first go to the idle threads, the rest must get threads of their own. */
        rendezvous_init(&all, TOGETHER);
        for (unsigned i = 0; i < TOGETHER; i++)
                submitted = submitted && worker_submit(w, rendezvous_run, rendezvous_done, &all) == 0;
        run_until(e, &all.dones, TOGETHER);
        CHECK(submitted && all.gave_up == 0, "%u tasks that hold their threads, %u idle before: all ran at once",
              TOGETHER, KEEP);
        CHECK(worker_threads(w) == KEEP, "the threads beyond %u ended once done (%u left)", KEEP, worker_threads(w));
        worker_free(w);
}

/* worker_free() while tasks are still running, each completion submitting one more task. */
typedef struct Pending {
        Worker *worker;
        pthread_mutex_t lock;
        pthread_cond_t changed;
        bool open;
        Item first[PENDING];
        Item second[PENDING];
        bool submit_failed;
} Pending;

static Pending pending;

static void gated_run(void *userdata) {
        pthread_mutex_lock(&pending.lock);
        while (!pending.open)
                pthread_cond_wait(&pending.changed, &pending.lock);
        pthread_mutex_unlock(&pending.lock);
        item_run(userdata);
}

static void first_done(void *userdata) {
        Item *it = userdata;

        item_done(it);
        if (worker_submit(pending.worker, item_run, item_done, &pending.second[it - pending.first]) < 0)
                pending.submit_failed = true;
}

static void *opener(void *userdata) {
        /* Long enough for worker_free() to be waiting; nothing depends on it. */
        usleep(100 * 1000);
        pthread_mutex_lock(&pending.lock);
        pending.open = true;
        pthread_cond_broadcast(&pending.changed);
        pthread_mutex_unlock(&pending.lock);
        return NULL;
}

static void test_free_pending(sd_event *e) {
        unsigned before = threads_of_process();
        bool submitted = true;
        pthread_t t;

        pending = (Pending) {};
        pthread_mutex_init(&pending.lock, NULL);
        pthread_cond_init(&pending.changed, NULL);
        tally = (Tally) {};
        if (worker_new_keep(e, KEEP, &pending.worker) < 0)
                abort();
        for (size_t i = 0; i < PENDING; i++)
                submitted = submitted && worker_submit(pending.worker, gated_run, first_done, &pending.first[i]) == 0;
        CHECK(submitted && worker_threads(pending.worker) == PENDING, "%u tasks waiting in %u threads", PENDING,
              worker_threads(pending.worker));
        if (pthread_create(&t, NULL, opener, NULL) != 0)
                abort();
        worker_free(pending.worker);
        CHECK(items_ok(pending.first, PENDING), "worker_free() waited for the %u tasks and ran their completions",
              PENDING);
        CHECK(!pending.submit_failed && items_ok(pending.second, PENDING),
              "and the %u tasks their completions submitted meanwhile, with theirs", PENDING);
        pthread_join(t, NULL);
        CHECK(threads_of_process() == before, "no thread left after it (%u, %u before)", threads_of_process(),
              before);
}

int main(void) {
        sd_event *e = NULL;

        loop_thread = pthread_self();
        if (sd_event_new(&e) < 0)
                abort();
        test_many(e);
        test_chain(e, KEEP);
        test_chain(e, 0);
        test_together(e);
        test_free_pending(e);
        sd_event_unref(e);
        return tap_done();
}
