/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The image into its stash file, pulled from libisofs' writer thread (iso.h). */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "media/iso-internal.h"

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
 * collect first. The writer thread never waits for us while the FIFO has room. */
static void wait_for_fifo(struct burn_source *source, size_t bytes) {
        for (unsigned i = 0; i < 1000; i++) {
                size_t cap = 0, free_bytes = 0;

                if (iso_ring_buffer_get_status(source, &cap, &free_bytes) != 1 ||
                    cap - free_bytes >= MIN(bytes, cap / 2))
                        return;
                (void) usleep(200);
        }
}

int iso_build_write(const IsoSource *src, const IsoOptions *o, int out_fd,
                    const volatile bool *cancel, iso_progress_fn progress, void *userdata,
                    uint64_t *ret_blocks, IsoImport *ret_import) {
        _cleanup_free_ uint8_t *buf = NULL;
        IsoImport imp = {};
        IsoBuild b = {};
        uint64_t done = 0, reported = 0;
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

        r = iso_build_image(src, o, false, &imp, &b);
        if (r < 0) {
                /* Whatever libisofs said about it has been logged; don't leave it for the next. */
                (void) iso_flush_messages(-1, false);
                iso_import_done(&imp);
                return r;
        }

        if (progress)
                progress(0, b.blocks, userdata);

        while (done < b.blocks) {
                size_t want = (size_t) MIN((uint64_t) ISO_CHUNK_BLOCKS, b.blocks - done);
                int k;

                if (cancel && *cancel) {
                        r = -ECANCELED;
                        goto finish;
                }
                wait_for_fifo(b.source, want * ISO_BLOCK);
                /* Never ask for more than is left: libisofs drops a partial read at the end. */
                k = b.source->read_xt(b.source, buf, (int) (want * ISO_BLOCK));
                if (k != (int) (want * ISO_BLOCK)) {
                        b.ended = true; /* the writer thread gave up; free_data() joins it */
                        r = iso_flush_messages(b.imgid, false);
                        if (r >= 0)
                                r = -EIO;
                        log_error_errno(r, "Building the image failed at block %" PRIu64 " of %" PRIu64
                                        ": %m", done, b.blocks);
                        goto finish;
                }
                r = write_sparse(out_fd, buf, want, done * ISO_BLOCK);
                if (r < 0) {
                        log_error_errno(r, "Cannot write the image file: %m");
                        goto finish;
                }
                done += want;
                if (progress && (done - reported >= ISO_PROGRESS_BLOCKS || done == b.blocks)) {
                        progress(done, b.blocks, userdata);
                        reported = done;
                }
        }

        /* Wait for the writer thread to finish and learn whether it did so without error. */
        if (b.source->read_xt(b.source, buf, 1) != 0 ||
            iso_ring_buffer_get_status(b.source, NULL, NULL) != 2) {
                b.ended = true;
                r = iso_flush_messages(b.imgid, false);
                if (r >= 0)
                        r = -EIO;
                log_error_errno(r, "libisofs did not finish the image cleanly: %m");
                goto finish;
        }
        b.ended = true;

        if (ftruncate(out_fd, (off_t) (b.blocks * ISO_BLOCK)) < 0) {
                r = log_error_errno(errno, "Cannot set the size of the image file: %m");
                goto finish;
        }
        r = 0;

finish:
        iso_build_done(&b);
        /* After a cancel libisofs reports the aborted write; that is no news. */
        (void) iso_flush_messages(-1, r == -ECANCELED);
        if (r < 0) {
                iso_import_done(&imp);
                return r;
        }
        if (ret_blocks)
                *ret_blocks = done;
        if (ret_import)
                *ret_import = imp;
        else
                iso_import_done(&imp);
        return 0;
}

