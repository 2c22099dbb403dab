/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Drives made and freed in several threads at once, as hotplug's first look at a new recorder,
 * the renewal of a recorder after a failed write and the removal of another run in workers at
 * the same time. libburn keeps every drive object in one process-wide array without a lock of
 * its own, and frees a slot of it both when a drive is forgotten and when the array a drive came
 * in is freed: a slot that another thread filled in between must not be freed with it. Every
 * drive must keep its address and be grabbed again; none may crash (under the sanitizers: no use
 * after free of a drive's strings). Real libburn on image files ("stdio:" drives).
 *
 * libburn also fills its table of profile names at the first request, unlocked; the first
 * requests may come from grabs of two recorders in two workers. Once drive_library_init() has
 * run, threads asking at once must all get the name.
 */

#include <libburn/libburn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "media/drive.h"
#include "tap.h"

#define THREADS 4
#define ROUNDS 2000
/* Processes, each with NAME_THREADS threads asking for the first profile name at once: the
 * first request of a process is the one that fills the table. */
#define NAME_PROCESSES 300
#define NAME_THREADS 8

static char dir[] = "/tmp/test-drive-threads.XXXXXX";

typedef struct Worker {
        pthread_t thread;
        char address[128];              /* "stdio:" and the path, which libburn gives back */
        unsigned good;
        unsigned made;
} Worker;

static void *run(void *userdata) {
        Worker *w = userdata;

        for (unsigned i = 0; i < ROUNDS; i++) {
                Drive *d = NULL;

                if (drive_new_from_address(w->address, &d) < 0)
                        continue;
                w->made++;
                /* Still this thread's drive, and still usable: grabbed again at once. */
                if (streq(drive_get_address(d), w->address + strlen("stdio:")) &&
                    drive_grab(d, false) >= 0) {
                        drive_release(d, false);
                        w->good++;
                }
                drive_free(d);
        }
        return NULL;
}

static pthread_barrier_t name_barrier;
static unsigned name_bad;

static void *ask_name(void *userdata) {
        char name[80] = "";

        pthread_barrier_wait(&name_barrier);
        if (burn_obtain_profile_name(0x1A, name) <= 0 || !streq(name, "DVD+RW"))
                (void) __atomic_add_fetch(&name_bad, 1, __ATOMIC_RELAXED);
        return NULL;
}

/* In a child, so that its requests are the process's first: 0 if every thread got the name. */
static int ask_names_at_once(void) {
        pthread_t threads[NAME_THREADS];

        if (pthread_barrier_init(&name_barrier, NULL, NAME_THREADS) != 0)
                return -1;
        for (size_t i = 0; i < NAME_THREADS; i++)
                if (pthread_create(&threads[i], NULL, ask_name, NULL) != 0)
                        return -1;
        for (size_t i = 0; i < NAME_THREADS; i++)
                pthread_join(threads[i], NULL);
        return name_bad == 0 ? 0 : -1;
}

static void test_profile_names(void) {
        unsigned bad = 0;

        for (unsigned i = 0; i < NAME_PROCESSES; i++) {
                int status = 0;
                pid_t pid = fork();

                if (pid < 0)
                        abort();
                if (pid == 0)
                        _exit(ask_names_at_once() < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
                if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        bad++;
        }
        CHECK(bad == 0, "%u of %u processes of %u threads asking for a profile name at once got a wrong one "
              "or crashed", bad, NAME_PROCESSES, NAME_THREADS);
}

/* One drive read by READ_THREADS threads at once, as two workers may read the disc of one
 * recorder (a burn's end and the next holder's first look): libburn lends the drive a buffer
 * for each read, and each read must get its own blocks back. */
#define READ_THREADS 4
#define READ_ROUNDS 1000
#define READ_BLOCKS 64
#define READ_AT_ONCE 16

static Drive *read_drive;

static void *read_blocks(void *userdata) {
        unsigned *good = userdata;
        _cleanup_free_ uint8_t *buf = malloc(READ_AT_ONCE * 2048);

        for (unsigned i = 0; buf && i < READ_ROUNDS; i++) {
                uint32_t lba = (i * 7u) % (READ_BLOCKS - READ_AT_ONCE);
                bool same = drive_read_blocks(read_drive, lba, buf, READ_AT_ONCE) >= 0;

                for (size_t k = 0; same && k < READ_AT_ONCE; k++)
                        same = buf[k * 2048] == (uint8_t) (lba + k) && buf[k * 2048 + 2047] == (uint8_t) (lba + k);
                if (same)
                        (*good)++;
        }
        return NULL;
}

static void test_reads_at_once(void) {
        char path[PATH_MAX], address[PATH_MAX + 8];
        pthread_t threads[READ_THREADS];
        unsigned good[READ_THREADS] = {}, all = 0;
        uint8_t block[2048];
        FILE *f;

        snprintf(path, sizeof path, "%s/read.iso", dir);
        f = fopen(path, "we");
        if (!f)
                abort();
        for (unsigned b = 0; b < READ_BLOCKS; b++) {
                memset(block, (int) b, sizeof block);
                if (fwrite(block, sizeof block, 1, f) != 1)
                        abort();
        }
        if (fclose(f) != 0)
                abort();
        snprintf(address, sizeof address, "stdio:%s", path);
        if (drive_new_from_address(address, &read_drive) < 0 || drive_grab(read_drive, false) < 0)
                abort();
        for (size_t i = 0; i < READ_THREADS; i++)
                if (pthread_create(&threads[i], NULL, read_blocks, &good[i]) != 0)
                        abort();
        for (size_t i = 0; i < READ_THREADS; i++) {
                pthread_join(threads[i], NULL);
                all += good[i];
        }
        CHECK(all == READ_THREADS * READ_ROUNDS, "%u of %u reads of one drive in %u threads at once got their "
              "blocks", all, READ_THREADS * READ_ROUNDS, READ_THREADS);
        drive_release(read_drive, false);
        read_drive = drive_free(read_drive);
        (void) unlink(path);
}

int main(void) {
        Worker workers[THREADS] = {};
        unsigned good = 0, made = 0;

        if (!mkdtemp(dir) || drive_library_init() < 0)
                abort();
        for (size_t i = 0; i < THREADS; i++) {
                snprintf(workers[i].address, sizeof workers[i].address, "stdio:%s/disc%zu.iso", dir, i);
                if (pthread_create(&workers[i].thread, NULL, run, &workers[i]) != 0)
                        abort();
        }
        for (size_t i = 0; i < THREADS; i++) {
                pthread_join(workers[i].thread, NULL);
                good += workers[i].good;
                made += workers[i].made;
        }
        CHECK(made == THREADS * ROUNDS, "%u of %u drives made in %u threads at once", made, THREADS * ROUNDS,
              THREADS);
        CHECK(good == made, "%u of %u of them kept their address and were grabbed again", good, made);

        test_profile_names();
        test_reads_at_once();

        drive_library_finish();
        for (size_t i = 0; i < THREADS; i++) {
                char path[PATH_MAX];

                snprintf(path, sizeof path, "%s/disc%zu.iso", dir, i);
                (void) unlink(path);
        }
        (void) rmdir(dir);
        return tap_done();
}
