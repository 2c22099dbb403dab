/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Images built in several threads at once, as a burn to several recorders builds one per
 * recorder: each build walks its tree with libisofs' directory iterators, which libisofs keeps
 * in one process-wide list, and each image holds a reference on libisofs' one local file system
 * object, counted without atomics. Every build must give the same size as one built alone, and
 * none may crash (under the sanitizers: no use after free in that list or of that object).
 */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/iso.h"
#include "macro.h"
#include "tap.h"

#define THREADS 4
#define ROUNDS 25
#define DIRS 200
#define SMALL_ROUNDS 10000

/* A tree of folders only: nothing is read, and every folder is walked by the build. Names that
 * Joliet cannot hold ("a?b") make the name adaptation walk the tree too. */
static char *paths[DIRS * 2];
static size_t n_paths;

static void source_get(size_t i, IsoEntry *ret, void *userdata) {
        *ret = (IsoEntry) {
                .image_path = paths[i],
                .is_dir = true,
                .mode = 0040755,
                .mtime_usec = 1700000000ULL * 1000000,
        };
}

static int source_open(size_t i, IsoData *ret, void *userdata) {
        return -ENOENT; /* no files */
}

static void options(IsoOptions *o) {
        iso_options_init(o);
        o->volume_id = "THREADS";
        o->volume_time = 1700000000;
        o->adapt_joliet_names = true;
}

static int estimate(size_t n, uint64_t *ret_blocks) {
        IsoSource src = { .n = n, .get = source_get, .open = source_open };
        IsoOptions o;

        options(&o);
        return iso_build_estimate(&src, &o, ret_blocks);
}

typedef struct Worker {
        pthread_t thread;
        size_t n;
        unsigned rounds;
        uint64_t want;
        unsigned good;
} Worker;

static void *run(void *userdata) {
        Worker *w = userdata;

        for (unsigned i = 0; i < w->rounds; i++) {
                uint64_t blocks = 0;

                if (estimate(w->n, &blocks) == 0 && blocks == w->want)
                        w->good++;
        }
        return NULL;
}

/* `rounds` builds of the first n entries in each of THREADS threads at once; how many gave the
 * size of one built alone. */
static unsigned run_threads(size_t n, unsigned rounds, uint64_t alone) {
        Worker workers[THREADS] = {};
        unsigned good = 0;

        for (size_t i = 0; i < THREADS; i++) {
                workers[i] = (Worker) { .n = n, .rounds = rounds, .want = alone };
                if (pthread_create(&workers[i].thread, NULL, run, &workers[i]) != 0)
                        abort();
        }
        for (size_t i = 0; i < THREADS; i++) {
                pthread_join(workers[i].thread, NULL);
                good += workers[i].good;
        }
        return good;
}

int main(void) {
        uint64_t alone = 0, small = 0;
        unsigned good;

        if (iso_library_init() < 0)
                abort();
        for (size_t i = 0; i < DIRS; i++) {
                if (asprintf(&paths[n_paths++], "d%03zu", i) < 0 ||
                    asprintf(&paths[n_paths++], "d%03zu/a?b %zu", i, i) < 0)
                        abort();
        }

        CHECK(estimate(n_paths, &alone) == 0 && alone > 0, "one build alone: %" PRIu64 " blocks", alone);
        good = run_threads(n_paths, ROUNDS, alone);
        CHECK(good == THREADS * ROUNDS, "%u of %u builds in %u threads at once gave the same size", good,
              THREADS * ROUNDS, THREADS);

        /* Many small images, so that most of the time goes to making and freeing images: each
         * holds a reference on libisofs' one local file system object. */
        CHECK(estimate(2, &small) == 0 && small > 0, "one small build alone: %" PRIu64 " blocks", small);
        good = run_threads(2, SMALL_ROUNDS, small);
        CHECK(good == THREADS * SMALL_ROUNDS, "%u of %u small builds in %u threads at once gave the same size",
              good, THREADS * SMALL_ROUNDS, THREADS);

        for (size_t i = 0; i < n_paths; i++)
                free(paths[i]);
        iso_library_finish();
        return tap_done();
}
