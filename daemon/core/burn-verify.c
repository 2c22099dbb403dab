/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading back what a burn wrote (burn-ops.h), in a worker: blocks of the medium against a file
 * of the stash (the disc image staged as it is), or against the checksums of the chunks of a
 * stream taken while it was written (the image generated for a data disc).
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <imapi/imapierror.h>

#include <xxhash.h>

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

int burn_checksums_init(BurnChecksums *c, uint64_t blocks) {
        uint64_t chunks = DIV_ROUND_UP(blocks, BURN_CHECKSUM_BLOCKS);

        *c = (BurnChecksums) { .blocks = blocks };
        c->sums = calloc(MAX(chunks, (uint64_t) 1), sizeof(uint64_t));
        c->state = XXH3_createState();
        if (!c->sums || !c->state || XXH3_64bits_reset(c->state) != XXH_OK) {
                burn_checksums_done(c);
                return -ENOMEM;
        }
        return 0;
}

void burn_checksums_done(BurnChecksums *c) {
        free(c->sums);
        if (c->state)
                XXH3_freeState(c->state);
        *c = (BurnChecksums) {};
}

void burn_checksums_add(BurnChecksums *c, const uint8_t *buf, size_t blocks) {
        if (!c->state)
                return;         /* none taken: the burn does not verify */
        while (blocks > 0 && c->added < c->blocks) {
                uint64_t in_chunk = c->added % BURN_CHECKSUM_BLOCKS;
                size_t n = (size_t) MIN((uint64_t) blocks, BURN_CHECKSUM_BLOCKS - in_chunk);

                n = (size_t) MIN((uint64_t) n, c->blocks - c->added);
                (void) XXH3_64bits_update(c->state, buf, n * 2048);
                c->added += n;
                buf += n * 2048;
                blocks -= n;
                if (c->added % BURN_CHECKSUM_BLOCKS == 0 || c->added == c->blocks) {
                        c->sums[(c->added - 1) / BURN_CHECKSUM_BLOCKS] = XXH3_64bits_digest(c->state);
                        (void) XXH3_64bits_reset(c->state);
                }
        }
}

/* A checksum's chunk is read in pieces of BURN_VERIFY_CHUNK_BLOCKS, as the other reads are:
 * progress and a cancel between them. */
int burn_verify_checksums(Burn *b, const BurnChecksums *c, uint32_t start_lba, burn_locate_fn locate,
                          void *userdata, int64_t *ret_bad) {
        _cleanup_free_ uint8_t *buf = malloc(BURN_CHECKSUM_BLOCKS * 2048);

        *ret_bad = 0;
        if (!buf)
                return -ENOMEM;
        for (uint64_t i = 0; i < c->blocks; i += BURN_CHECKSUM_BLOCKS) {
                size_t n = (size_t) MIN((uint64_t) BURN_CHECKSUM_BLOCKS, c->blocks - i);
                uint32_t lba = start_lba + (uint32_t) i;
                int64_t bad;

                for (size_t k = 0; k < n; k += BURN_VERIFY_CHUNK_BLOCKS) {
                        size_t m = MIN((size_t) BURN_VERIFY_CHUNK_BLOCKS, n - k);

                        if (b->cancel)
                                return -ECANCELED;
                        bad = burn_verify_chunk(b, lba + (uint32_t) k, m, NULL, buf + k * 2048);
                        if (bad < 0) {
                                *ret_bad = bad;
                                return 0;
                        }
                        atomic_fetch_add(&b->blocks_done, m);
                }
                if (XXH3_64bits(buf, n * 2048) != c->sums[i / BURN_CHECKSUM_BLOCKS]) {
                        bad = locate ? locate(b, lba, buf, n, userdata) : -EINVAL;
                        *ret_bad = (bad >= lba && bad < (int64_t) (lba + n) ? bad : lba) + 1;
                        return 0;
                }
        }
        return 0;
}
