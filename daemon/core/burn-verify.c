/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading back what a burn wrote (burn-ops.h): blocks of the medium against a file of the stash
 * (the image built for a data disc, or the disc image staged as it is), in a worker.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <imapi/imapierror.h>

#include "core/burn-ops.h"
#include "macro.h"

int64_t burn_verify_chunk(Burn *b, uint32_t lba, size_t n, const uint8_t *want, uint8_t *buf) {
        Drive *drive = b->recorder->drive;

        if (drive_read_blocks(drive, lba, buf, n) < 0) {
                /* Which block: one at a time, once, after the fast path failed. */
                for (size_t k = 0; k < n; k++)
                        if (drive_read_blocks(drive, lba + (uint32_t) k, buf, 1) < 0)
                                return -(int64_t) (lba + k + 1);
                return -(int64_t) (lba + 1);
        }
        if (want)
                for (size_t k = 0; k < n; k++)
                        if (memcmp(want + k * 2048, buf + k * 2048, 2048) != 0)
                                return (int64_t) (lba + k + 1);
        return 0;
}

int burn_verify_file(Burn *b, int fd, uint64_t blocks, uint32_t start_lba, const char *what) {
        _cleanup_free_ uint8_t *a = malloc(BURN_VERIFY_CHUNK_BLOCKS * 2048),
                               *buf = malloc(BURN_VERIFY_CHUNK_BLOCKS * 2048);

        if (!a || !buf)
                return -ENOMEM;
        for (uint64_t i = 0; i < blocks; i += BURN_VERIFY_CHUNK_BLOCKS) {
                size_t n = (size_t) MIN((uint64_t) BURN_VERIFY_CHUNK_BLOCKS, blocks - i);
                int64_t bad;

                if (b->cancel)
                        return -ECANCELED;
                if (pread(fd, a, n * 2048, (off_t) (i * 2048)) != (ssize_t) (n * 2048))
                        return burn_fail(b, IMAPI_E_FILEACCESS,
                                         "Cannot read %s in the stash for verification.", what);
                bad = burn_verify_chunk(b, start_lba + (uint32_t) i, n, a, buf);
                if (bad < 0)
                        return burn_fail(b, IMAPI_E_DISCINFO,
                                         "Verification failed: block %lld of %s cannot be read back.",
                                         (long long) -bad - 1, what);
                if (bad > 0)
                        return burn_fail(b, IMAPI_E_CANNOT_WRITE_TO_MEDIA,
                                         "Verification failed: block %lld reads back differently from what "
                                         "was written.", (long long) bad - 1);
                atomic_fetch_add(&b->blocks_done, n);
        }
        return 0;
}
