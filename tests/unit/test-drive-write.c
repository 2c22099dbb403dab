/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One drive operation right after another, as a burn that follows an erase, a cancelled job or
 * an earlier burn does: libburn refuses to start while the previous operation's thread is still
 * registered for the drive ("A drive operation is still going on", 0x00020102), which it is for
 * a moment after the drive reports IDLE, and for half a second on image files. Every start must
 * wait for that and succeed. A disc read at once after a cancelled or failed write, as a burn's
 * end reads it, must get its blocks: the write's thread still uses the drive after IDLE, and
 * another recorder's write that ends meanwhile is no sign of its end, also where that thread
 * never called a source of imapid's (a write that fails before it reads a block; an audio
 * write reads libburn's file sources, but libburn writes audio only to CDs, not image files).
 * Real libburn on image files ("stdio:" drives) in a temporary folder.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <imapi/imapierror.h>

#include "macro.h"
#include "media/drive.h"
#include "tap.h"

#define IMAGE_BLOCKS 256
#define ROUNDS 12
/* Faster than the daemon polls, so that a start lands right after the end. */
#define POLL_USEC 200

static char dir[] = "/tmp/test-drive-write.XXXXXX";

static int write_image(const char *path) {
        _cleanup_free_ char *block = calloc(1, 2048);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        if (fd < 0 || !block)
                return -1;
        for (unsigned i = 0; i < IMAGE_BLOCKS; i++) {
                memset(block, (int) (i & 0xff), 2048);
                if (write(fd, block, 2048) != 2048) {
                        close(fd);
                        return -1;
                }
        }
        return close(fd);
}

/* Polls as the daemon does, a bit faster, until libburn is done. */
static uint32_t run_to_end(Drive *d, bool cancel, char **ret_message) {
        DriveProgress p;

        if (cancel)
                drive_cancel(d);
        for (unsigned i = 0; i < 60 * 1000000 / POLL_USEC && drive_poll(d, &p); i++)
                usleep(POLL_USEC);
        return drive_operation_finish(d, cancel, ret_message);
}

/* The start, tried again as the daemon's worker does while libburn's previous thread still has
 * the drive (never for more than 5 s: drive_start_wait() gives up then). */
static int start_write(Drive *d, const char *image, const DriveWriteOptions *o, char **ret_reason) {
        int k = drive_write_start(d, image, o, ret_reason);

        if (k == -EAGAIN)
                k = drive_start_wait(d, NULL, ret_reason);
        return k;
}

/* A write that starts at once after the last one ended: false if it was refused or failed. */
static bool write_next(Drive *d, const char *image, unsigned round) {
        DriveWriteOptions o = { .start_lba = 0, .underrun_proof = -1 };
        _cleanup_free_ char *reason = NULL, *msg = NULL;
        uint32_t hr;
        int k;

        k = start_write(d, image, &o, &reason);
        if (k < 0) {
                printf("# round %u: the write after it was refused: %s\n", round, reason ?: strerror(-k));
                return false;
        }
        hr = run_to_end(d, false, &msg);
        if (hr != IMAPI_S_OK) {
                printf("# round %u: the write after it failed 0x%08X: %s\n", round, hr, msg ?: "");
                return false;
        }
        return true;
}

/* An operation starts on a drive whose last one has just ended, however it ended. */
static void test_back_to_back(const char *image, Drive *d, const char *what, bool cancel_first) {
        DriveWriteOptions o = { .start_lba = 0, .underrun_proof = -1 };
        unsigned refused = 0, failed = 0;

        for (unsigned i = 0; i < ROUNDS; i++) {
                _cleanup_free_ char *reason = NULL, *msg = NULL;
                uint32_t hr;
                int k;

                k = start_write(d, image, &o, &reason);
                if (k < 0) {
                        refused++;
                        printf("# round %u: the first write was refused: %s\n", i, reason ?: strerror(-k));
                        continue;
                }
                hr = run_to_end(d, cancel_first, &msg);
                free(msg);
                msg = NULL;
                if (hr != (cancel_first ? IMAPI_E_USERABORT : IMAPI_S_OK))
                        printf("# round %u: the first write ended 0x%08X\n", i, hr);

                /* At once: no pause between the end and the next start. */
                if (!write_next(d, image, i))
                        failed++;
        }
        CHECK(refused == 0 && failed == 0, "%s: %u writes right after another all succeed (%u first refused, %u failed)",
              what, ROUNDS, refused, failed);
}

/* Another recorder's write ends while this one's cancelled write is winding down: the end of
 * that other thread is no sign that this drive is free. */
static void test_beside_another(const char *image, Drive *d, Drive *other) {
        DriveWriteOptions o = { .start_lba = 0, .underrun_proof = -1 };
        unsigned refused = 0, failed = 0;

        for (unsigned i = 0; i < ROUNDS; i++) {
                _cleanup_free_ char *reason = NULL, *msg = NULL, *other_msg = NULL;
                DriveProgress p;
                uint32_t hr;

                if (start_write(d, image, &o, &reason) < 0 || start_write(other, image, &o, &reason) < 0) {
                        refused++;
                        continue;
                }
                drive_cancel(d);
                for (unsigned j = 0; j < 2000 && drive_poll(other, &p); j++)
                        usleep(10 * 1000);
                (void) drive_operation_finish(other, false, &other_msg);
                hr = run_to_end(d, true, &msg);
                free(msg);
                msg = NULL;
                if (hr != IMAPI_E_USERABORT)
                        printf("# round %u: the cancelled write ended 0x%08X\n", i, hr);

                if (!write_next(d, image, i))
                        failed++;
        }
        CHECK(refused == 0 && failed == 0,
              "beside another recorder: %u writes right after a cancelled one all succeed (%u first refused, %u failed)",
              ROUNDS, refused, failed);
}

/* A stream of STREAM_BLOCKS blocks, slow enough to be cancelled in the middle: a millisecond a
 * block. Block n holds the byte n & 0xff, as the image does. */
#define STREAM_BLOCKS 4096
#define READ_AT_ONCE 32

static int slow_read(uint8_t *buf, size_t blocks, void *userdata) {
        unsigned *next = userdata;

        for (size_t i = 0; i < blocks; i++, (*next)++)
                memset(buf + i * 2048, (int) (*next & 0xff), 2048);
        usleep((useconds_t) (1000 * blocks));
        return 0;
}

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

/* Reads d's first blocks for a second, as a burn's end reads the disc, each read compared with
 * what the drive's file holds there. */
static void read_for_a_second(Drive *d, const char *disc, uint8_t *buf, uint8_t *want, unsigned *reads,
                              unsigned *good) {
        _cleanup_close_ int fd = open(disc, O_RDONLY | O_CLOEXEC);
        bool have = fd >= 0 && pread(fd, want, READ_AT_ONCE * 2048, 0) == READ_AT_ONCE * 2048;
        uint64_t until = now_usec() + 1000 * 1000;

        while (now_usec() < until) {
                (*reads)++;
                if (have && drive_read_blocks(d, 0, buf, READ_AT_ONCE) >= 0 &&
                    memcmp(buf, want, READ_AT_ONCE * 2048) == 0)
                        (*good)++;
        }
}

/* The disc is read at once after a cancelled write is over, as a burn's end reads it, while
 * another recorder's write has ended meanwhile: libburn's thread of the cancelled write must
 * be gone by then. (It frees the drive's buffer and puts back the one it found half a second
 * after the drive says IDLE: a read then loses its buffer, and copies from NULL.) */
static void test_read_after_cancel(const char *image, Drive *d, const char *disc, Drive *other) {
        DriveWriteOptions o = { .start_lba = 0, .underrun_proof = -1 };
        _cleanup_free_ uint8_t *buf = malloc(READ_AT_ONCE * 2048), *want = malloc(READ_AT_ONCE * 2048);
        unsigned rounds = 0, reads = 0, good = 0;

        for (unsigned i = 0; buf && want && i < 3; i++) {
                _cleanup_free_ char *reason = NULL, *msg = NULL, *other_msg = NULL;
                unsigned next = 0;
                DriveStream stream = { .blocks = STREAM_BLOCKS, .read = slow_read, .userdata = &next };
                DriveProgress p = {};
                int k;

                k = drive_write_stream_start(d, &stream, &o, &reason);
                if (k == -EAGAIN)
                        k = drive_start_wait(d, NULL, &reason);
                if (k < 0) {
                        printf("# round %u: the stream write was refused: %s\n", i, reason ?: strerror(-k));
                        continue;
                }
                /* libburn's thread has taken blocks: the write is under way. */
                for (unsigned j = 0; j < 10000 && drive_poll(d, &p) && p.sectors_done == 0; j++)
                        usleep(1000);
                if (start_write(other, image, &o, &reason) < 0) {
                        printf("# round %u: the other write was refused\n", i);
                        (void) run_to_end(d, true, &msg);
                        continue;
                }
                drive_cancel(d);
                (void) run_to_end(other, false, &other_msg);
                (void) run_to_end(d, true, &msg);
                rounds++;
                read_for_a_second(d, disc, buf, want, &reads, &good);
        }
        CHECK(rounds == 3 && good == reads && reads > 0,
              "a disc read for a second after a cancelled write beside another recorder's: %u of %u reads in %u "
              "of 3 rounds got their blocks", good, reads, rounds);
}

/* A write whose thread fails before it takes a block: the image file cannot be opened for
 * writing (here a folder took its place), and libburn's thread says IDLE, then sleeps half a
 * second before it frees the drive's buffer, as after a cancel. Another recorder's write ends
 * meanwhile; the file is put back, and the disc read as a burn's end reads it (released and
 * grabbed again, which looks at the file anew). */
static void test_read_after_failed_open(const char *image, Drive *d, const char *disc, Drive *other) {
        DriveWriteOptions o = { .start_lba = 0, .underrun_proof = -1 };
        _cleanup_free_ uint8_t *buf = malloc(READ_AT_ONCE * 2048), *want = malloc(READ_AT_ONCE * 2048);
        _cleanup_free_ char *saved = NULL;
        unsigned rounds = 0, reads = 0, good = 0;

        if (asprintf(&saved, "%s.saved", disc) < 0)
                saved = NULL;
        for (unsigned i = 0; saved && buf && want && i < 3; i++) {
                _cleanup_free_ char *reason = NULL, *msg = NULL, *other_msg = NULL;
                uint32_t hr;

                if (rename(disc, saved) < 0 || mkdir(disc, 0700) < 0) {
                        printf("# round %u: the image file cannot be moved away: %m\n", i);
                        break;
                }
                if (start_write(d, image, &o, &reason) < 0 || start_write(other, image, &o, &reason) < 0)
                        printf("# round %u: a write was refused: %s\n", i, reason ?: "");
                else {
                        (void) run_to_end(other, false, &other_msg);
                        hr = run_to_end(d, false, &msg);
                        if (hr == IMAPI_S_OK)
                                printf("# round %u: the write into a folder succeeded\n", i);
                        else
                                rounds++;
                }
                if (rmdir(disc) < 0 || rename(saved, disc) < 0) {
                        printf("# round %u: the image file cannot be put back: %m\n", i);
                        break;
                }
                drive_release(d, false);
                if (drive_grab(d, false) < 0) {
                        printf("# round %u: the drive cannot be grabbed again\n", i);
                        break;
                }
                read_for_a_second(d, disc, buf, want, &reads, &good);
        }
        CHECK(rounds == 3 && good == reads && reads > 0,
              "a disc read for a second after a write that failed before its first block, beside another "
              "recorder's: %u of %u reads in %u of 3 rounds got their blocks", good, reads, rounds);
}

int main(void) {
        _cleanup_free_ char *image = NULL, *disc = NULL, *address = NULL, *disc2 = NULL, *address2 = NULL;
        _cleanup_(drive_freep) Drive *d = NULL, *other = NULL;
        int r;

        if (!mkdtemp(dir)) {
                perror("mkdtemp");
                return 1;
        }
        if (asprintf(&image, "%s/image.iso", dir) < 0 || asprintf(&disc, "%s/disc.iso", dir) < 0 ||
            asprintf(&address, "stdio:%s", disc) < 0 || asprintf(&disc2, "%s/other.iso", dir) < 0 ||
            asprintf(&address2, "stdio:%s", disc2) < 0)
                return 1;
        CHECK(write_image(image) == 0, "an image of %d blocks is written", IMAGE_BLOCKS);
        CHECK(drive_library_init() == 0, "libburn starts");
        r = drive_new_from_address(address, &d);
        CHECK(r == 0, "an image-file drive is made (%s)", strerror(-r));
        if (r == 0) {
                r = drive_grab(d, false);
                CHECK(r == 0, "it is grabbed (%s)", strerror(-r));
        }
        if (r == 0) {
                test_back_to_back(image, d, "after a finished write", false);
                test_back_to_back(image, d, "after a cancelled write", true);
                r = drive_new_from_address(address2, &other);
                if (r == 0)
                        r = drive_grab(other, false);
                CHECK(r == 0, "a second image-file drive is made and grabbed (%s)", strerror(-r));
                if (r == 0) {
                        test_beside_another(image, d, other);
                        test_read_after_cancel(image, d, disc, other);
                        test_read_after_failed_open(image, d, disc, other);
                        drive_release(other, false);
                }
                drive_release(d, false);
        }
        other = drive_free(other);
        d = drive_free(d);
        drive_library_finish();
        (void) unlink(image);
        (void) unlink(disc);
        (void) unlink(disc2);
        (void) rmdir(dir);
        return tap_done();
}
