/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The track bookkeeping of a Redbook disc master: blocks, gaps, what fits, the limits. */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cdtext.h"
#include "core/redbook.h"
#include "macro.h"
#include "tap.h"

static unsigned removed;

static void count_removed(const char *path, void *userdata) {
        removed++;
        CHECK(strncmp(path, "t", 1) == 0, "remove_file gets the stash path %s", path);
}

static void test_empty(void) {
        Redbook rb;

        redbook_init(&rb);
        CHECK(rb.n == 0 && !rb.track_open && rb.open_fd == -1, "a new Redbook has no track");
        CHECK(redbook_used_blocks(&rb) == 0, "nothing used");
        CHECK(redbook_gap_blocks(&rb, 150) == 0, "no gaps without tracks");
        CHECK(redbook_available_blocks(&rb, 1000, 150) == 1000, "a first track may take the whole disc");
        CHECK(redbook_check_close(&rb) == -ENOENT, "nothing to close");
        CHECK(redbook_check_create(&rb) == 0, "a track may be created");
        redbook_clear(&rb, NULL, NULL);
}

static void test_tracks_and_gaps(void) {
        char *p;
        Redbook rb;
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

        redbook_init(&rb);
        CHECK(redbook_add_track(&rb, strdup("t1"), fd, 0) == 0, "track 1 created");
        CHECK(rb.track_open && rb.open_fd == fd, "track 1 is open with its file");
        CHECK(redbook_check_create(&rb) == -EBUSY, "no second track while one is open");
        p = strdup("t2");
        CHECK(redbook_add_track(&rb, p, -1, 0) == -EBUSY, "add_track refuses too (the path stays the caller's)");
        free(p);
        redbook_track_grew(&rb, 299);
        CHECK(redbook_check_close(&rb) == -EMSGSIZE, "299 blocks are under 4 s");
        CHECK(rb.track_open, "the short track stays open");
        redbook_track_grew(&rb, 1);
        CHECK(redbook_check_close(&rb) == 0, "300 blocks may be closed");
        /* open: what the disc has, less the track itself */
        CHECK(redbook_available_blocks(&rb, 1000, 150) == 700, "the open track may grow to the disc's end");
        redbook_close_track(&rb);
        CHECK(!rb.track_open && rb.open_fd == -1, "closed, its fd too");
        CHECK(redbook_available_blocks(&rb, 1000, 150) == 550, "a new track would bring a gap of 150");
        CHECK(redbook_available_blocks(&rb, 1000, 0) == 700, "gapless: no gap");
        CHECK(redbook_available_blocks(&rb, 400, 150) == 0, "no room for the gap: nothing");

        CHECK(redbook_add_track(&rb, strdup("t2"), -1, 1234) == 0, "track 2 created");
        CHECK(rb.tracks[1].hint == 1234, "the hint is kept, advisory only");
        redbook_track_grew(&rb, 400);
        CHECK(redbook_used_blocks(&rb) == 700, "used counts the audio of both tracks");
        CHECK(redbook_gap_blocks(&rb, 150) == 150, "one gap between two tracks");
        CHECK(redbook_needed_blocks(&rb, 225) == 925, "needed: audio and a gap of 225");
        CHECK(redbook_available_blocks(&rb, 1000, 150) == 150, "the open track's room after the gap");
        CHECK(redbook_available_blocks(&rb, 800, 150) == 0, "never negative");
        redbook_close_track(&rb);

        removed = 0;
        redbook_clear(&rb, count_removed, NULL);
        CHECK(removed == 2, "clear removes every track's file");
        CHECK(rb.n == 0 && rb.tracks == NULL && rb.open_fd == -1, "clear leaves an empty Redbook");
}

static void test_99_tracks(void) {
        char *p;
        Redbook rb;
        int r = 0;

        redbook_init(&rb);
        for (int i = 0; i < REDBOOK_MAX_TRACKS && r == 0; i++) {
                r = redbook_add_track(&rb, strdup("t"), -1, 0);
                if (r == 0) {
                        redbook_track_grew(&rb, REDBOOK_MIN_TRACK_BLOCKS);
                        redbook_close_track(&rb);
                }
        }
        CHECK(r == 0 && rb.n == 99, "99 tracks fit a CD's table of contents");
        CHECK(redbook_check_create(&rb) == -E2BIG, "a 100th track is refused");
        p = strdup("t");
        CHECK(redbook_add_track(&rb, p, -1, 0) == -E2BIG, "add_track refuses it too");
        free(p);
        CHECK(redbook_available_blocks(&rb, 400000, 150) == 0, "no room for a new track at 99");
        CHECK(redbook_needed_blocks(&rb, 150) == 99 * 300 + 98 * 150, "98 gaps between 99 tracks");
        removed = 0;
        redbook_clear(&rb, count_removed, NULL);
        CHECK(removed == 99, "all 99 files removed");
}

static void test_cdtext(void) {
        _cleanup_free_ char *latin1 = NULL;
        char long_text[1501];
        uint32_t bad = 0;
        Redbook rb;

        CHECK(cdtext_check("Café Müller ÿ", &bad) == 0, "ISO-8859-1 letters are accepted");
        CHECK(cdtext_check("\xe4\xb8\xad", &bad) == -ERANGE && bad == 0x4e2d, "U+4E2D is not ISO-8859-1");
        CHECK(cdtext_check("a\tb", &bad) == -ERANGE && bad == 0x09, "a tab is a control character");
        CHECK(cdtext_check("\xc2\x85", &bad) == -ERANGE && bad == 0x85, "so is C1's NEL");
        latin1 = cdtext_to_latin1("Été");
        CHECK(latin1 && streq(latin1, "\xc9t\xe9"), "UTF-8 becomes ISO-8859-1");
        CHECK(cdtext_field_from_string("title") == CDTEXT_TITLE &&
              cdtext_field_from_string("performer") == CDTEXT_PERFORMER &&
              (int) cdtext_field_from_string("genre") == -1, "the field names");

        redbook_init(&rb);
        CHECK(!cdtext_any(&rb) && cdtext_text_packs(&rb) == 0, "no text, no packs");
        CHECK(redbook_set_text(&rb, 1, CDTEXT_TITLE, "x") == -ERANGE, "no track 1 yet");
        CHECK(redbook_set_text(&rb, 0, CDTEXT_TITLE, "My Album") == 0, "the album's title");
        CHECK(cdtext_any(&rb) && cdtext_text_packs(&rb) == 1, "9 bytes: one pack");
        CHECK(redbook_add_track(&rb, strdup("t1"), -1, 0) == 0, "track 1");
        redbook_close_track(&rb);
        CHECK(redbook_add_track(&rb, strdup("t2"), -1, 0) == 0, "track 2");
        CHECK(redbook_set_text(&rb, 1, CDTEXT_TITLE, "First Song") == 0 &&
              redbook_set_text(&rb, 2, CDTEXT_TITLE, "Second") == 0, "the tracks' titles");
        /* "My Album", "First Song", "Second" with their NULs: 27 bytes, 3 packs (as libburn makes) */
        CHECK(cdtext_text_packs(&rb) == 3, "27 bytes of titles: 3 packs");
        CHECK(redbook_set_text(&rb, 2, CDTEXT_PERFORMER, "Singer B") == 0, "a performer");
        /* "", "", "Singer B": 11 bytes */
        CHECK(cdtext_text_packs(&rb) == 4, "a field used once is there for every track");
        CHECK(redbook_set_text(&rb, 2, CDTEXT_PERFORMER, "") == 0 && !redbook_get_text(&rb, 2, CDTEXT_PERFORMER),
              "\"\" removes a field");
        memset(long_text, 'y', 1500);
        long_text[1500] = 0;
        CHECK(redbook_set_text(&rb, 2, CDTEXT_TITLE, long_text) == 0, "a long title");
        /* 9 + 11 + 1501 = 1521 bytes: 127 packs; an ISO-8859-1 letter of two UTF-8 bytes is one */
        CHECK(cdtext_text_packs(&rb) == 127, "1521 bytes: 127 packs");
        redbook_clear(&rb, NULL, NULL);
        CHECK(!rb.album[CDTEXT_TITLE] && rb.n == 0, "clearing takes the text with the tracks");
}

/* A copied disc's tracks keep their own pre-gaps; the others take the recorder's. */
static void test_own_gaps(void) {
        Redbook rb;

        redbook_init(&rb);
        for (int i = 0; i < 3; i++) {
                CHECK(redbook_add_track(&rb, NULL, -1, 0) == 0, "track %d created", i + 1);
                redbook_track_grew(&rb, 300);
                redbook_close_track(&rb);
        }
        CHECK(rb.tracks[1].pregap == -1, "a staged track takes the recorder's gap");
        CHECK(redbook_gap_blocks(&rb, 150) == 300, "two gaps of 150");
        rb.tracks[1].pregap = 95;
        rb.tracks[0].pregap = 500;
        CHECK(redbook_track_gap(&rb, 0, 150) == 0, "the first track's pre-gap is in the lead-in");
        CHECK(redbook_track_gap(&rb, 1, 150) == 95 && redbook_track_gap(&rb, 2, 150) == 150,
              "track 2 keeps its own, track 3 the recorder's");
        CHECK(redbook_needed_blocks(&rb, 150) == 900 + 95 + 150, "needed: audio and both gaps");
        rb.tracks[2].pregap = 0;
        CHECK(redbook_gap_blocks(&rb, 150) == 95, "a pre-gap of 0 is no gap");
        redbook_clear(&rb, NULL, NULL);
}

/* One 18-byte pack (the CRC is not checked here). */
static void pack(uint8_t *p, uint8_t type, uint8_t track, uint8_t seq, const char text[12]) {
        memset(p, 0, 18);
        p[0] = type;
        p[1] = track;
        p[2] = seq;
        memcpy(p + 4, text, 12);
}

static void test_cdtext_decode(void) {
        uint8_t packs[5 * 18];
        Redbook rb;

        redbook_init(&rb);
        for (int i = 0; i < 3; i++) {
                CHECK(redbook_add_track(&rb, NULL, -1, 0) == 0, "track %d created", i + 1);
                redbook_close_track(&rb);
        }
        /* titles "Album", "One", "T\xe9", "\t" (as the track before); performers "", "Ann" */
        pack(packs, 0x80, 0, 0, "Album\0One\0T\xe9");
        pack(packs + 18, 0x80, 2, 1, "\0\t\0\0\0\0\0\0\0\0\0\0");
        pack(packs + 36, 0x81, 0, 2, "\0Ann\0\0\0\0\0\0\0\0");
        pack(packs + 54, 0x8f, 0, 3, "\0\x01\x03\0\0\0\0\0\0\0\0\0");
        /* block 1 (another language): left out */
        pack(packs + 72, 0x80, 0, 0, "Andere\0\0\0\0\0\0");
        packs[72 + 3] = 0x10;
        CHECK(cdtext_decode(packs, 5, &rb) == 5, "five strings decoded");
        CHECK(streq(redbook_get_text(&rb, 0, CDTEXT_TITLE), "Album"), "the album title");
        CHECK(streq(redbook_get_text(&rb, 1, CDTEXT_TITLE), "One"), "track 1's title");
        CHECK(streq(redbook_get_text(&rb, 2, CDTEXT_TITLE), "T\xc3\xa9"), "track 2's, ISO-8859-1 into UTF-8");
        CHECK(streq(redbook_get_text(&rb, 3, CDTEXT_TITLE), "T\xc3\xa9"), "a TAB repeats the track before");
        CHECK(!redbook_get_text(&rb, 0, CDTEXT_PERFORMER) && streq(redbook_get_text(&rb, 1, CDTEXT_PERFORMER), "Ann"),
              "an empty string is no text");
        /* a character code of a double-byte set: nothing is decoded */
        packs[54 + 4] = 0x80;
        redbook_clear(&rb, NULL, NULL);
        CHECK(redbook_add_track(&rb, NULL, -1, 0) == 0, "a track");
        CHECK(cdtext_decode(packs, 5, &rb) == 0 && !redbook_get_text(&rb, 0, CDTEXT_TITLE), "MS-JIS is left out");
        CHECK(cdtext_decode(NULL, 0, &rb) == 0, "no packs, no text");
        redbook_clear(&rb, NULL, NULL);
}

int main(void) {
        test_empty();
        test_tracks_and_gaps();
        test_99_tracks();
        test_cdtext();
        test_own_gaps();
        test_cdtext_decode();
        return tap_done();
}
