/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Telling libburn's write thread of one write apart from every other thread of the process.
 *
 * libburn gives neither the thread that burn_disc_write() starts (async.c, add_worker()) nor
 * the drive index N of its last message, "Write thread on drive N ended". But a new thread
 * starts with the name of the thread that made it (clone(2) copies the task's comm), and
 * libburn never names its threads. So the thread that calls burn_disc_write() takes a name of
 * its own for that call, one that no thread had before, and gives its old name back after it:
 * the write thread has that name until it ends, whatever it did or did not do meanwhile. The
 * only other threads that could be born with it are those that the write thread makes, and
 * imapid's FIFO (drive-fifo.c) renames its filling thread first thing.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "media/drive-internal.h"
#include "log.h"
#include "macro.h"

static unsigned mark_counter;

void drive_thread_mark(char ret_mark[static DRIVE_THREAD_NAME_MAX],
                       char ret_saved[static DRIVE_THREAD_NAME_MAX]) {
        memset(ret_saved, 0, DRIVE_THREAD_NAME_MAX);
        (void) prctl(PR_GET_NAME, ret_saved);
        /* 24 bits of hex: a thread would have to outlive 16 million later writes to meet its
         * name again. */
        snprintf(ret_mark, DRIVE_THREAD_NAME_MAX, "libburn-w%06x",
                 __atomic_add_fetch(&mark_counter, 1, __ATOMIC_RELAXED) & 0xffffffu);
        (void) prctl(PR_SET_NAME, ret_mark);
}

void drive_thread_unmark(const char saved[static DRIVE_THREAD_NAME_MAX]) {
        (void) prctl(PR_SET_NAME, saved);
}

/* Whether thread tid (a name in /proc/self/task, dir_fd) has that name. */
static bool task_named(int dir_fd, const char *tid, const char *name) {
        char path[sizeof(((struct dirent *) NULL)->d_name) + 8], comm[DRIVE_THREAD_NAME_MAX + 1];
        _cleanup_close_ int fd = -1;
        ssize_t n;

        snprintf(path, sizeof path, "%s/comm", tid);
        fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;   /* gone meanwhile */
        n = read(fd, comm, sizeof comm - 1);
        if (n <= 0)
                return false;
        comm[n] = 0;
        comm[strcspn(comm, "\n")] = 0;
        return streq(comm, name);
}

int drive_thread_named(const char *name) {
        DIR *dir;
        struct dirent *e;
        int found = 0;

        dir = opendir("/proc/self/task");
        if (!dir)
                return -errno;
        while (!found && (e = readdir(dir)))
                if (e->d_name[0] != '.' && task_named(dirfd(dir), e->d_name, name))
                        found = 1;
        closedir(dir);
        return found;
}

bool drive_write_thread_ended(const Drive *d) {
        static bool warned;
        int r;

        if (!d->write_thread[0])
                return true;    /* burn_disc_write() was not called */
        r = drive_thread_named(d->write_thread);
        if (r < 0 && !__atomic_exchange_n(&warned, true, __ATOMIC_RELAXED))
                log_warning_errno(r, "Cannot list the threads in /proc/self/task (%m): a recorder stays "
                                  "busy for some seconds after each write.");
        return r == 0;
}
