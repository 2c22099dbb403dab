/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading a disc for a copy: how far a data disc's ISO 9660 volume reaches, and its blocks, or an
 * audio CD's raw sectors, with retries. A drive that fails a read of many blocks is asked again
 * one block at a time, so that a bad block is named exactly, and each block is tried
 * DRIVE_READ_ATTEMPTS times before it counts as unreadable (a drive's own retries already ran for every attempt: MMC-6 6.2,
 * Read Error Recovery mode page).
 */

#include <errno.h>
#include <string.h>

#include "media/drive-internal.h"
#include "media/isohead.h"
#include "macro.h"

int drive_read_volume_blocks(Drive *d, const MediaInfo *m, uint32_t *ret_blocks, char *ret_volume_id,
                             size_t volume_id_size) {
        uint8_t block[2048];
        IsoVolume v;
        int r;

        if (!drive_media_range_readable(m, m->start_address + 16, 1))
                return -ENODATA;
        r = drive_read_blocks(d, m->start_address + 16, block, 1);
        if (r < 0)
                return r;
        if (isohead_parse_pvd(block, &v) <= 0)
                return -ENOMEDIUM;
        *ret_blocks = v.blocks;
        if (ret_volume_id)
                snprintf(ret_volume_id, volume_id_size, "%s", v.volume_id);
        return 0;
}

uint32_t drive_media_readable_end(const MediaInfo *m) {
        uint32_t end = 0;

        for (size_t i = 0; i < m->n_readable; i++)
                end = MAX(end, m->readable[i].start + m->readable[i].blocks);
        return end;
}

/* One block (audio: a raw CD-DA sector), DRIVE_READ_ATTEMPTS times at most. */
static int read_one(Drive *d, int64_t lba, uint8_t *buf, bool audio) {
        int r = -EIO;

        for (unsigned attempt = 0; attempt < DRIVE_READ_ATTEMPTS && r < 0; attempt++) {
                if (drive_is_lost(d))
                        return -ENODEV;
                r = audio ? drive_read_audio(d, (int32_t) lba, buf, 1) : drive_read_blocks(d, (uint32_t) lba, buf, 1);
        }
        return r;
}

int drive_read_copy_blocks(Drive *d, const MediaInfo *m, uint32_t lba, uint8_t *buf, size_t n,
                           uint32_t *ret_bad_lba) {
        int r;

        /* Blocks outside every track (the lead-out and lead-in between sessions) hold nothing a
         * reader of the file system follows: they stay zero in the copy. */
        if (drive_media_range_readable(m, lba, (uint32_t) n) && drive_read_blocks(d, lba, buf, n) >= 0)
                return 0;
        for (size_t i = 0; i < n; i++) {
                uint8_t *b = buf + i * 2048;

                if (!drive_media_range_readable(m, lba + (uint32_t) i, 1)) {
                        memset(b, 0, 2048);
                        continue;
                }
                r = read_one(d, lba + (uint32_t) i, b, false);
                if (r < 0) {
                        *ret_bad_lba = lba + (uint32_t) i;
                        return r;
                }
        }
        return 0;
}

int drive_read_audio_copy(Drive *d, int32_t lba, uint8_t *buf, size_t n, int32_t *ret_bad_lba) {
        int r;

        if (drive_read_audio(d, lba, buf, n) >= 0)
                return 0;
        for (size_t i = 0; i < n; i++) {
                r = read_one(d, lba + (int32_t) i, buf + i * 2352, true);
                if (r < 0) {
                        *ret_bad_lba = lba + (int32_t) i;
                        return r;
                }
        }
        return 0;
}
