/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ISO 9660 heads on random-access media: what is blank, ISO or foreign, and which sessions xorriso's
 * and growisofs' layouts leave. */

#include <stdlib.h>
#include <string.h>

#include "media/isohead.h"
#include "tap.h"

#define BLOCK 2048
#define MEDIUM_BLOCKS 4096

static uint8_t *medium;
static uint32_t medium_end = MEDIUM_BLOCKS;     /* what can be read */

static void put_le32(uint8_t *p, uint32_t v) {
        p[0] = v, p[1] = v >> 8, p[2] = v >> 16, p[3] = v >> 24;
}

static void put_be32(uint8_t *p, uint32_t v) {
        p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
}

/* A primary volume descriptor at block lba, of a volume of `blocks` blocks. */
static void put_pvd(uint32_t lba, uint32_t blocks, uint32_t root, const char *name) {
        uint8_t *b = medium + (size_t) lba * BLOCK;

        memset(b, 0, BLOCK);
        b[0] = 1;
        memcpy(b + 1, "CD001", 5);
        b[6] = 1;
        memset(b + 40, ' ', 32);
        memcpy(b + 40, name, strlen(name));
        put_le32(b + 80, blocks);
        put_be32(b + 84, blocks);
        put_le32(b + 132, 10);
        put_le32(b + 140, root - 2);
        put_le32(b + 156 + 2, root);
        put_le32(b + 156 + 10, 2048);
        b[881] = 1;
}

/* A session as libisofs writes one at `start`: its own descriptors at start + 16. */
static void put_session(uint32_t start, uint32_t blocks) {
        put_pvd(start + 16, blocks, start + 20, "SESSION");
}

static int read_medium(uint32_t lba, uint8_t *buf, size_t n, void *userdata) {
        if ((uint64_t) lba + n > medium_end)
                return -5;
        memcpy(buf, medium + (size_t) lba * BLOCK, n * BLOCK);
        return 0;
}

static size_t sessions_of(uint32_t readable, IsoSession *ret, size_t max) {
        IsoVolume v;

        if (isohead_classify(medium, ISOHEAD_BLOCKS, &v) != ISOHEAD_ISO)
                return 0;
        return isohead_sessions(&v, readable, read_medium, NULL, ret, max);
}

int main(void) {
        IsoSession s[ISOHEAD_MAX_SESSIONS];
        IsoVolume v;
        size_t n;

        medium = calloc(MEDIUM_BLOCKS, BLOCK);
        if (!medium)
                return 1;

        CHECK(isohead_classify(medium, ISOHEAD_BLOCKS, &v) == ISOHEAD_BLANK, "zeros are a blank medium");
        CHECK(isohead_classify(medium, 0, &v) == ISOHEAD_BLANK, "so is an empty one");
        medium[5] = 1;
        CHECK(isohead_classify(medium, 10, &v) == ISOHEAD_FOREIGN, "data in a medium too short for a volume is foreign");
        CHECK(isohead_classify(medium, ISOHEAD_BLOCKS, &v) == ISOHEAD_FOREIGN,
              "data without a volume descriptor at block 16 is foreign");
        medium[5] = 0;

        /* What xorriso leaves after two sessions: one at 32 of 25 blocks, one at 64 of 25, the
         * head pointing at the second, ending at 89. */
        put_session(32, 25);
        put_session(64, 25);
        put_pvd(16, 89, 84, "GROWN");
        CHECK(isohead_classify(medium, ISOHEAD_BLOCKS, &v) == ISOHEAD_ISO && v.blocks == 89 && v.root_extent == 84 &&
              v.root_bytes == 2048 && strcmp(v.volume_id, "GROWN") == 0, "the head's volume is read");
        n = sessions_of(0, s, ISOHEAD_MAX_SESSIONS);
        CHECK(n == 2 && s[0].start == 32 && s[0].blocks == 25 && s[1].start == 64 && s[1].blocks == 25,
              "xorriso's chain gives its two sessions (%zu)", n);
        CHECK(isohead_next_writable(v.blocks) == 96, "the next session starts at the next multiple of 32");
        CHECK(isohead_next_writable(96) == 96 && isohead_next_writable(97) == 128 && isohead_next_writable(0) == 32,
              "aligned ends stay, others round up, the first session is at 32");

        /* A third session written as growisofs aligns it: after the end at 89, at 96 (16-aligned
         * is 96 as well); then one of 40 at 96 ends at 136, which growisofs follows at 144 and
         * xorriso would follow at 160. */
        put_session(96, 40);
        put_session(144, 20);
        put_pvd(16, 164, 164, "GROWISOFS");
        n = sessions_of(0, s, ISOHEAD_MAX_SESSIONS);
        CHECK(n == 4 && s[2].start == 96 && s[3].start == 144 && s[3].blocks == 20,
              "a session 16 blocks before xorriso's alignment is found (%zu, %u)", n, n == 4 ? s[3].start : 0);

        /* Clamped to what the medium holds: an image file cut short in the third session. */
        medium_end = 130;
        n = sessions_of(medium_end, s, ISOHEAD_MAX_SESSIONS);
        CHECK(n == 4 && s[2].start == 96 && s[2].blocks == 34 && s[3].start == 0 && s[3].blocks == 130,
              "a session is no longer than the readable part, and what follows is not found");
        medium_end = MEDIUM_BLOCKS;

        /* The chain breaks: the sessions found, then the whole volume from block 0, as xorriso
         * lists it. */
        memset(medium + 160 * BLOCK, 0, BLOCK);
        n = sessions_of(0, s, ISOHEAD_MAX_SESSIONS);
        CHECK(n == 4 && s[2].start == 96 && s[3].start == 0 && s[3].blocks == 164,
              "a broken chain ends with the whole volume");
        n = sessions_of(0, s, 2);
        CHECK(n == 2 && s[1].start == 0, "even when the list is full");

        /* An image written at block 0 by mkisofs: no chain, one session. */
        memset(medium, 0, (size_t) MEDIUM_BLOCKS * BLOCK);
        put_pvd(16, 300, 20, "MKISOFS");
        n = sessions_of(0, s, ISOHEAD_MAX_SESSIONS);
        CHECK(n == 1 && s[0].start == 0 && s[0].blocks == 300, "an image from block 0 is one session");
        CHECK(isohead_next_writable(300) == 320, "and grows at block 320");

        /* Erasing as xorriso does renames the descriptors; the data stays. */
        put_pvd(17, 300, 20, "SECOND");
        medium[17 * BLOCK] = 2;
        CHECK(isohead_invalidate(medium), "the head is invalidated");
        CHECK(memcmp(medium + 16 * BLOCK + 1, "CDXX1", 5) == 0 && memcmp(medium + 17 * BLOCK + 1, "CDXX1", 5) == 0,
              "every descriptor of the head is renamed");
        CHECK(isohead_classify(medium, ISOHEAD_BLOCKS, &v) == ISOHEAD_BLANK, "an invalidated file system is blank");
        CHECK(!isohead_invalidate(medium), "a second time changes nothing");
        CHECK(isohead_parse_pvd(medium + 16 * BLOCK, &v) == 0, "and no volume is found");

        free(medium);
        return tap_done();
}
