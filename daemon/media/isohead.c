/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ISO 9660 heads and the sessions they chain on random-access media (isohead.h). */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "media/isohead.h"
#include "macro.h"

#define BLOCK 2048u

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

int isohead_parse_pvd(const uint8_t *b, IsoVolume *ret) {
        IsoVolume v = {};
        size_t n;

        /* ECMA-119 8.4: type 1, "CD001", version 1, file structure version 1 at byte 881. */
        if (b[0] != 1 || memcmp(b + 1, "CD001", 5) != 0 || b[6] != 1 || b[881] != 1)
                return 0;
        /* Both-byte-order fields: the little-endian half comes first. */
        v.blocks = le32(b + 80);
        v.path_table_bytes = le32(b + 132);
        v.path_table_extent = le32(b + 140);
        /* The root directory record at 156 (9.1): extent at +2, data length at +10. */
        v.root_extent = le32(b + 156 + 2);
        v.root_bytes = le32(b + 156 + 10);
        memcpy(v.volume_id, b + 40, 32);
        for (n = 32; n > 0 && (v.volume_id[n - 1] == ' ' || v.volume_id[n - 1] == 0); n--)
                ;
        v.volume_id[n] = 0;
        if (ret)
                *ret = v;
        return 1;
}

static bool all_zero(const uint8_t *p, size_t n) {
        return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

IsoHeadKind isohead_classify(const uint8_t *head, size_t n_blocks, IsoVolume *ret) {
        const uint8_t *pvd = head + 16 * BLOCK;

        n_blocks = MIN(n_blocks, (size_t) ISOHEAD_BLOCKS);
        if (all_zero(head, n_blocks * BLOCK))
                return ISOHEAD_BLANK;
        if (n_blocks <= 16)
                return ISOHEAD_FOREIGN;
        if (isohead_parse_pvd(pvd, ret) > 0)
                return ISOHEAD_ISO;
        /* A volume that erasing invalidated, with its data still in place. */
        if (memcmp(pvd + 1, "CDXX1", 5) == 0)
                return ISOHEAD_BLANK;
        return ISOHEAD_FOREIGN;
}

uint32_t isohead_next_writable(uint32_t end) {
        return end <= ISOHEAD_FIRST_SESSION ? ISOHEAD_FIRST_SESSION : ALIGN_TO(end, ISOHEAD_ALIGN);
}

/* A session's own descriptors at block `pvd_lba`. */
static bool session_at(uint32_t pvd_lba, isohead_read_fn read, void *userdata, uint8_t *buf, IsoVolume *ret) {
        return read(pvd_lba, buf, 1, userdata) >= 0 && isohead_parse_pvd(buf, ret) > 0;
}

size_t isohead_sessions(const IsoVolume *head, uint32_t readable, isohead_read_fn read, void *userdata,
                        IsoSession *ret, size_t max) {
        _cleanup_free_ uint8_t *buf = malloc(BLOCK);
        uint32_t lba = ISOHEAD_FIRST_SESSION, total = head->blocks;
        bool probe_16 = false;
        size_t n = 0;

        if (max == 0)
                return 0;
        while (buf && lba < total) {
                IsoVolume v;
                uint32_t start, end, at16;

                /* growisofs aligns sessions to 16 blocks, xorriso to 32: where the two differ,
                 * the session may start 16 blocks earlier. Nothing else can be there, since a
                 * 32-aligned session would have started with 16 unused blocks. */
                if (probe_16 && session_at(lba, read, userdata, buf, &v))
                        start = lba - 16;
                else if (session_at(lba + 16, read, userdata, buf, &v))
                        start = lba;
                else
                        break;
                end = start + v.blocks;
                if (readable > 0 && end > readable)
                        end = MAX(readable, start);
                /* A list that is full keeps the newest session last. */
                if (n == max)
                        n--;
                ret[n++] = (IsoSession) { .start = start, .blocks = end - start };
                if (v.blocks == 0)
                        break;
                at16 = ALIGN_TO(end, 16u);
                lba = ALIGN_TO(end, ISOHEAD_ALIGN);
                probe_16 = lba - at16 == 16;
        }
        if (n > 0 && lba >= total)
                return n;
        /* No chain, or one that breaks off: the whole volume from block 0 is a session. */
        if (n == max)
                n--;
        total = readable > 0 ? MIN(total, readable) : total;
        ret[n++] = (IsoSession) { .start = 0, .blocks = total };
        return n;
}

bool isohead_invalidate(uint8_t *head) {
        bool changed = false;

        for (unsigned i = 16; i < ISOHEAD_BLOCKS; i++) {
                uint8_t *b = head + (size_t) i * BLOCK;

                if (memcmp(b + 1, "CD001", 5) == 0) {
                        memcpy(b + 1, "CDXX1", 5);
                        changed = true;
                }
        }
        return changed;
}
