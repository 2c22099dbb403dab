/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The stash: locking between processes, byte-exact and sparse copies, reservations, running out
 * of space, I/O errors, cancellation, stale stashes, and the checks of the stash root on real
 * file systems (tmpfs, btrfs with compression, ext4 with fscrypt) and a fake sysfs.
 *
 * Everything runs in a child process. As root the child moves into a private mount namespace,
 * so that whatever it mounts (tests/data/make-test-fs.py uses `mount -o loop`, which detaches
 * its loop device at unmount) disappears with it even if it crashes; the parent removes the
 * temporary directory afterwards. Parts that need mounts are reported as TAP skips, with the
 * reason, when mounting is not permitted.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/btrfs.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <imapi/imapierror.h>

#include "hresult.h"
#include "macro.h"
#include "media/stash.h"
#include "tap.h"

#define MIB (1024 * 1024)

static char tmp[] = "/tmp/test-stash-XXXXXX";
static char *fs_script;

static void skip(const char *what, const char *why) {
        printf("ok %u - %s # SKIP %s\n", ++tap_count, what, why);
}

static bool error_is(const ImapiError *e, uint32_t hr) {
        return e->hresult == hr;
}

static bool message_has(const ImapiError *e, const char *needle) {
        return e->message && strstr(e->message, needle);
}

static char *path_join(const char *a, const char *b) {
        char *p;
        if (asprintf(&p, "%s/%s", a, b) < 0)
                abort();
        return p;
}

static void write_file(const char *path, const void *data, size_t n) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, data, n) != (ssize_t) n || close(fd) < 0) {
                fprintf(stderr, "cannot write %s: %m\n", path);
                abort();
        }
}

static void *random_bytes(size_t n, unsigned seed) {
        uint8_t *p = malloc(n);
        uint32_t x = seed * 2654435761u + 1;
        for (size_t i = 0; i < n; i++) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                p[i] = (uint8_t) x;
        }
        return p;
}

static bool files_equal(const char *a, const char *b) {
        _cleanup_close_ int fa = open(a, O_RDONLY | O_CLOEXEC), fb = open(b, O_RDONLY | O_CLOEXEC);
        static char ba[1 << 16], bb[1 << 16];
        if (fa < 0 || fb < 0)
                return false;
        for (;;) {
                ssize_t na = read(fa, ba, sizeof(ba)), nb = read(fb, bb, sizeof(bb));
                if (na != nb || na < 0)
                        return false;
                if (na == 0)
                        return true;
                if (memcmp(ba, bb, na) != 0)
                        return false;
        }
}

/* How many entries a directory has, "." and ".." aside. */
static int count_entries(const char *path) {
        DIR *d = opendir(path);
        int n = 0;
        if (!d)
                return -errno;
        for (struct dirent *de; (de = readdir(d));)
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

static bool exists(const char *path) {
        struct stat st;
        return lstat(path, &st) == 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) remove(path);
        return 0;
}

static void rm_rf(const char *path) {
        (void) nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* make-test-fs.py, in the source tree meson names in $IMAPI_SRCDIR. (__FILE__ is relative to the
 * source tree, not to where the test runs.) */
static char *find_fs_script(void) {
        const char *src = getenv("IMAPI_SRCDIR");
        char *p;

        if (!src)
                return NULL;
        p = path_join(src, "tests/data/make-test-fs.py");
        if (access(p, R_OK) < 0) {
                free(p);
                return NULL;
        }
        return p;
}

/* Runs make-test-fs.py setup; returns the path it printed, NULL on failure. */
static char *fs_setup(const char *kind, const char *dir, const char *size) {
        _cleanup_free_ char *cmd = NULL;
        char line[PATH_MAX];
        FILE *f;

        if (asprintf(&cmd, "/usr/bin/python3 '%s' setup %s '%s' %s", fs_script, kind, dir, size ?: "") < 0)
                abort();
        fflush(stdout);
        f = popen(cmd, "re");
        if (!f)
                return NULL;
        if (!fgets(line, sizeof(line), f))
                line[0] = '\0';
        if (pclose(f) != 0 || !line[0])
                return NULL;
        line[strcspn(line, "\n")] = '\0';
        return strdup(line);
}

static void fs_teardown(const char *dir) {
        _cleanup_free_ char *cmd = NULL;

        if (asprintf(&cmd, "/usr/bin/python3 '%s' teardown '%s'", fs_script, dir) < 0)
                abort();
        fflush(stdout);
        if (system(cmd) != 0)
                fprintf(stderr, "teardown of %s failed\n", dir);
}

static bool have_program(const char *name) {
        _cleanup_free_ char *cmd = NULL;
        if (asprintf(&cmd, "command -v %s >/dev/null 2>&1", name) < 0)
                abort();
        return system(cmd) == 0;
}

static void test_location(const char *base) {
        _cleanup_free_ char *root = path_join(base, "new/stash"), *file = path_join(base, "plain-file");
        ImapiError e = IMAPI_ERROR_NULL;
        struct stat st;
        int r;

        r = stash_check_location(root, "/nonexistent-sysfs", &e);
        CHECK(r == 0 && stat(root, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700,
                "a missing stash root is created with mode 0700 (r=%d, %s)", r, strna(e.message));
        imapi_error_done(&e);

        write_file(file, "x", 1);
        r = stash_check_location(file, "/nonexistent-sysfs", &e);
        CHECK(r < 0 && error_is(&e, IMAPI_E_FILEACCESS) && message_has(&e, file),
                "a stash root that is a file is FILEACCESS naming it (%s)", strna(e.message));
        imapi_error_done(&e);
}

/* What a forked child wrote to the pipe p before it exited. */
static void child_answer(int p[2], pid_t pid, char *buf, size_t size) {
        ssize_t n;

        close(p[1]);
        n = read(p[0], buf, size - 1);
        buf[MAX(n, 0)] = '\0';
        close(p[0]);
        waitpid(pid, NULL, 0);
}

static void test_locking(const char *root) {
        ImapiError e = IMAPI_ERROR_NULL;
        Stash *s = NULL, *s2 = NULL;
        int pipe_lock[2], pipe_go[2], r;
        char c, name[256] = "";
        pid_t pid;

        if (stash_check_location(root, "/nonexistent-sysfs", NULL) < 0)
                abort();
        r = stash_new(root, "../evil", &s, &e);
        CHECK(r < 0 && !s && error_is(&e, IMAPI_E_INVALIDARG), "a name with / and . is refused (%s)",
                strna(e.message));
        imapi_error_done(&e);
        r = stash_new(root, "", &s, &e);
        CHECK(r < 0 && !s && error_is(&e, IMAPI_E_INVALIDARG), "an empty name is refused");
        imapi_error_done(&e);

        r = stash_new(root, "master-1", &s, &e);
        _cleanup_free_ char *expect = path_join(root, "master-1.stash");
        struct stat st;
        CHECK(r == 0 && s && streq(stash_get_path(s), expect) && stat(expect, &st) == 0 &&
                        (st.st_mode & 07777) == 0700,
                "stash_new creates <root>/master-1.stash, mode 0700 (%s)", strna(e.message));

        /* The same name from another process while we hold it. */
        if (pipe2(pipe_lock, O_CLOEXEC) < 0)
                abort();
        fflush(stdout);
        pid = fork();
        if (pid == 0) {
                Stash *t = NULL;
                ImapiError ce = IMAPI_ERROR_NULL;
                stash_new(root, "master-1", &t, &ce);
                dprintf(pipe_lock[1], "%s", t ? "locked" : hresult_lookup(ce.hresult) ? hresult_lookup(ce.hresult)->constant : "?");
                _exit(0);
        }
        child_answer(pipe_lock, pid, name, sizeof(name));
        CHECK(streq(name, "IMAPI_E_STASHINUSE"), "another process gets IMAPI_E_STASHINUSE (got %s)", name);

        /* And the other way round: a stash held by another process, which then dies. */
        if (pipe2(pipe_lock, O_CLOEXEC) < 0 || pipe2(pipe_go, O_CLOEXEC) < 0)
                abort();
        fflush(stdout);
        pid = fork();
        if (pid == 0) {
                Stash *t = NULL;
                /* Without the write end, our read below ends when the test process dies. */
                close(pipe_go[1]);
                stash_new(root, "held", &t, NULL);
                if (t) {
                        _cleanup_free_ char *f = path_join(stash_get_path(t), "data");
                        write_file(f, "data", 4);
                }
                (void) !write(pipe_lock[1], t ? "y" : "n", 1);
                (void) !read(pipe_go[0], &c, 1);
                _exit(0); /* like a crash: no stash_free() */
        }
        close(pipe_lock[1]);
        close(pipe_go[0]);
        c = 0;
        (void) !read(pipe_lock[0], &c, 1);
        CHECK(c == 'y', "a second process creates the stash \"held\"");
        r = stash_new(root, "held", &s2, &e);
        CHECK(r == hresult_to_errno(IMAPI_E_STASHINUSE) && !s2 && error_is(&e, IMAPI_E_STASHINUSE) &&
                        message_has(&e, "held.stash"),
                "stash_new on a stash another process holds: STASHINUSE naming it (%s)", strna(e.message));
        imapi_error_done(&e);

        /* Stale stashes: one left with files, a subdirectory and a symlink out of it. */
        _cleanup_free_ char *stale = path_join(root, "old.stash"), *stale_sub = path_join(stale, "sub"),
                            *stale_file = path_join(stale_sub, "f"), *outside = path_join(root, "outside"),
                            *link = path_join(stale, "link"), *other = path_join(root, "notastash"),
                            *held = path_join(root, "held.stash");
        mkdir(stale, 0700);
        mkdir(stale_sub, 0700);
        write_file(stale_file, "x", 1);
        mkdir(outside, 0700);
        _cleanup_free_ char *outside_file = path_join(outside, "keep");
        write_file(outside_file, "x", 1);
        if (symlink(outside, link) < 0)
                abort();
        mkdir(other, 0700);

        r = stash_remove_stale(root);
        CHECK(r == 1, "stash_remove_stale removes the one unlocked stash (r=%d)", r);
        CHECK(!exists(stale), "the stale stash, its subdirectory and symlink are gone");
        CHECK(exists(outside_file), "the symlink's target outside the stash is untouched");
        CHECK(exists(other), "a directory not named *.stash is kept");
        CHECK(exists(held) && exists(expect), "stashes locked by us and by another process are kept");

        (void) !write(pipe_go[1], "g", 1);
        close(pipe_go[1]);
        close(pipe_lock[0]);
        waitpid(pid, NULL, 0);
        r = stash_remove_stale(root);
        CHECK(r == 1 && !exists(held), "once its process is gone, its stash is stale and removed (r=%d)", r);

        /* A stash of a dead process with the same name is taken over, emptied. */
        _cleanup_free_ char *leftover = path_join(stale, "leftover");
        mkdir(stale, 0700);
        write_file(leftover, "x", 1);
        r = stash_new(root, "old", &s2, &e);
        CHECK(r == 0 && count_entries(stale) == 0, "stash_new over a stale stash of that name empties it");
        s2 = stash_free(s2);
        CHECK(!exists(stale), "stash_free removes the directory");

        /* stash_free removes what it holds. */
        _cleanup_free_ char *img = NULL;
        int fd = -1;
        r = stash_create_file(s, "image.iso", &fd, &img);
        CHECK(r == 0 && fd >= 0 && img && exists(img), "stash_create_file creates image.iso");
        if (fd >= 0)
                close(fd);
        fd = -1;
        CHECK(stash_create_file(s, "image.iso", &fd, NULL) == -EEXIST, "creating it again is EEXIST");
        CHECK(stash_create_file(s, "../escape", &fd, NULL) == -EINVAL, "a name with / is refused");
        CHECK(stash_remove_file(s, "/etc/passwd") == -EINVAL && exists("/etc/passwd"),
                "stash_remove_file refuses a path outside the stash");
        CHECK(img && stash_remove_file(s, img) == 0 && !exists(img), "stash_remove_file deletes image.iso");
        stash_create_file(s, "another", &fd, NULL);
        if (fd >= 0)
                close(fd);
        s = stash_free(s);
        CHECK(!s && !exists(expect), "stash_free removes a stash with files in it");
        stash_free(NULL);
}

static uint64_t last_progress;
static void record_progress(uint64_t done, void *userdata) {
        last_progress = done;
}

static volatile bool cancel_flag;
static void cancel_after_first(uint64_t done, void *userdata) {
        cancel_flag = true;
}

/* stash_copy_in() and the copy's path, for the checks that look at the file. */
static int copy_in(Stash *s, int fd, const volatile bool *cancel, stash_progress_fn progress, void *userdata,
                   char **ret_path, ImapiError *error) {
        uint32_t id = 0;
        struct stat st;
        int r;

        if (fstat(fd, &st) < 0)
                abort();
        r = stash_copy_in(s, fd, (uint64_t) st.st_size, "test", cancel, progress, userdata, &id, NULL, error);

        if (r >= 0 && (id == 0 || !(*ret_path = stash_copy_path(s, id))))
                abort();
        return r;
}

typedef struct CopyJob {
        Stash *stash;
        const char *src;
        int copies, good;
        char **paths;
} CopyJob;

static void *copy_thread(void *p) {
        CopyJob *j = p;
        for (int i = 0; i < j->copies; i++) {
                _cleanup_close_ int fd = open(j->src, O_RDONLY | O_CLOEXEC);
                char *out = NULL;
                if (copy_in(j->stash, fd, NULL, NULL, NULL, &out, NULL) == 0 &&
                        files_equal(j->src, out))
                        j->good++;
                j->paths[i] = out;
        }
        return NULL;
}

/* A file that changed between the caller's look and the copy: grown, it is copied up to the size
 * the caller saw; shrunk, the copy fails naming it and leaves nothing. */
static void test_copy_changed(Stash *s, const char *src, const void *data, size_t size) {
        ImapiError e = IMAPI_ERROR_NULL;
        _cleanup_free_ char *out = NULL;
        uint32_t id = 0;
        uint64_t cost = 0;
        char *buf = malloc(size);
        int fd = open(src, O_RDONLY | O_CLOEXEC), r;

        r = stash_copy_in(s, fd, size / 2, "grown.bin", NULL, NULL, NULL, &id, &cost, &e);
        out = id ? stash_copy_path(s, id) : NULL;
        _cleanup_close_ int copy_fd = id ? stash_open_copy(s, id) : -1;
        struct stat st;
        CHECK(r == 0 && copy_fd >= 0 && fstat(copy_fd, &st) == 0 && (size_t) st.st_size == size / 2 &&
                read(copy_fd, buf, size) == (ssize_t) (size / 2) && memcmp(buf, data, size / 2) == 0,
                "a file grown since it was examined is copied up to the size seen (%s)", strna(e.message));
        CHECK(cost <= size / 2 + 64 * 1024, "and takes no more than that (%llu)", (unsigned long long) cost);
        if (id)
                (void) stash_remove_copy(s, id);
        id = 0;
        r = stash_copy_in(s, fd, size * 2, "shrunk.bin", NULL, NULL, NULL, &id, &cost, &e);
        CHECK(r < 0 && id == 0 && error_is(&e, IMAPI_E_FILEACCESS) && message_has(&e, "'shrunk.bin' shrank"),
                "a file shorter than when it was examined fails, naming it (%s)", strna(e.message));
        CHECK(count_entries(stash_get_path(s)) == 0, "and leaves no copy behind");
        imapi_error_done(&e);
        close(fd);
        free(buf);
}

static void test_copy(const char *root, const char *base) {
        _cleanup_free_ char *src = path_join(base, "src.bin"), *sparse = path_join(base, "sparse.bin"),
                            *out = NULL;
        ImapiError e = IMAPI_ERROR_NULL;
        const size_t size = 3 * MIB + 123;
        _cleanup_free_ void *data = random_bytes(size, 1);
        Stash *s = NULL;
        struct stat st;
        uint64_t cost;
        int fd, r;

        if (stash_new(root, "copy", &s, &e) < 0)
                abort();
        write_file(src, data, size);

        fd = open(src, O_RDONLY | O_CLOEXEC);
        uint32_t id = 0;
        uint64_t copy_cost = 0;
        r = stash_copy_in(s, fd, size, "src.bin", NULL, record_progress, NULL, &id, &copy_cost, &e);
        out = id != 0 ? stash_copy_path(s, id) : NULL;
        CHECK(r == 0 && out && strncmp(out, stash_get_path(s), strlen(stash_get_path(s))) == 0,
                "a regular file is copied into the stash (r=%d, %s)", r, strna(e.message));
        CHECK(out && files_equal(src, out), "the copy is byte-exact");
        _cleanup_close_ int copy_fd = stash_open_copy(s, id);
        char head[16] = {};
        CHECK(copy_fd >= 0 && read(copy_fd, head, sizeof head) == sizeof head && memcmp(head, data, sizeof head) == 0,
                "stash_open_copy opens the copy by its id");
        CHECK(last_progress == size, "progress reaches the file's size (%llu)",
                (unsigned long long) last_progress);
        CHECK(stash_file_cost(fd, &cost) == 0 && cost >= size && cost < size + MIB,
                "stash_file_cost of a dense file is its allocated size (%llu)", (unsigned long long) cost);
        CHECK(copy_cost >= size && copy_cost < size + MIB, "the copy's cost is what it takes (%llu)",
                (unsigned long long) copy_cost);
        close(fd);
        CHECK(stash_remove_copy(s, id) == 0 && count_entries(stash_get_path(s)) == 0,
                "the copy can be removed by its id");
        CHECK(stash_open_copy(s, id) == -ENOENT, "and is gone");
        free(out);
        out = NULL;
        test_copy_changed(s, src, data, size);

        /* 64 MiB with 8 KiB of data in two places and a hole at the end. */
        fd = open(sparse, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || ftruncate(fd, 64 * MIB) < 0 || pwrite(fd, data, 4096, 1 * MIB) != 4096 ||
                pwrite(fd, data, 4096, 40 * MIB) != 4096)
                abort();
        CHECK(stash_file_cost(fd, &cost) == 0 && cost < 1 * MIB,
                "stash_file_cost of a sparse file counts only its data (%llu)", (unsigned long long) cost);
        r = copy_in(s, fd, NULL, NULL, NULL, &out, &e);
        CHECK(r == 0 && out && stat(out, &st) == 0 && st.st_size == 64 * MIB,
                "a sparse 64 MiB file is copied with its full size");
        CHECK(out && stat(out, &st) == 0 && (uint64_t) st.st_blocks * 512 < 1 * MIB,
                "the copy stays sparse (%llu bytes allocated)", (unsigned long long) st.st_blocks * 512);
        CHECK(out && files_equal(sparse, out), "the sparse copy is byte-exact");
        close(fd);
        free(out);
        out = NULL;

        /* Not regular files. */
        fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int before = count_entries(stash_get_path(s));
        r = copy_in(s, fd, NULL, NULL, NULL, &out, &e);
        CHECK(r == -EINVAL && !out && error_is(&e, IMAPI_E_INVALIDARG) && message_has(&e, "directory"),
                "a directory is refused with E_INVALIDARG (%s)", strna(e.message));
        imapi_error_done(&e);
        close(fd);
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                abort();
        r = copy_in(s, p[0], NULL, NULL, NULL, &out, &e);
        CHECK(r == -EINVAL && error_is(&e, IMAPI_E_INVALIDARG) && count_entries(stash_get_path(s)) == before,
                "a pipe is refused and leaves no file");
        imapi_error_done(&e);
        close(p[0]);
        close(p[1]);

        /* Cancellation: before the start, and after the first chunk of a large file. */
        _cleanup_free_ char *big = path_join(base, "big.bin");
        _cleanup_free_ void *bigdata = random_bytes(40 * MIB, 2);
        write_file(big, bigdata, 40 * MIB);
        fd = open(big, O_RDONLY | O_CLOEXEC);
        cancel_flag = true;
        r = copy_in(s, fd, &cancel_flag, NULL, NULL, &out, &e);
        CHECK(r == -ECANCELED && !out && count_entries(stash_get_path(s)) == before,
                "a copy cancelled before it starts fails with ECANCELED and leaves no file");
        cancel_flag = false;
        r = copy_in(s, fd, &cancel_flag, cancel_after_first, NULL, &out, &e);
        CHECK(r == -ECANCELED && !out && count_entries(stash_get_path(s)) == before,
                "a copy cancelled halfway fails with ECANCELED and leaves no file (r=%d)", r);
        close(fd);

        /* Several copies at once on one stash. */
        _cleanup_free_ char *small = path_join(base, "small.txt");
        write_file(small, "hello, stash\n", 13);
        CopyJob jobs[4];
        pthread_t threads[4];
        for (int i = 0; i < 4; i++) {
                jobs[i] = (CopyJob){
                        .stash = s, .src = small, .copies = 50, .paths = calloc(50, sizeof(char *))};
                pthread_create(&threads[i], NULL, copy_thread, &jobs[i]);
        }
        int good = 0;
        for (int i = 0; i < 4; i++) {
                pthread_join(threads[i], NULL);
                good += jobs[i].good;
        }
        CHECK(good == 200 && count_entries(stash_get_path(s)) == before + 200,
                "200 copies from 4 threads at once are 200 distinct, correct files (%d)", good);
        for (int i = 0; i < 4; i++) {
                for (int k = 0; k < 50; k++)
                        free(jobs[i].paths[k]);
                free(jobs[i].paths);
        }

        /* Reservations on a big file system. */
        r = stash_reserve(s, UINT64_C(1) << 60, &e);
        CHECK(r == hresult_to_errno(IMAPI_E_NOTENOUGHDISKFORSTASH) &&
                        error_is(&e, IMAPI_E_NOTENOUGHDISKFORSTASH) && message_has(&e, "MiB free") &&
                        stash_reserved(s) == 0,
                "reserving an exabyte is NOTENOUGHDISKFORSTASH (%s)", strna(e.message));
        imapi_error_done(&e);
        CHECK(stash_reserve(s, MIB, &e) == 0 && stash_reserved(s) == MIB, "reserving 1 MiB works");
        stash_release(s, 2 * MIB);
        CHECK(stash_reserved(s) == 0, "releasing more than reserved leaves 0");

        stash_free(s);
        unlink(big);
}

/* A fake sysfs whose dev/block/MAJ:MIN, for the device the stash root is on, links to a device
 * laid out as the kernel does. */
static void make_fake_sysfs(const char *sys, dev_t dev, const char *kind) {
        _cleanup_free_ char *cmd = NULL;
        const char *usb = "devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/host6/target6:0:0/6:0:0:0/block";

        /* Laid out with the shell, as a reader of the test would with mkdir and ln. */
        if (asprintf(&cmd,
                    "set -e; rm -rf '%1$s'; mkdir -p '%1$s/dev/block' '%1$s/%2$s/sdb/sdb1' "
                    "'%1$s/devices/virtual/block/dm-0/slaves';"
                    "echo %3$d > '%1$s/%2$s/sdb/removable';"
                    "case %4$s in"
                    " partition) ln -s ../../%2$s/sdb/sdb1 '%1$s/dev/block/%5$u:%6$u';;"
                    " disk) ln -s ../../%2$s/sdb '%1$s/dev/block/%5$u:%6$u';;"
                    " dm) echo 0 > '%1$s/devices/virtual/block/dm-0/removable';"
                    "     ln -s ../../../../../%2$s/sdb/sdb1 '%1$s/devices/virtual/block/dm-0/slaves/sdb1';"
                    "     ln -s ../../devices/virtual/block/dm-0 '%1$s/dev/block/%5$u:%6$u';;"
                    "esac",
                    sys, usb, streq(kind, "fixed") ? 0 : 1, streq(kind, "fixed") ? "partition" : kind,
                    major(dev), minor(dev)) < 0)
                abort();
        if (system(cmd) != 0)
                abort();
}

static void test_removable(const char *root, const char *base) {
        _cleanup_free_ char *sys = path_join(base, "sys");
        ImapiError e = IMAPI_ERROR_NULL;
        struct stat st;
        int r;

        if (stat(root, &st) < 0)
                abort();
        if (major(st.st_dev) == 0) {
                skip("removable detection against a fake sysfs",
                        "the temporary directory has no block device");
                return;
        }

        make_fake_sysfs(sys, st.st_dev, "partition");
        r = stash_check_location(root, sys, &e);
        CHECK(r == hresult_to_errno(IMAPI_E_REMOVABLESTASH) && error_is(&e, IMAPI_E_REMOVABLESTASH) &&
                        message_has(&e, "/dev/sdb1") && message_has(&e, root),
                "a partition of a removable disk is REMOVABLESTASH (%s)", strna(e.message));
        imapi_error_done(&e);

        make_fake_sysfs(sys, st.st_dev, "disk");
        r = stash_check_location(root, sys, &e);
        CHECK(r < 0 && error_is(&e, IMAPI_E_REMOVABLESTASH) && message_has(&e, "/dev/sdb,"),
                "a removable whole disk is REMOVABLESTASH (%s)", strna(e.message));
        imapi_error_done(&e);

        make_fake_sysfs(sys, st.st_dev, "dm");
        r = stash_check_location(root, sys, &e);
        CHECK(r < 0 && error_is(&e, IMAPI_E_REMOVABLESTASH) && message_has(&e, "/dev/sdb1"),
                "a device-mapper device on a removable disk is REMOVABLESTASH (%s)", strna(e.message));
        imapi_error_done(&e);

        make_fake_sysfs(sys, st.st_dev, "fixed");
        r = stash_check_location(root, sys, &e);
        CHECK(r == 0 && !imapi_error_is_set(&e), "a partition of a fixed disk is fine (%s)",
                strna(e.message));
        imapi_error_done(&e);

        CHECK(stash_check_location(root, "/nonexistent-sysfs", &e) == 0,
                "a device unknown to sysfs is not taken for removable");
        imapi_error_done(&e);
}

/* tmpfs: reservations against a small file system, and ENOSPC in the middle of a copy. */
static void test_tmpfs(const char *base) {
        _cleanup_free_ char *mnt = path_join(base, "tmpfs"), *src = path_join(base, "16M.bin"), *out = NULL;
        ImapiError e = IMAPI_ERROR_NULL;
        Stash *s = NULL, *s2 = NULL, *local = NULL;
        struct statvfs before, after;
        int fd, r;

        mkdir(mnt, 0700);
        if (mount("tmpfs", mnt, "tmpfs", 0, "size=8M,mode=0700") < 0) {
                char why[128];
                snprintf(why, sizeof(why), "mounting a tmpfs is not permitted here: %m");
                skip("reservations and ENOSPC on an 8 MiB tmpfs", why);
                return;
        }
        _cleanup_free_ char *root = path_join(mnt, "stash"), *sys = path_join(base, "sys");

        /* Even with a fake sysfs that calls every block device removable: a tmpfs has none. */
        struct stat st;
        stat(mnt, &st);
        make_fake_sysfs(sys, st.st_dev, "disk");
        r = stash_check_location(root, sys, &e);
        CHECK(r == 0, "a tmpfs stash root passes the checks (major 0 is not a block device; %s)",
                strna(e.message));
        imapi_error_done(&e);

        if (stash_new(root, "a", &s, &e) < 0 || stash_new(root, "b", &s2, &e) < 0 ||
                stash_new(base, "local", &local, &e) < 0)
                abort();

        CHECK(stash_reserve(s, 4 * MIB, &e) == 0, "4 MiB of an 8 MiB tmpfs can be reserved");
        r = stash_reserve(s, 4 * MIB, &e);
        CHECK(r == hresult_to_errno(IMAPI_E_NOTENOUGHDISKFORSTASH) &&
                        error_is(&e, IMAPI_E_NOTENOUGHDISKFORSTASH) && stash_reserved(s) == 4 * MIB,
                "4 MiB more is NOTENOUGHDISKFORSTASH and reserves nothing (%s)", strna(e.message));
        CHECK(message_has(&e, "needs 5 MiB") && message_has(&e, "4 MiB free") &&
                        message_has(&e, "4 MiB reserved") && message_has(&e, root),
                "the message says what is needed and what is free");
        imapi_error_done(&e);
        r = stash_reserve(s2, 4 * MIB, &e);
        CHECK(r < 0 && error_is(&e, IMAPI_E_NOTENOUGHDISKFORSTASH),
                "another stash on the same file system sees the first one's reservation");
        imapi_error_done(&e);
        CHECK(stash_reserve(local, 64 * MIB, &e) == 0, "a stash on another file system does not");
        stash_release(s, 2 * MIB);
        CHECK(stash_reserve(s2, 3 * MIB, &e) == 0, "after releasing 2 MiB, 3 MiB fit again");
        s = stash_free(s);
        CHECK(stash_reserve(s2, 3 * MIB, &e) == 0, "stash_free releases what its stash had reserved");
        imapi_error_done(&e);

        /* A copy that does not fit although nothing was reserved for it. */
        _cleanup_free_ void *data = random_bytes(16 * MIB, 3);
        write_file(src, data, 16 * MIB);
        fd = open(src, O_RDONLY | O_CLOEXEC);
        statvfs(mnt, &before);
        r = copy_in(s2, fd, NULL, NULL, NULL, &out, &e);
        statvfs(mnt, &after);
        CHECK(r == hresult_to_errno(IMAPI_E_NOTENOUGHDISKFORSTASH) && !out &&
                        error_is(&e, IMAPI_E_NOTENOUGHDISKFORSTASH) && message_has(&e, "16 MiB"),
                "running out of space halfway is NOTENOUGHDISKFORSTASH (%s)", strna(e.message));
        imapi_error_done(&e);
        CHECK(count_entries(stash_get_path(s2)) == 0 && after.f_bavail == before.f_bavail,
                "the partial copy is removed and its space is free again");
        close(fd);

        stash_free(s2);
        stash_free(local);
        CHECK(umount(mnt) == 0, "the tmpfs unmounts: nothing is left open on it");
}

static void test_btrfs(const char *base) {
        _cleanup_free_ char *dir = path_join(base, "btrfs"), *root = NULL;
        ImapiError e = IMAPI_ERROR_NULL;
        Stash *s = NULL;
        int r;

        root = fs_setup("btrfs-compressed", dir, NULL);
        CHECK(root, "make-test-fs.py sets up btrfs-compressed");
        if (!root)
                return;
        r = stash_check_location(root, "/sys", &e);
        CHECK(r == hresult_to_errno(IMAPI_E_COMPRESSEDSTASH) && error_is(&e, IMAPI_E_COMPRESSEDSTASH) &&
                        message_has(&e, "btrfs file system with compression enabled") &&
                        message_has(&e, root),
                "a stash root with chattr +c on btrfs is COMPRESSEDSTASH (%s)", strna(e.message));
        imapi_error_done(&e);

        /* The same file system without +c is fine, and copies within it are reflinks. */
        _cleanup_free_ char *plain = path_join(dir, "mnt/plain"), *src = path_join(dir, "mnt/src.bin"),
                            *out = NULL;
        r = stash_check_location(plain, "/sys", &e);
        CHECK(r == 0, "a directory without +c on the same btrfs passes (%s)", strna(e.message));
        imapi_error_done(&e);

        /* btrfs has an anonymous st_dev; its devices are found through its fsid. */
        struct btrfs_ioctl_fs_info_args info = {};
        _cleanup_free_ char *sys = path_join(base, "sys-btrfs"), *cmd = NULL;
        int pfd = open(plain, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        const uint8_t *u = info.fsid;
        if (pfd < 0 || ioctl(pfd, BTRFS_IOC_FS_INFO, &info) < 0)
                abort();
        close(pfd);
        if (asprintf(&cmd,
                    "set -e; d='%1$s/devices/pci0000:00/usb1/1-1/host6/block/sdb';"
                    "f='%1$s/fs/btrfs/%2$02x%3$02x%4$02x%5$02x-%6$02x%7$02x-%8$02x%9$02x-%10$02x%11$02x-"
                    "%12$02x%13$02x%14$02x%15$02x%16$02x%17$02x/devices';"
                    "mkdir -p \"$d/sdb1\" \"$f\"; echo 1 > \"$d/removable\";"
                    "ln -s ../../../../devices/pci0000:00/usb1/1-1/host6/block/sdb/sdb1 \"$f/sdb1\"",
                    sys, u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
                    u[13], u[14], u[15]) < 0 ||
                system(cmd) != 0)
                abort();
        r = stash_check_location(plain, sys, &e);
        CHECK(r < 0 && error_is(&e, IMAPI_E_REMOVABLESTASH) && message_has(&e, "/dev/sdb1"),
                "a btrfs whose device is a partition of a removable disk is REMOVABLESTASH (%s)",
                strna(e.message));
        imapi_error_done(&e);
        _cleanup_free_ void *data = random_bytes(16 * MIB, 4);
        write_file(src, data, 16 * MIB);
        sync();
        if (stash_new(plain, "reflink", &s, &e) < 0)
                abort();
        struct statvfs before, after;
        int fd = open(src, O_RDONLY | O_CLOEXEC);
        statvfs(plain, &before);
        r = copy_in(s, fd, NULL, NULL, NULL, &out, &e);
        sync();
        statvfs(plain, &after);
        uint64_t used = (before.f_bavail - after.f_bavail) * before.f_frsize;
        CHECK(r == 0 && out && files_equal(src, out), "a copy on btrfs is byte-exact");
        CHECK(used < 4 * MIB, "and is a reflink: 16 MiB copied, %llu KiB more in use",
                (unsigned long long) used / 1024);
        CHECK(stash_pack_fits(s, 3000, 4096) && !stash_pack_fits(s, 16 * MIB, 16 * MIB),
              "a stash that can clone still packs small files; a larger one is a reflink, as above");
        close(fd);
        stash_free(s);

        fs_teardown(dir);
}

static void test_ext4_encrypted(const char *base) {
        _cleanup_free_ char *dir = path_join(base, "ext4"), *root = NULL;
        ImapiError e = IMAPI_ERROR_NULL;
        int r;

        root = fs_setup("ext4-encrypted", dir, NULL);
        CHECK(root, "make-test-fs.py sets up ext4-encrypted");
        if (!root)
                return;
        r = stash_check_location(root, "/sys", &e);
        CHECK(r == hresult_to_errno(IMAPI_E_ENCRYPTEDSTASH) && error_is(&e, IMAPI_E_ENCRYPTEDSTASH) &&
                        message_has(&e, "encrypted") && message_has(&e, root),
                "a stash root with an fscrypt policy on ext4 is ENCRYPTEDSTASH (%s)", strna(e.message));
        imapi_error_done(&e);
        _cleanup_free_ char *plain = path_join(dir, "mnt/plain");
        r = stash_check_location(plain, "/sys", &e);
        CHECK(r == 0, "an unencrypted directory on the same ext4 passes (%s)", strna(e.message));
        imapi_error_done(&e);
        fs_teardown(dir);
}

static void test_ioerror(const char *root, const char *base) {
        _cleanup_free_ char *dir = path_join(base, "btrfs-eio"), *bad = NULL, *out = NULL;
        ImapiError e = IMAPI_ERROR_NULL;
        Stash *s = NULL;
        int fd, r;

        bad = fs_setup("btrfs-ioerror", dir, NULL);
        CHECK(bad, "make-test-fs.py sets up btrfs-ioerror");
        if (!bad)
                return;
        if (stash_new(root, "eio", &s, &e) < 0)
                abort();
        fd = open(bad, O_RDONLY | O_CLOEXEC);
        r = copy_in(s, fd, NULL, NULL, NULL, &out, &e);
        CHECK(r == hresult_to_errno(IMAPI_E_FILEACCESS) && !out && error_is(&e, IMAPI_E_FILEACCESS) &&
                        message_has(&e, "Input/output error"),
                "an I/O error during the copy is FILEACCESS (%s)", strna(e.message));
        CHECK(count_entries(stash_get_path(s)) == 0, "and leaves no file");
        imapi_error_done(&e);
        close(fd);
        stash_free(s);
        fs_teardown(dir);
}

/* Out of fds between making the directory and opening it (a child, for its own RLIMIT_NOFILE):
 * the error names the limit, and no directory is left behind. */
static void test_out_of_fds(const char *root) {
        _cleanup_free_ char *dir = path_join(root, "nofds.stash");
        char answer[64] = "";
        int p[2];
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                abort();
        fflush(stdout);
        pid = fork();
        if (pid == 0) {
                ImapiError e = IMAPI_ERROR_NULL;
                Stash *s = NULL;
                int lowest = dup(0);
                struct rlimit rl;

                /* Room for the root's fd only (fds below the lowest free one are in use). */
                close(lowest);
                getrlimit(RLIMIT_NOFILE, &rl);
                rl.rlim_cur = (rlim_t) lowest + 1;
                if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                        _exit(1);
                stash_new(root, "nofds", &s, &e);
                dprintf(p[1], "%s %s", s ? "made" : hresult_lookup(e.hresult)->constant,
                        e.message && strstr(e.message, "file descriptors") ? "named" : "unnamed");
                _exit(0);
        }
        child_answer(p, pid, answer, sizeof(answer));
        CHECK(streq(answer, "IMAPI_E_OUTOFMEMORY named"),
                "stash_new out of fds: OUTOFMEMORY saying so (got \"%s\")", answer);
        CHECK(!exists(dir), "and the directory it made is gone");
}

/* Whether the pack holds data at offset. */
static bool pack_holds(const char *pack, uint64_t offset, const void *data, size_t size) {
        _cleanup_free_ uint8_t *buf = malloc(size);
        _cleanup_close_ int fd = open(pack, O_RDONLY | O_CLOEXEC);

        return buf && fd >= 0 && pread(fd, buf, size, (off_t) offset) == (ssize_t) size &&
               memcmp(buf, data, size) == 0;
}

static off_t file_size(const char *path) {
        struct stat st;

        return stat(path, &st) < 0 ? -1 : st.st_size;
}

static void test_pack(const char *root, const char *base) {
        _cleanup_free_ char *a = path_join(base, "pa.bin"), *b = path_join(base, "pb.bin"), *pack = NULL;
        _cleanup_free_ void *da = random_bytes(3000, 7), *db = random_bytes(5000, 8);
        ImapiError e = IMAPI_ERROR_NULL;
        uint32_t ia = 0, ib = 0, ic = 0;
        uint64_t mark = 0;
        Stash *s = NULL;
        int r, q;

        if (stash_new(root, "pack", &s, &e) < 0)
                abort();
        pack = path_join(stash_get_path(s), STASH_PACK_NAME);
        write_file(a, da, 3000);
        write_file(b, db, 5000);
        _cleanup_close_ int fa = open(a, O_RDONLY | O_CLOEXEC), fb = open(b, O_RDONLY | O_CLOEXEC);
        CHECK(stash_pack_fits(s, 3000, 4096) && !stash_pack_fits(s, 3000, 0) && !stash_pack_fits(s, 0, 0) &&
              !stash_pack_fits(s, STASH_PACK_FILE_MAX + 1, 128 * 1024),
              "small whole files are packed; sparse, empty and larger ones not");

        r = stash_pack_begin(s, stash_pack_cost(3000) + stash_pack_cost(5000), &mark, &e);
        r = r < 0 ? r : stash_pack_in(s, fa, 3000, "pa.bin", NULL, &ia, &e);
        r = r < 0 ? r : stash_pack_in(s, fb, 5000, "pb.bin", NULL, &ib, &e);
        (void) stash_pack_end(s, mark, r >= 0);
        CHECK(r == 0 && stash_copy_packed(ia) && stash_copy_offset(ia) == 0 && stash_copy_offset(ib) == 4096,
              "two small files go to 2048-byte aligned offsets of the pack (%s)", strna(e.message));
        CHECK(file_size(pack) == 4096 + 6144 && pack_holds(pack, 0, da, 3000) && pack_holds(pack, 4096, db, 5000),
              "and the pack holds their bytes there, %lld bytes in all", (long long) file_size(pack));
        CHECK(stash_remove_copy(s, ia) == 0 && file_size(pack) == 4096 + 6144,
              "removing a packed copy leaves the pack as it is");
        imapi_error_done(&e);

        r = stash_pack_begin(s, 4096 + 8192, &mark, &e);
        r = r < 0 ? r : stash_pack_in(s, fa, 3000, "pa.bin", NULL, &ic, &e);
        q = stash_pack_in(s, fb, 6000, "pb.bin", NULL, &ic, &e);
        (void) stash_pack_end(s, mark, false);
        CHECK(r == 0 && q == hresult_to_errno(IMAPI_E_FILEACCESS) && message_has(&e, "shrank") &&
              file_size(pack) == 4096 + 6144 && pack_holds(pack, 4096, db, 5000),
              "a batch that fails is cut back: the pack is as it was (%s)", strna(e.message));
        imapi_error_done(&e);

        r = stash_pack_begin(s, 2048, &mark, &e);
        q = stash_pack_in(s, fb, 5000, "pb.bin", NULL, &ic, &e);
        (void) stash_pack_end(s, mark, false);
        CHECK(r == 0 && q == -EINVAL && file_size(pack) == 4096 + 6144,
              "a batch never copies more than it set aside");

        stash_pack_clear(s);
        CHECK(file_size(pack) < 0 && errno == ENOENT, "clearing removes the pack");
        r = stash_pack_begin(s, 4096, &mark, &e);
        (void) stash_pack_end(s, mark, false);
        CHECK(r == 0 && file_size(pack) < 0, "a first batch that fails leaves no pack behind");
        stash_free(s);
}

static int run_tests(void) {
        _cleanup_free_ char *root = path_join(tmp, "root");
        bool mounts = false;

        if (geteuid() == 0 && unshare(CLONE_NEWNS) == 0 &&
                mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0)
                mounts = true;

        test_location(tmp);
        test_locking(root);
        test_out_of_fds(root);
        test_copy(root, tmp);
        test_pack(root, tmp);
        test_removable(root, tmp);

        if (!mounts) {
                const char *why =
                        "needs root and a private mount namespace, which this process may not have";
                skip("reservations and ENOSPC on an 8 MiB tmpfs", why);
                skip("COMPRESSEDSTASH on btrfs", why);
                skip("ENCRYPTEDSTASH on ext4", why);
                skip("FILEACCESS on an I/O error", why);
                return tap_done();
        }
        test_tmpfs(tmp);

        fs_script = find_fs_script();
        CHECK(fs_script, "tests/data/make-test-fs.py is found next to the tests");
        if (!fs_script)
                return tap_done();
        if (have_program("mkfs.btrfs") && have_program("chattr")) {
                test_btrfs(tmp);
                test_ioerror(root, tmp);
        } else {
                skip("COMPRESSEDSTASH on btrfs", "mkfs.btrfs (btrfs-progs) is not installed");
                skip("FILEACCESS on an I/O error", "mkfs.btrfs (btrfs-progs) is not installed");
        }
        if (have_program("mkfs.ext4"))
                test_ext4_encrypted(tmp);
        else
                skip("ENCRYPTEDSTASH on ext4", "mkfs.ext4 (e2fsprogs) is not installed");
        free(fs_script);
        return tap_done();
}

int main(void) {
        int status;
        pid_t pid;

        if (!mkdtemp(tmp)) {
                printf("Bail out! cannot create a temporary directory: %m\n");
                return EXIT_FAILURE;
        }
        fflush(stdout);
        pid = fork();
        if (pid < 0)
                return EXIT_FAILURE;
        if (pid == 0) {
                /* exit(), not _exit(): the plan must be flushed and LeakSanitizer must run. */
                exit(run_tests());
        }

        if (waitpid(pid, &status, 0) < 0)
                status = -1;
        rm_rf(tmp);
        if (WIFSIGNALED(status)) {
                printf("Bail out! the test process died of signal %d\n", WTERMSIG(status));
                return EXIT_FAILURE;
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_FAILURE;
}
