/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Images built by iso*.c (iso_build_write()), checked the way a user would: with stock isoinfo, xorriso and osirrox
 * run as subprocesses, and diff -r against the source tree.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "media/iso.h"
#include "macro.h"
#include "tap.h"

static char *tmpdir;

/* Runs a shell command; returns its stdout (malloc'ed) and exit status. */
static char *run(int *ret_status, const char *fmt, ...) {
        _cleanup_free_ char *cmd = NULL;
        char *out = NULL;
        size_t size = 0;
        FILE *f, *p;
        va_list ap;
        char buf[4096];
        size_t k;
        int status;

        va_start(ap, fmt);
        if (vasprintf(&cmd, fmt, ap) < 0)
                abort();
        va_end(ap);
        f = open_memstream(&out, &size);
        p = popen(cmd, "re");
        if (!f || !p)
                abort();
        while ((k = fread(buf, 1, sizeof buf, p)) > 0)
                fwrite(buf, 1, k, f);
        status = pclose(p);
        fclose(f);
        if (size > 0 && out[size - 1] == '\n')
                out[size - 1] = '\0';
        if (ret_status)
                *ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return out;
}

static char *path_join(const char *a, const char *b) {
        char *r;

        if (asprintf(&r, "%s/%s", a, b) < 0)
                abort();
        return r;
}

/* Creates dir/rel with its parents and the given content. */
static void make_file(const char *dir, const char *rel, const void *data, size_t size) {
        _cleanup_free_ char *p = path_join(dir, rel), *parent = NULL;
        _cleanup_close_ int fd = -1;

        parent = strdup(p);
        *strrchr(parent, '/') = '\0';
        free(run(NULL, "mkdir -p '%s'", parent));
        fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t) size))
                abort();
}

/* An entry and the file that holds its content, as the daemon keeps a staged name and its copy
 * in the stash. */
typedef struct TestEntry {
        IsoEntry e;
        char *path; /* NULL for a directory */
} TestEntry;

static TestEntry entry_for(const char *tree, const char *rel, bool dir) {
        struct stat st;
        char *p = path_join(tree, rel);

        if (stat(p, &st) < 0)
                abort();
        if (dir)
                p = mfree(p);
        return (TestEntry) {
                .e = {
                        .image_path = rel,
                        .is_dir = dir,
                        .size = dir ? 0 : (uint64_t) st.st_size,
                        .mode = st.st_mode,
                        .mtime_usec = (uint64_t) st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000,
                },
                .path = p,
        };
}

static void entries_free(TestEntry *e, size_t n) {
        for (size_t i = 0; i < n; i++)
                e[i].path = mfree(e[i].path);
}

static void source_get(size_t i, IsoEntry *ret, void *userdata) {
        const TestEntry *e = userdata;

        *ret = e[i].e;
}

static int source_open(size_t i, IsoData *ret, void *userdata) {
        const TestEntry *e = userdata;
        int fd = open(e[i].path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        *ret = (IsoData) { .fd = fd };
        return 0;
}

static IsoSource source_of(TestEntry *e, size_t n) {
        return (IsoSource) { .n = n, .get = source_get, .open = source_open, .userdata = e };
}

static int estimate_blocks(TestEntry *e, size_t n, const IsoOptions *o, uint64_t *ret_blocks) {
        IsoSource src = source_of(e, n);

        return iso_build_estimate(&src, o, ret_blocks);
}

static int write_fd(TestEntry *e, size_t n, const IsoOptions *o, int fd, const volatile bool *cancel,
                    iso_progress_fn progress, void *userdata, uint64_t *ret_blocks) {
        IsoSource src = source_of(e, n);

        return iso_build_write(&src, o, fd, cancel, progress, userdata, ret_blocks, NULL);
}

static int write_image(TestEntry *e, size_t n, const IsoOptions *o, const char *img, uint64_t *ret_blocks) {
        _cleanup_close_ int fd = open(img, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        if (fd < 0)
                abort();
        return write_fd(e, n, o, fd, NULL, NULL, NULL, ret_blocks);
}

static uint64_t file_size(const char *p) {
        struct stat st;

        return stat(p, &st) < 0 ? UINT64_MAX : (uint64_t) st.st_size;
}

static const char *name64 = "long/nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn.txt";

static void test_tree(void) {
        _cleanup_free_ char *tree = path_join(tmpdir, "tree"), *img = path_join(tmpdir, "tree.iso"),
                            *out_rr = path_join(tmpdir, "out-rr"), *out_j = path_join(tmpdir, "out-joliet"),
                            *s = NULL, *empty = NULL;
        static const char *files[] = {
                "docs/a.txt", "docs/sub/deep/er/b.bin", "empty.txt", "照片/长城.txt", "Ακρόπολη.txt",
                "😀 party.txt", "d1/d2/d3/d4/d5/d6/d7/file8",
                /* 240 UTF-16 units, the longest path; libisofs' own check would drop it from Joliet. */
                "p/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"
                "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/"
                "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc/"
                "ddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
        };
        TestEntry e[ELEMENTSOF(files) + 3];
        uint8_t random[100000];
        uint64_t estimate = 0, written = 0, size = UINT64_MAX;
        char perms[11] = "";
        IsoOptions o;
        size_t n = 0;
        int status;

        for (size_t i = 0; i < sizeof random; i++)
                random[i] = (uint8_t) (i * 7919 + (i >> 8));
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                if (streq(files[i], "empty.txt"))
                        make_file(tree, files[i], "", 0);
                else if (strstr(files[i], ".bin"))
                        make_file(tree, files[i], random, sizeof random);
                else
                        make_file(tree, files[i], files[i], strlen(files[i]));
                e[n++] = entry_for(tree, files[i], false);
        }
        make_file(tree, name64, "64", 2);
        e[n++] = entry_for(tree, name64, false);
        empty = path_join(tree, "emptydir/inner");
        free(run(NULL, "mkdir -p '%s'", empty));
        e[n++] = entry_for(tree, "emptydir", true);
        e[n++] = entry_for(tree, "emptydir/inner", true);

        iso_options_init(&o);
        o.volume_id = "Photos 2024";
        CHECK(estimate_blocks(e, n, &o, &estimate) == 0 && estimate > 0, "estimate: %" PRIu64 " blocks",
              estimate);
        CHECK(write_image(e, n, &o, img, &written) == 0, "image written");
        CHECK(written == estimate && file_size(img) == estimate * 2048,
              "estimate equals the written size (%" PRIu64 " blocks, file %" PRIu64 " bytes)", written,
              file_size(img));

        s = run(&status, "isoinfo -d -i '%s'", img);
        CHECK(status == 0 && strstr(s, "Volume id: PHOTOS_2024\n"), "ISO 9660 volume id in d-characters");
        CHECK(strstr(s, "Joliet with UCS level 3 found") && strstr(s, "Rock Ridge signatures"),
              "isoinfo finds Joliet and Rock Ridge");
        free(s);
        s = run(&status, "blkid -p -o value -s LABEL '%s'", img);
        CHECK(status == 0 && streq(s, "Photos 2024"), "the Joliet volume label keeps the name: %s", s);
        free(s);

        s = run(&status, "isoinfo -J -l -i '%s'", img);
        CHECK(status == 0 && strstr(s, "Directory listing of /docs/sub/deep/er/") &&
              strstr(s, "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn.txt") &&
              strstr(s, "Directory listing of /emptydir/inner/") &&
              strstr(s, "Directory listing of /d1/d2/d3/d4/d5/d6/d7/") && strstr(s, " file8"),
              "isoinfo -J: nested folders, a 64-character name, empty directories, depth 8");
        free(s);
        s = run(&status, "isoinfo -R -l -i '%s'", img);
        CHECK(status == 0 && strstr(s, " 长城.txt") && strstr(s, " Ακρόπολη.txt") &&
              strstr(s, " 😀 party.txt") &&
              strstr(s, "Directory listing of /照片/"), "isoinfo -R: Chinese, Greek and emoji names");
        free(s);

        s = run(&status, "osirrox -indev '%s' -extract / '%s' 2>&1 && diff -r '%s' '%s'", img, out_rr, tree,
                out_rr);
        CHECK(status == 0, "osirrox (Rock Ridge) extracts the same tree, byte for byte");
        if (status != 0)
                printf("# %s\n", s);
        free(s);
        s = run(&status, "xorriso -read_fs norock -indev '%s' -osirrox on -extract / '%s' 2>&1 && "
                "diff -r '%s' '%s'", img, out_j, tree, out_j);
        CHECK(status == 0, "xorriso reading only Joliet extracts the same tree and names, byte for byte");
        if (status != 0)
                printf("# %s\n", s);
        free(s);
        s = run(&status, "xorriso -indev '%s' -find /empty.txt -exec lsdl 2>/dev/null", img);
        CHECK(status == 0 && sscanf(s, "%10s %*u %*s %*s %" SCNu64, perms, &size) == 2 &&
              streq(perms, "-rw-r--r--") && size == 0, "empty file with its mode: %s", s);
        free(s);

        s = NULL;
        free(run(NULL, "rm -rf '%s' '%s'", out_rr, out_j));
        unlink(img);
        entries_free(e, n);
}

static void test_options(void) {
        _cleanup_free_ char *img = path_join(tmpdir, "opt.iso"), *s = NULL;
        TestEntry e = { .e = { .image_path = "a", .is_dir = true, .mode = 0755 } };
        TestEntry bad = { .e = { .image_path = "a:b", .is_dir = true } };
        TestEntry missing = { .e = { .image_path = "x", .size = 1 }, .path = "/nonexistent/file" };
        uint64_t b = 0;
        IsoOptions o;
        int status;

        iso_options_init(&o);
        CHECK(o.iso_level == 2 && o.rock_ridge && o.joliet && !o.read_block && !o.volume_id, "defaults");
        o.volume_id = "0123456789abcdefX";
        CHECK(estimate_blocks(&e, 1, &o, &b) == -EINVAL, "a 17-character volume name is refused");
        o.volume_id = "0123456789abcdef";
        CHECK(estimate_blocks(&e, 1, &o, &b) == 0, "a 16-character volume name is fine");
        o.volume_id = "\xF0\x9F\x98\x80";
        CHECK(estimate_blocks(&e, 1, &o, &b) == -EINVAL, "an emoji volume name is refused");
        o.volume_id = NULL;
        o.iso_level = 4;
        CHECK(estimate_blocks(&e, 1, &o, &b) == -EINVAL, "ISO level 4 is refused");
        iso_options_init(&o);
        CHECK(estimate_blocks(&bad, 1, &o, &b) == -EINVAL, "a bad Joliet name is refused");
        CHECK(estimate_blocks(&missing, 1, &o, &b) == 0, "an estimate opens no file");
        CHECK(write_image(&missing, 1, &o, img, &b) == -EIO, "a source that cannot be opened fails the write: -EIO");

        o.rock_ridge = false;
        o.volume_id = "Μουσική";
        CHECK(write_image(&e, 1, &o, img, &b) == 0, "image without Rock Ridge written");
        s = run(&status, "isoinfo -d -i '%s'", img);
        CHECK(status == 0 && strstr(s, "NO Rock Ridge present") && strstr(s, "Volume id: _______\n"),
              "no Rock Ridge; a Greek volume name becomes d-characters in ISO 9660");
        free(s);
        s = run(&status, "blkid -p -o value -s LABEL '%s'", img);
        CHECK(status == 0 && streq(s, "Μουσική"), "and keeps its name in Joliet: %s", s);
        unlink(img);
}

static void test_big_sparse(void) {
        _cleanup_free_ char *big = path_join(tmpdir, "big.bin"), *img = path_join(tmpdir, "big.iso"),
                            *s = NULL;
        const uint64_t size = UINT64_C(5) << 30;
        const uint64_t marks[] = { 0, UINT64_C(0xFFFFF800) - 2048, size - 4096 };
        _cleanup_close_ int fd = open(big, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        TestEntry e[2];
        uint64_t estimate = 0, written = 0;
        IsoOptions o;
        struct stat st;
        int status;

        /* Mostly a hole, with data at the start, across the 4 GiB extent boundary of ISO level 3,
         * and in the very last bytes, so that skipping zeros cannot hide misplaced data. */
        if (fd < 0 || ftruncate(fd, (off_t) size) < 0)
                abort();
        for (size_t i = 0; i < ELEMENTSOF(marks); i++) {
                char m[4096];

                memset(m, 'A' + (int) i, sizeof m);
                if (pwrite(fd, m, sizeof m, (off_t) marks[i]) != (ssize_t) sizeof m)
                        abort();
        }
        e[0] = entry_for(tmpdir, "big.bin", false);
        e[0].e.image_path = "video/big.bin";
        make_file(tmpdir, "small.txt", "small", 5);
        e[1] = entry_for(tmpdir, "small.txt", false);

        iso_options_init(&o);
        CHECK(estimate_blocks(e, 2, &o, &estimate) == -EFBIG, "5 GiB at ISO level 2: estimate -EFBIG");
        CHECK(write_image(e, 2, &o, img, &written) == -EFBIG, "5 GiB at ISO level 2: write -EFBIG");
        o.iso_level = 3;
        CHECK(estimate_blocks(e, 2, &o, &estimate) == 0 && estimate > size / 2048,
              "level 3 estimate: %" PRIu64 " blocks", estimate);
        CHECK(write_image(e, 2, &o, img, &written) == 0 && written == estimate, "level 3 image written");
        CHECK(stat(img, &st) == 0 && (uint64_t) st.st_size == estimate * 2048 &&
              (uint64_t) st.st_blocks * 512 < (UINT64_C(16) << 20),
              "image file is %" PRIu64 " bytes but occupies only %" PRIu64 " KiB", (uint64_t) st.st_size,
              (uint64_t) st.st_blocks / 2);
        s = run(&status, "xorriso -indev '%s' -find /video/big.bin -exec lsdl 2>/dev/null", img);
        CHECK(status == 0 && strstr(s, " 5368709120 "), "xorriso sees a 5 GiB file: %s", s);
        free(s);
        /* Reading all 5 GiB back takes longer than the rest of the tests; read 1 MiB around each
         * piece of data through the image's file system and compare it with the source. */
        for (size_t i = 0; i < ELEMENTSOF(marks); i++) {
                uint64_t from = marks[i] < 512 * 1024 ? 0 : MIN(marks[i] - 512 * 1024, size - 1024 * 1024);

                s = run(&status, "xorriso -indev '%s' -osirrox on -extract_cut /video/big.bin %" PRIu64
                        " 1048576 '%s/cut' >/dev/null 2>&1 && "
                        "cmp -n 1048576 -i 0:%" PRIu64 " '%s/cut' '%s' && rm '%s/cut'",
                        img, from, tmpdir, from, tmpdir, big, tmpdir);
                CHECK(status == 0, "the 1 MiB at %" PRIu64 " of the 5 GiB file reads back from the image",
                      from);
                free(s);
        }
        s = run(&status, "isoinfo -R -i '%s' -x /small.txt", img);
        CHECK(streq(s, "small"), "the file next to it reads back");
        unlink(img);
        unlink(big);
        entries_free(e, 2);
}

typedef struct ProgressState {
        volatile bool cancel;
        bool cancel_on_progress;
        unsigned calls;
        uint64_t last_done, total;
        const char *truncate_path;
} ProgressState;

static void on_progress(uint64_t done, uint64_t total, void *userdata) {
        ProgressState *p = userdata;

        p->calls++;
        p->last_done = done;
        p->total = total;
        if (done > 0 && p->cancel_on_progress)
                p->cancel = true;
        if (done > 0 && p->truncate_path)
                (void) truncate(p->truncate_path, 0);
}

static void test_cancel_and_errors(void) {
        _cleanup_free_ char *src = path_join(tmpdir, "zeros.bin"), *img = path_join(tmpdir, "cancel.iso"),
                            *s = NULL;
        _cleanup_close_ int fd = open(src, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), out = -1;
        uint8_t z[4096];
        ProgressState p = {};
        TestEntry e[2];
        uint64_t b = 0;
        IsoOptions o;
        int status;

        if (fd < 0 || ftruncate(fd, 256 << 20) < 0)
                abort();
        e[0] = entry_for(tmpdir, "zeros.bin", false);
        iso_options_init(&o);
        out = open(img, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        p.cancel_on_progress = true;
        CHECK(write_fd(e, 1, &o, out, &p.cancel, on_progress, &p, &b) == -ECANCELED,
              "cancel mid-write: -ECANCELED");
        CHECK(p.calls >= 2 && p.last_done > 0 && p.last_done < p.total,
              "cancelled after %" PRIu64 " of %" PRIu64 " blocks", p.last_done, p.total);

        /* libisofs' writer thread ended: the next build works and is complete. */
        memset(&p, 0, sizeof p);
        CHECK(write_fd(e, 1, &o, out, NULL, on_progress, &p, &b) == 0,
              "a build after the cancel works");
        CHECK(p.last_done == p.total && p.total == b && file_size(img) == b * 2048,
              "progress ends at the total (%" PRIu64 " blocks)", b);
        s = run(&status, "xorriso -indev '%s' -compare '%s' /zeros.bin 2>&1", img, src);
        CHECK(status == 0 && strstr(s, "Both file objects match"), "and reads back");
        free(s);

        /* A source that changes while it is written must fail the build, not become zeros. */
        memset(z, 'z', sizeof z);
        make_file(tmpdir, "zz.txt", z, sizeof z);
        e[1] = entry_for(tmpdir, "zz.txt", false);
        memset(&p, 0, sizeof p);
        p.truncate_path = e[1].path;
        CHECK(write_fd(e, 2, &o, out, NULL, on_progress, &p, &b) == -EIO,
              "a source truncated during the write: -EIO");
        /* And one whose size is not the entry's fails before a byte of it is read. */
        CHECK(write_fd(e, 2, &o, out, NULL, NULL, NULL, &b) == -EIO, "a source of another size: -EIO");
        free(e[1].path);
        e[1] = entry_for(tmpdir, "zz.txt", false);
        CHECK(write_fd(e, 2, &o, out, NULL, NULL, NULL, &b) == 0, "and works again afterwards");
        s = NULL;
        unlink(img);
        unlink(src);
        entries_free(e, 2);
}

/* The same entries and options, volume_time fixed, give the same image every time (a retry, a
 * second copy, the verification that generates it again), also built seconds apart; and a
 * stream that fails names the entry to blame. */
static void test_stream_repeats(void) {
        _cleanup_free_ char *tree = path_join(tmpdir, "repeat"), *a = path_join(tmpdir, "repeat-a.iso"),
                            *b = path_join(tmpdir, "repeat-b.iso"), *s = NULL;
        static const char *files[] = { "x/y/one.txt", "x/two.txt", "z/q/r/three.txt", "four.txt" };
        TestEntry e[ELEMENTSOF(files) + 1];
        IsoOutput *st = NULL;
        uint8_t block[2048];
        uint64_t blocks = 0;
        size_t n = 0;
        IsoSource src;
        IsoOptions o;
        int status, r = 0;

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                make_file(tree, files[i], files[i], strlen(files[i]));
                e[n++] = entry_for(tree, files[i], false);
        }
        e[n++] = entry_for(tree, "z", true);
        iso_options_init(&o);
        o.volume_time = 1700000000;
        CHECK(write_image(e, n, &o, a, &blocks) == 0, "an image with the volume time fixed");
        sleep(1);
        CHECK(write_image(e, n, &o, b, &blocks) == 0, "and the same a second later");
        s = run(&status, "cmp '%s' '%s' 2>&1", a, b);
        CHECK(status == 0, "the two are the same, byte for byte: %s", s);
        free(s);
        /* 1700000000 is 2023-11-14 22:13:20 UTC; the descriptor holds it as local time. */
        s = run(&status, "xorriso -indev '%s' -pvd_info 2>/dev/null", a);
        CHECK(status == 0 && strstr(s, "Creation Time: 2023111"), "the volume has the time given");
        free(s);
        s = NULL;

        /* The stream itself, read to its end; then one whose file was cut short. */
        src = source_of(e, n);
        CHECK(iso_output_new(&src, &o, &st) == 0 && iso_output_blocks(st) == blocks,
              "a stream of %" PRIu64 " blocks", blocks);
        for (uint64_t i = 0; i < blocks && r == 0; i++)
                r = iso_output_read(st, block, 1);
        CHECK(r == 0 && iso_output_finish(st) == 0 && iso_output_failed_entry(st) == SIZE_MAX,
              "read block by block to its end, cleanly");
        st = iso_output_free(st);
        if (truncate(e[2].path, 1) < 0)
                abort();
        CHECK(iso_output_new(&src, &o, &st) == 0, "a stream of a file cut short");
        for (uint64_t i = 0; i < blocks && r == 0; i++)
                r = iso_output_read(st, block, 1);
        CHECK(r == -EIO && iso_output_failed_entry(st) == 2,
              "fails with -EIO and names entry 2 (%s)", strerror(-r));
        st = iso_output_free(st);
        unlink(a);
        unlink(b);
        entries_free(e, n);
}

static int read_block_fails(uint32_t lba, uint8_t buf[2048], void *userdata) {
        return -EIO;
}

static int read_block_from_file(uint32_t lba, uint8_t buf[2048], void *userdata) {
        int fd = *(int *) userdata;
        ssize_t k = pread(fd, buf, 2048, (off_t) lba * 2048);

        if (k < 0)
                return -errno;
        if (k != 2048)
                return -EIO;
        return 0;
}

static void test_multisession(void) {
        _cleanup_free_ char *tree = path_join(tmpdir, "ms"), *img = path_join(tmpdir, "ms.iso"),
                            *s2 = path_join(tmpdir, "ms2.iso"), *out = path_join(tmpdir, "ms-out"),
                            *s = NULL, *loading = NULL;
        _cleanup_close_ int fd = -1, fd2 = -1;
        TestEntry e1[2], e2[2];
        uint64_t b1 = 0, b2 = 0, est2 = 0;
        uint32_t next;
        IsoOptions o;
        int status;
        char buf[65536];
        ssize_t k;
        off_t off = 0;

        make_file(tree, "s1/one.txt", "one", 3);
        make_file(tree, "common-v1.txt", "version 1", 9);
        make_file(tree, "s2/two.txt", "two", 3);
        make_file(tree, "common-v2.txt", "version 2", 9);
        e1[0] = entry_for(tree, "s1/one.txt", false);
        e1[1] = entry_for(tree, "common-v1.txt", false);
        e1[1].e.image_path = "common.txt";
        e2[0] = entry_for(tree, "s2/two.txt", false);
        e2[1] = entry_for(tree, "common-v2.txt", false);
        e2[1].e.image_path = "common.txt";

        iso_options_init(&o);
        o.volume_id = "Session 1";
        CHECK(write_image(e1, 2, &o, img, &b1) == 0, "session 1 written (%" PRIu64 " blocks)", b1);

        /* Sessions start on a 32-block boundary, as on overwritable media and in xorriso's files. */
        next = (uint32_t) DIV_ROUND_UP(b1, 32) * 32;
        fd = open(img, O_RDWR | O_CLOEXEC);
        o.volume_id = "Session 2";
        o.read_block = read_block_from_file;
        o.read_userdata = &fd;
        o.import_lba = 0;
        o.next_lba = next;
        o.read_block = read_block_fails;
        CHECK(estimate_blocks(e2, 2, &o, &est2) == -EIO, "a medium that cannot be read: -EIO");
        o.read_block = read_block_from_file;
        CHECK(estimate_blocks(e2, 2, &o, &est2) == 0, "session 2 estimate: %" PRIu64 " blocks", est2);
        CHECK(write_image(e2, 2, &o, s2, &b2) == 0 && b2 == est2 && b2 < b1,
              "session 2 written alone: %" PRIu64 " blocks", b2);

        /* Concatenate at next_lba. */
        fd2 = open(s2, O_RDONLY | O_CLOEXEC);
        while ((k = read(fd2, buf, sizeof buf)) > 0) {
                if (pwrite(fd, buf, (size_t) k, (off_t) next * 2048 + off) != k)
                        abort();
                off += k;
        }

        /* An image file has no TOC: a reader finds the new session at next_lba, as a disc's TOC
         * would tell it. (LBA 0 still describes session 1, which xorriso -toc reports.) */
        s = run(&status, "xorriso -load sbsector %" PRIu32 " -indev '%s' -toc 2>&1", next, img);
        if (asprintf(&loading, "Loading ISO image tree from LBA %" PRIu32 "\n", next) < 0)
                abort();
        CHECK(status == 0 && strstr(s, loading) && strstr(s, "ISO session  :   1 ,         0 ,"),
              "xorriso loads the session at LBA %" PRIu32 "; -toc lists session 1 at LBA 0", next);
        free(s);
        s = run(&status, "xorriso -load sbsector %" PRIu32 " -indev '%s' -find / -type f 2>/dev/null",
                next, img);
        CHECK(status == 0 && strstr(s, "'/s1/one.txt'") && strstr(s, "'/s2/two.txt'") &&
              strstr(s, "'/common.txt'"),
              "session 2 shows the files of both sessions");
        free(s);
        s = run(&status, "xorriso -load sbsector %" PRIu32 " -indev '%s' -osirrox on -extract / '%s' "
                "2>/dev/null && cat '%s/common.txt' '%s/s1/one.txt' '%s/s2/two.txt'",
                next, img, out, out, out, out);
        CHECK(status == 0 && streq(s, "version 2onetwo"), "the replaced file has the new content: %s", s);
        free(s);
        s = run(&status, "isoinfo -R -i '%s' -x /common.txt", img);
        CHECK(streq(s, "version 1"), "session 1 is unchanged: %s", s);
        free(s);
        s = run(&status, "xorriso -load sbsector %" PRIu32 " -indev '%s' -pvd_info 2>/dev/null", next, img);
        CHECK(strstr(s, "Volume Id    : SESSION_2"), "session 2 has its volume id");

        free(run(NULL, "rm -rf '%s'", out));
        unlink(img);
        unlink(s2);
        entries_free(e1, 2);
        entries_free(e2, 2);
}

int main(void) {
        char tmpl[] = "/var/tmp/test-iso-XXXXXX";

        if (system("command -v isoinfo xorriso osirrox blkid >/dev/null") != 0) {
                printf("1..0 # SKIP isoinfo, xorriso, osirrox or blkid missing\n");
                return EXIT_SUCCESS;
        }
        tmpdir = mkdtemp(tmpl);
        if (!tmpdir || iso_library_init() < 0)
                abort();

        test_tree();
        test_options();
        test_big_sparse();
        test_cancel_and_errors();
        test_stream_repeats();
        test_multisession();

        iso_library_finish();
        free(run(NULL, "rm -rf '%s'", tmpdir));
        return tap_done();
}
