/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A pool of worker threads, started with the worker and kept for the next task, more threads
 * when all of them are busy, and completions handed back to the event loop through an eventfd.
 *
 * A task is never queued behind another: it is handed to an idle thread, or a thread is started
 * for it, which ends once it is done if the pool has enough idle threads by then. Some tasks
 * hold their thread for seconds or minutes (a grab and disc read, an image build, a
 * verification, a copy from a client's file that may sit on a slow or stalled file system), and
 * a burn to several recorders runs as many at once; with only a fixed number of threads those
 * would hold up every short task behind them. Starting a thread per task, as before, cost the
 * event loop a pthread_create() and a pthread_join() for each AddData call. At rest there are
 * exactly the pool's threads, so that a thread that was never joined shows.
 */

#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "core/worker.h"

#define WORKER_NICE 10
#define WORKER_KEEP_MIN 2u
#define WORKER_KEEP_MAX 8u

typedef struct Task {
        worker_run_fn run;
        worker_done_fn done;
        void *userdata;
        struct Task *next;      /* on the queue or the finished list */
} Task;

typedef struct Thread {
        Worker *worker;
        pthread_t id;
        Task *first;            /* the task it was started for, or NULL for the pool */
        bool ended;             /* guarded by lock: it returns, and is to be joined */
        struct Thread *next;
} Thread;

struct Worker {
        sd_event_source *source;
        int efd;
        unsigned keep;

        pthread_mutex_t lock;
        pthread_cond_t wake;    /* the queue has a task, or the threads are to end */
        /* Guarded by lock. Each queued task has an idle thread of its own waiting for it:
         * queued <= idle, and only a thread that takes a task leaves idle before the end. */
        Task *queue, **queue_tail;
        unsigned queued;
        unsigned idle;
        Task *finished, **finished_tail;
        Thread *threads;
        unsigned n_threads;
        bool ending;

        unsigned running;       /* loop thread only */
};

/* Waits, idle, for a task from the queue; NULL when the worker ends. */
static Task *take_task(Worker *w, Thread *th) {
        Task *t;

        pthread_mutex_lock(&w->lock);
        while (!w->queue && !w->ending)
                pthread_cond_wait(&w->wake, &w->lock);
        t = w->queue;
        if (t) {
                w->queue = t->next;
                if (!w->queue)
                        w->queue_tail = &w->queue;
                w->queued--;
        } else
                th->ended = true;
        w->idle--;
        pthread_mutex_unlock(&w->lock);
        return t;
}

/* Hands t's completion to the loop. Whether the thread stays, counted idle, or ends. */
static bool task_finished(Worker *w, Thread *th, Task *t) {
        uint64_t one = 1;
        bool stay;

        pthread_mutex_lock(&w->lock);
        t->next = NULL;
        *w->finished_tail = t;
        w->finished_tail = &t->next;
        stay = !w->ending && w->idle < w->keep;
        if (stay)
                w->idle++;
        else
                th->ended = true;
        pthread_mutex_unlock(&w->lock);
        /* An eventfd write cannot fail short of a counter overflow. After it, nothing of w but
         * the lock and the queue is touched: the loop may be in worker_free(), which joins every
         * thread before it frees anything. */
        (void) !write(w->efd, &one, sizeof one);
        return stay;
}

static void *thread_main(void *p) {
        Thread *th = p;
        Worker *w = th->worker;

        /* Background work: when the CPUs are contended, the event loop (which answers the bus
         * and feeds the recorder's progress) goes first. Threads that libisofs starts from
         * here inherit this; libburn's write thread, started from the loop, does not. */
        (void) setpriority(PRIO_PROCESS, (id_t) gettid(), WORKER_NICE);

        for (Task *t = th->first ?: take_task(w, th); t; t = take_task(w, th)) {
                t->run(t->userdata);
                if (!task_finished(w, th, t))
                        break;
        }
        return NULL;
}

/* The threads that ended, out of the list. Loop thread, w->lock held. */
static Thread *take_ended(Worker *w) {
        Thread *ended = NULL, **p = &w->threads;

        while (*p) {
                Thread *th = *p;

                if (th->ended) {
                        *p = th->next;
                        th->next = ended;
                        ended = th;
                        w->n_threads--;
                } else
                        p = &th->next;
        }
        return ended;
}

static void join_all(Thread *list) {
        while (list) {
                Thread *th = list;

                list = th->next;
                (void) pthread_join(th->id, NULL);
                free(th);
        }
}

/* In the order the tasks finished. */
static void worker_dispatch_finished(Worker *w) {
        Thread *ended;
        Task *list;

        pthread_mutex_lock(&w->lock);
        list = w->finished;
        w->finished = NULL;
        w->finished_tail = &w->finished;
        ended = take_ended(w);
        pthread_mutex_unlock(&w->lock);

        /* A thread that ended is at most returning from its eventfd write. */
        join_all(ended);
        while (list) {
                Task *t = list;

                list = t->next;
                w->running--;
                if (t->done)
                        t->done(t->userdata);
                free(t);
        }
}

static int on_eventfd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        uint64_t v;

        (void) !read(fd, &v, sizeof v);
        worker_dispatch_finished(userdata);
        return 0;
}

static unsigned keep_for_machine(void) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);

        /* Short tasks come one at a time per disc master or recorder; a few threads cover
         * them, and more would only hold stacks. */
        return n < (long) WORKER_KEEP_MIN ? WORKER_KEEP_MIN : MIN((unsigned) n, WORKER_KEEP_MAX);
}

/* A thread for t, or (t NULL) an idle one of the pool. */
static int thread_start(Worker *w, Task *t) {
        pthread_attr_t attr;
        Thread *th;
        int r;

        th = calloc(1, sizeof(Thread));
        if (!th)
                return -ENOMEM;
        *th = (Thread) { .worker = w, .first = t };

        pthread_attr_init(&attr);
        /* Copy and image loops need little stack; libisofs calls back on its own threads. */
        pthread_attr_setstacksize(&attr, 1024 * 1024);
        /* In the list first: the thread may end before pthread_create() returns. */
        pthread_mutex_lock(&w->lock);
        th->next = w->threads;
        w->threads = th;
        w->n_threads++;
        if (!t)
                w->idle++;
        r = pthread_create(&th->id, &attr, thread_main, th);
        if (r != 0) {
                w->threads = th->next;
                w->n_threads--;
                if (!t)
                        w->idle--;
        }
        pthread_mutex_unlock(&w->lock);
        pthread_attr_destroy(&attr);
        if (r != 0) {
                free(th);
                return -r;
        }
        return 0;
}

int worker_new_keep(sd_event *event, unsigned keep, Worker **ret) {
        Worker *w;
        int r;

        w = calloc(1, sizeof(Worker));
        if (!w)
                return -ENOMEM;
        w->keep = keep;
        w->queue_tail = &w->queue;
        w->finished_tail = &w->finished;
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->wake, NULL);
        w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->efd < 0) {
                r = -errno;
                goto fail;
        }
        r = sd_event_add_io(event, &w->source, w->efd, EPOLLIN, on_eventfd, w);
        if (r < 0)
                goto fail;
        /* Tasks give freed memory back with malloc_trim(), two of them at once when two disc
         * masters go together. Where malloc is not glibc's (a sanitizer's), glibc's allocator
         * is still uninitialized then, and two first trims at once initialize it together and
         * crash. One trim here, before the first task's thread, initializes it on this one. */
        (void) malloc_trim(0);
        for (unsigned i = 0; i < keep; i++) {
                r = thread_start(w, NULL);
                if (r < 0) {
                        worker_free(w);
                        return log_error_errno(r, "Cannot start the worker threads: %m");
                }
        }
        *ret = w;
        return 0;

fail:
        safe_close(w->efd);
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return r;
}

int worker_new(sd_event *event, Worker **ret) {
        return worker_new_keep(event, keep_for_machine(), ret);
}

Worker *worker_free(Worker *w) {
        Thread *all;

        if (!w)
                return NULL;
        /* Tasks poll their cancel flags; their owners set them before getting here. Their
         * completions may submit more, which are waited for too. */
        while (w->running > 0) {
                struct pollfd pfd = { .fd = w->efd, .events = POLLIN };
                uint64_t v;

                if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
                        (void) log_error_errno(errno, "Cannot wait for the worker threads, waiting on: %m");
                        usleep(10000);
                }
                (void) !read(w->efd, &v, sizeof v);
                worker_dispatch_finished(w);
        }

        /* Every task is done: the idle threads end, and the last ones that did not stay. */
        pthread_mutex_lock(&w->lock);
        w->ending = true;
        pthread_cond_broadcast(&w->wake);
        all = TAKE_PTR(w->threads);
        w->n_threads = 0;
        pthread_mutex_unlock(&w->lock);
        join_all(all);

        sd_event_source_disable_unref(w->source);
        safe_close(w->efd);
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
}

int worker_submit(Worker *w, worker_run_fn run, worker_done_fn done, void *userdata) {
        Task *t;
        int r;

        t = malloc(sizeof(Task));
        if (!t)
                return -ENOMEM;
        *t = (Task) { .run = run, .done = done, .userdata = userdata };

        pthread_mutex_lock(&w->lock);
        if (w->idle > w->queued) {
                *w->queue_tail = t;
                w->queue_tail = &t->next;
                w->queued++;
                pthread_cond_signal(&w->wake);
                pthread_mutex_unlock(&w->lock);
                w->running++;
                return 0;
        }
        pthread_mutex_unlock(&w->lock);

        r = thread_start(w, t);
        if (r < 0) {
                free(t);
                return log_error_errno(r, "Cannot start a worker thread: %m");
        }
        w->running++;
        return 0;
}

unsigned worker_running(const Worker *w) {
        return w->running;
}

unsigned worker_threads(Worker *w) {
        unsigned n;

        pthread_mutex_lock(&w->lock);
        n = w->n_threads;
        pthread_mutex_unlock(&w->lock);
        return n;
}
