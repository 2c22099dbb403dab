/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A thread per task, completions handed back to the event loop through an eventfd. */

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "core/worker.h"

#define WORKER_NICE 10

typedef struct Task {
        Worker *worker;
        pthread_t thread;
        worker_run_fn run;
        worker_done_fn done;
        void *userdata;
        struct Task *next;      /* on the finished list */
} Task;

struct Worker {
        sd_event_source *source;
        int efd;
        pthread_mutex_t lock;
        Task *finished;         /* guarded by lock */
        unsigned running;       /* loop thread only */
};

static void *task_thread(void *p) {
        Task *t = p;
        Worker *w = t->worker;
        uint64_t one = 1;

        /* Background work: when the CPUs are contended, the event loop (which answers the bus
         * and feeds the recorder's progress) goes first. Threads that libisofs starts from
         * here inherit this; libburn's write thread, started from the loop, does not. */
        (void) setpriority(PRIO_PROCESS, (id_t) gettid(), WORKER_NICE);
        t->run(t->userdata);

        pthread_mutex_lock(&w->lock);
        t->next = w->finished;
        w->finished = t;
        pthread_mutex_unlock(&w->lock);
        /* An eventfd write cannot fail short of a counter overflow. */
        (void) !write(w->efd, &one, sizeof one);
        return NULL;
}

static void worker_dispatch_finished(Worker *w) {
        Task *list;

        pthread_mutex_lock(&w->lock);
        list = w->finished;
        w->finished = NULL;
        pthread_mutex_unlock(&w->lock);

        while (list) {
                Task *t = list;

                list = t->next;
                (void) pthread_join(t->thread, NULL);
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

int worker_new(sd_event *event, Worker **ret) {
        Worker *w;
        int r;

        w = calloc(1, sizeof(Worker));
        if (!w)
                return -ENOMEM;
        pthread_mutex_init(&w->lock, NULL);
        w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->efd < 0) {
                r = -errno;
                free(w);
                return r;
        }
        r = sd_event_add_io(event, &w->source, w->efd, EPOLLIN, on_eventfd, w);
        if (r < 0) {
                close(w->efd);
                free(w);
                return r;
        }
        *ret = w;
        return 0;
}

Worker *worker_free(Worker *w) {
        if (!w)
                return NULL;
        /* Tasks poll their cancel flags; their owners set them before getting here. */
        while (w->running > 0) {
                uint64_t v;

                if (read(w->efd, &v, sizeof v) < 0 && errno == EAGAIN)
                        usleep(10000);
                worker_dispatch_finished(w);
        }
        sd_event_source_disable_unref(w->source);
        safe_close(w->efd);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
}

int worker_submit(Worker *w, worker_run_fn run, worker_done_fn done, void *userdata) {
        pthread_attr_t attr;
        Task *t;
        int r;

        t = calloc(1, sizeof(Task));
        if (!t)
                return -ENOMEM;
        *t = (Task) { .worker = w, .run = run, .done = done, .userdata = userdata };

        pthread_attr_init(&attr);
        /* Copy and image loops need little stack; libisofs calls back on its own threads. */
        pthread_attr_setstacksize(&attr, 1024 * 1024);
        r = pthread_create(&t->thread, &attr, task_thread, t);
        pthread_attr_destroy(&attr);
        if (r != 0) {
                free(t);
                return log_error_errno(r, "Cannot start a worker thread: %m");
        }
        w->running++;
        return 0;
}

unsigned worker_running(const Worker *w) {
        return w->running;
}
