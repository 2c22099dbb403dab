/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The write buffer of media/drive-fifo.c as libburn's write thread uses it: one block per read,
 * every byte in order, the source's end and failure passed on after the data before them, and a
 * free at any moment (before the first read, mid-write, while the source is slow to answer)
 * that ends its thread and frees the source. Two buffers at once, as two recorders have.
 */

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "media/drive-fifo.h"
#include "tap.h"

typedef struct Pattern {
        uint64_t size;          /* bytes the source has */
        uint64_t pos;
        uint64_t fail_at;       /* fails once this much is read; 0 never */
        unsigned delay_usec;    /* per read */
        bool *freed;
} Pattern;

static uint8_t byte_at(uint64_t pos) {
        return (uint8_t) ((pos * 2654435761U) >> 13);
}

static int pattern_read(struct burn_source *s, unsigned char *buf, int size) {
        Pattern *p = s->data;
        uint64_t n = MIN((uint64_t) size, p->size - p->pos);

        if (p->delay_usec)
                usleep(p->delay_usec);
        if (p->fail_at && p->pos >= p->fail_at)
                return -1;
        for (uint64_t i = 0; i < n; i++)
                buf[i] = byte_at(p->pos + i);
        p->pos += n;
        return (int) n;
}

static off_t pattern_size(struct burn_source *s) {
        return (off_t) ((Pattern *) s->data)->size;
}

static int pattern_set_size(struct burn_source *s, off_t size) {
        return 1;
}

static void pattern_free(struct burn_source *s) {
        Pattern *p = s->data;

        *p->freed = true;
        free(p);
}

static struct burn_source *pattern_new(uint64_t size, uint64_t fail_at, unsigned delay_usec, bool *freed) {
        struct burn_source *s = calloc(1, sizeof(struct burn_source));
        Pattern *p = calloc(1, sizeof(Pattern));

        *p = (Pattern) { .size = size, .fail_at = fail_at, .delay_usec = delay_usec, .freed = freed };
        *freed = false;
        s->refcount = 1;
        s->read = pattern_read;
        s->get_size = pattern_size;
        s->set_size = pattern_set_size;
        s->free_data = pattern_free;
        s->data = p;
        return s;
}

/* Reads the way libburn does (2048 bytes a call) until end or failure; returns the bytes read
 * in order and right, or -1 after a failure; *ret_bad is set on the first wrong byte. */
static int64_t drain(struct burn_source *fifo, uint64_t limit, bool *ret_bad) {
        uint8_t buf[2048];
        uint64_t pos = 0;

        *ret_bad = false;
        while (pos < limit) {
                int n = fifo->read_xt(fifo, buf, sizeof buf);

                if (n < 0)
                        return -1;
                if (n == 0)
                        break;
                for (int i = 0; i < n; i++)
                        if (buf[i] != byte_at(pos + (uint64_t) i))
                                *ret_bad = true;
                pos += (uint64_t) n;
        }
        return (int64_t) pos;
}

static void *drain_thread(void *userdata) {
        struct burn_source *fifo = userdata;
        bool bad;
        int64_t n = drain(fifo, UINT64_MAX, &bad);

        return (void *) (intptr_t) (!bad && n == 48 * 2048 + 100);
}

static struct burn_source *source_and_fifo(uint64_t size, uint64_t fail_at, unsigned delay, size_t ring,
                                           bool *freed) {
        struct burn_source *src = pattern_new(size, fail_at, delay, freed);
        struct burn_source *fifo = drive_fifo_new(src, ring);

        /* The buffer holds its own reference, as a track holds the buffer's. */
        burn_source_free(src);
        return fifo;
}

int main(void) {
        size_t size, filled;
        bool freed, freed2, bad;
        struct burn_source *fifo, *fifo2;
        pthread_t t1, t2;
        void *ok1, *ok2;
        int64_t n;

        /* 40 MiB and a bit through a 1 MiB ring: it wraps forty times. */
        fifo = source_and_fifo(40 * 1024 * 1024 + 2048 * 3 + 7, 0, 0, 1 << 20, &freed);
        CHECK(fifo && fifo->version == 1 && !fifo->read && fifo->get_size(fifo) == 40 * 1024 * 1024 + 6151,
              "a version 1 source with the size of its source");
        CHECK(!drive_fifo_status(fifo, &size, &filled), "not active before the first read");
        n = drain(fifo, UINT64_MAX, &bad);
        CHECK(n == 40 * 1024 * 1024 + 6151 && !bad, "every byte in order, the short last read at the end (%lld)",
              (long long) n);
        CHECK(fifo->read_xt(fifo, (unsigned char[2048]) {}, 2048) == 0, "then the end, again");
        CHECK(!drive_fifo_status(fifo, &size, &filled) && size >= 1 << 20 && filled == 0,
              "ended and empty: not active");
        burn_source_free(fifo);
        CHECK(freed, "its free frees the source");

        fifo = source_and_fifo(10 * 1024 * 1024, 3 * 1024 * 1024, 0, 1 << 20, &freed);
        n = drain(fifo, UINT64_MAX, &bad);
        CHECK(n == -1 && !bad, "a failing source: its data in order, then the failure");
        burn_source_free(fifo);
        CHECK(freed, "and freed");

        fifo = source_and_fifo(1 << 20, 0, 0, 1 << 20, &freed);
        burn_source_free(fifo);
        CHECK(freed, "freed before the first read: no thread, the source freed");

        /* A slow source (as a generated image waiting for a file's data), freed mid-write while
         * its thread is in a read, after the reader went away (libburn's cancel). */
        fifo = source_and_fifo(UINT64_C(1) << 40, 0, 200 * 1000, 1 << 20, &freed);
        n = drain(fifo, 3 * 64 * 1024, &bad);
        CHECK(n == 3 * 64 * 1024 && !bad, "a slow, endless source read in part");
        CHECK(drive_fifo_status(fifo, &size, &filled) && filled <= size, "active mid-write");
        fifo->cancel(fifo);
        burn_source_free(fifo);
        CHECK(freed, "cancelled and freed while its thread reads: the thread ended, the source freed");

        /* A fast source filling its ring, freed with the ring full. */
        fifo = source_and_fifo(UINT64_C(1) << 40, 0, 0, 1 << 20, &freed);
        n = drain(fifo, 2048, &bad);
        for (unsigned i = 0; i < 200 && drive_fifo_status(fifo, &size, &filled) && filled < size - 64 * 1024; i++)
                usleep(5000);
        CHECK(filled >= size - 64 * 1024, "an idle reader: the ring fills to its last chunk (%zu of %zu)", filled,
              size);
        burn_source_free(fifo);
        CHECK(freed, "freed full, without a cancel first");

        /* Two at once, as two recorders writing side by side, each with its own thread. */
        fifo = source_and_fifo(48 * 2048 + 100, 0, 1000, 64 * 1024, &freed);
        fifo2 = source_and_fifo(48 * 2048 + 100, 0, 0, 64 * 1024, &freed2);
        pthread_create(&t1, NULL, drain_thread, fifo);
        pthread_create(&t2, NULL, drain_thread, fifo2);
        pthread_join(t1, &ok1);
        pthread_join(t2, &ok2);
        CHECK(ok1 && ok2, "two buffers read at once each give their own source's bytes");
        burn_source_free(fifo);
        burn_source_free(fifo2);
        CHECK(freed && freed2, "and both free");

        return tap_done();
}
