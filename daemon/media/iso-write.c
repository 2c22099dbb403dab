/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The image as a stream pulled from libisofs' writer thread, and into a file for those who want
 * one (iso.h). */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "media/iso-internal.h"

struct IsoOutput {
        IsoBuild build;
        IsoImport import;
        uint64_t done;          /* blocks read */
        bool failed;
};

/* Bytes pulled from libisofs' FIFO at a time, in blocks. */
#define ISO_CHUNK_BLOCKS 256U
/* Progress is reported every this many blocks (16 MiB). */
#define ISO_PROGRESS_BLOCKS 8192U

static bool block_is_zero(const uint8_t *p) {
        return p[0] == 0 && memcmp(p, p + 1, ISO_BLOCK - 1) == 0;
}

static int pwrite_all(int fd, const uint8_t *p, size_t size, uint64_t offset) {
        while (size > 0) {
                ssize_t k = pwrite(fd, p, size, (off_t) offset);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                size -= (size_t) k;
                offset += (uint64_t) k;
        }
        return 0;
}

/* Writes the runs of non-zero blocks; zero blocks stay holes in the file. */
static int write_sparse(int fd, const uint8_t *buf, size_t blocks, uint64_t offset) {
        size_t i = 0;

        while (i < blocks) {
                size_t j;
                int r;

                if (block_is_zero(buf + i * ISO_BLOCK)) {
                        i++;
                        continue;
                }
                for (j = i + 1; j < blocks && !block_is_zero(buf + j * ISO_BLOCK); j++)
                        ;
                r = pwrite_all(fd, buf + i * ISO_BLOCK, (j - i) * ISO_BLOCK, offset + i * ISO_BLOCK);
                if (r < 0)
                        return r;
                i = j;
        }
        return 0;
}

/* libisofs' FIFO wakes its reader for every 2 KiB it gets. Reading a chunk as it trickles in
 * costs two context switches per block and doubled the time of a large image; let the chunk
 * collect first. The writer thread never waits for us while the FIFO has room. Returns how many
 * of `blocks` to take now: no more than half the FIFO, so that a read larger than it (the FIFO
 * is small, iso-build.c) does not trickle in either. */
static size_t wait_for_fifo(struct burn_source *source, size_t blocks) {
        size_t cap = 0, free_bytes = 0, want = blocks;

        for (unsigned i = 0; i < 1000; i++) {
                if (iso_ring_buffer_get_status(source, &cap, &free_bytes) != 1)
                        break;
                want = MIN(blocks, MAX(cap / 2 / ISO_BLOCK, (size_t) 1));
                if (cap - free_bytes >= want * ISO_BLOCK)
                        break;
                (void) usleep(200);
        }
        return want;
}

int iso_output_new(const IsoSource *src, const IsoOptions *o, IsoOutput **ret) {
        IsoOutput *s;
        int r;

        s = calloc(1, sizeof(IsoOutput));
        if (!s)
                return log_oom();
        r = iso_build_image(src, o, false, &s->import, &s->build);
        if (r < 0) {
                /* Whatever libisofs said about it has been logged; don't leave it for the next. */
                (void) iso_flush_messages(-1, false);
                iso_import_done(&s->import);
                free(s);
                return r;
        }
        *ret = s;
        return 0;
}

uint64_t iso_output_blocks(const IsoOutput *s) {
        return s->build.blocks;
}

/* The writer thread gave up: why, in its messages, and which staged file was to blame. */
static int stream_failed(IsoOutput *s, const char *what) {
        int r;

        s->build.ended = true; /* free_data() joins the thread */
        s->failed = true;
        r = iso_flush_messages(s->build.imgid, false);
        if (r >= 0)
                r = -EIO;
        return log_error_errno(r, "%s at block %" PRIu64 " of %" PRIu64 ": %m", what, s->done, s->build.blocks);
}

int iso_output_read(IsoOutput *s, uint8_t *buf, size_t blocks) {
        int k;

        if (s->failed)
                return -EIO;
        if (blocks == 0 || blocks > s->build.blocks - s->done)
                return -EINVAL;
        while (blocks > 0) {
                size_t n = wait_for_fifo(s->build.source, blocks);

                /* Never ask for more than is left: libisofs drops a partial read at the end. */
                k = s->build.source->read_xt(s->build.source, buf, (int) (n * ISO_BLOCK));
                if (k != (int) (n * ISO_BLOCK))
                        return stream_failed(s, "Generating the image failed");
                s->done += n;
                buf += n * ISO_BLOCK;
                blocks -= n;
        }
        return 0;
}

int iso_output_finish(IsoOutput *s) {
        uint8_t byte;

        if (s->failed || s->done < s->build.blocks)
                return -EIO;
        if (s->build.ended)
                return 0;
        /* Wait for the writer thread to finish and learn whether it did so without error. */
        if (s->build.source->read_xt(s->build.source, &byte, 1) != 0 ||
            iso_ring_buffer_get_status(s->build.source, NULL, NULL) != 2)
                return stream_failed(s, "libisofs did not finish the image cleanly");
        s->build.ended = true;
        return 0;
}

size_t iso_output_failed_entry(const IsoOutput *s) {
        return s->build.streams ? iso_stash_streams_failed(s->build.streams) : SIZE_MAX;
}

void iso_output_take_import(IsoOutput *s, IsoImport *ret) {
        *ret = s->import;
        s->import = (IsoImport) {};
}

IsoOutput *iso_output_free(IsoOutput *s) {
        bool stopped;

        if (!s)
                return NULL;
        stopped = s->build.started && !s->build.ended;
        iso_build_done(&s->build);
        /* After a stop libisofs reports the aborted write; that is no news. */
        (void) iso_flush_messages(-1, stopped);
        iso_import_done(&s->import);
        free(s);
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(IsoOutput *, iso_output_free);

int iso_build_write(const IsoSource *src, const IsoOptions *o, int out_fd,
                    const volatile bool *cancel, iso_progress_fn progress, void *userdata,
                    uint64_t *ret_blocks, IsoImport *ret_import) {
        _cleanup_(iso_output_freep) IsoOutput *s = NULL;
        _cleanup_free_ uint8_t *buf = NULL;
        uint64_t done = 0, reported = 0, blocks;
        struct stat st;
        int r;

        if (fstat(out_fd, &st) < 0)
                return log_error_errno(errno, "Cannot stat the image file: %m");
        if (!S_ISREG(st.st_mode))
                return log_error_errno(EINVAL, "The image must be written to a regular file.");
        buf = malloc(ISO_CHUNK_BLOCKS * ISO_BLOCK);
        if (!buf)
                return log_oom();
        /* Skipped blocks must read back as zeros: start from an empty file. */
        if (ftruncate(out_fd, 0) < 0)
                return log_error_errno(errno, "Cannot truncate the image file: %m");

        r = iso_output_new(src, o, &s);
        if (r < 0)
                return r;
        blocks = iso_output_blocks(s);
        if (progress)
                progress(0, blocks, userdata);

        while (done < blocks) {
                size_t want = (size_t) MIN((uint64_t) ISO_CHUNK_BLOCKS, blocks - done);

                if (cancel && *cancel)
                        return -ECANCELED;
                r = iso_output_read(s, buf, want);
                if (r < 0)
                        return r;
                r = write_sparse(out_fd, buf, want, done * ISO_BLOCK);
                if (r < 0)
                        return log_error_errno(r, "Cannot write the image file: %m");
                done += want;
                if (progress && (done - reported >= ISO_PROGRESS_BLOCKS || done == blocks)) {
                        progress(done, blocks, userdata);
                        reported = done;
                }
        }
        r = iso_output_finish(s);
        if (r < 0)
                return r;
        if (ftruncate(out_fd, (off_t) (blocks * ISO_BLOCK)) < 0)
                return log_error_errno(errno, "Cannot set the size of the image file: %m");
        if (ret_blocks)
                *ret_blocks = done;
        if (ret_import)
                iso_output_take_import(s, ret_import);
        return 0;
}
