/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The stash: one locked directory per disc master, disk space reservations shared by every
 * stash of this process, its files, and stale stashes at start-up. Where a stash may live is
 * stash-location.c's, copies into it stash-copy.c's.
 */


#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include <imapi/imapierror.h>
#include "hresult.h"
#include "log.h"
#include "macro.h"
#include "media/stash-internal.h"

#define STASH_SUFFIX ".stash"
#define STASH_NAME_MAX 128
#define MARGIN_MAX (64 * MIB)

/* Every live stash of this process, so that a reservation sees what the others reserved on the
 * same file system. */
static pthread_mutex_t reservations_lock = PTHREAD_MUTEX_INITIALIZER;
static Stash *stashes = NULL;

static bool stash_name_valid(const char *name) {
        size_t n = strlen(name);

        if (n == 0 || n > STASH_NAME_MAX)
                return false;
        return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* Removes everything inside the directory open at dir_fd, never following symlinks. The
 * directory is read again until it is empty, since unlinking while reading may skip entries. */
static int rm_rf_children(int dir_fd, unsigned depth) {
        _cleanup_close_ int fd = -1;
        bool removed;
        DIR *d;
        int r = 0;

        if (depth > 64)
                return -ELOOP;
        fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d)
                return -errno;
        fd = -1;

        do {
                removed = false;
                rewinddir(d);
                for (struct dirent *de; (de = readdir(d));) {
                        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                                continue;
                        if (unlinkat(dirfd(d), de->d_name, 0) == 0) {
                                removed = true;
                                continue;
                        }
                        if (errno != EISDIR) {
                                r = -errno;
                                goto finish;
                        }
                        _cleanup_close_ int sub = openat(
                                dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0) {
                                r = -errno;
                                goto finish;
                        }
                        r = rm_rf_children(sub, depth + 1);
                        if (r < 0)
                                goto finish;
                        if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0) {
                                r = -errno;
                                goto finish;
                        }
                        removed = true;
                }
        } while (removed);
finish:
        closedir(d);
        return r;
}

/* Opens and locks <root_fd>/<dirname>. -EWOULDBLOCK if another open file holds the lock. */
static int open_locked(int root_fd, const char *dirname) {
        _cleanup_close_ int fd = -1;

        fd = openat(root_fd, dirname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return -errno;
        return TAKE_FD(fd);
}

/* EMFILE and ENFILE are imapid's or the system's limit, not the stash's fault: named as such. */
static int stash_error_errno(ImapiError *error, int r, const char *what, const char *path) {
        if (IN_SET(-r, EMFILE, ENFILE))
                return imapi_error_set(error, IMAPI_E_OUTOFMEMORY,
                        "The stash %s cannot be %s: imapid has run out of file descriptors.", path, what);
        return imapi_error_set(error, IMAPI_E_FILEACCESS, "The stash %s cannot be %s: %s.", path, what,
                               strerror(-r));
}

/* Makes and locks the directory; *created tells whether it was made here (so a failure after
 * that can take it away again). Returns the locked fd. */
static int stash_make_locked(int root_fd, const char *dirname, const char *path, bool *created,
                             ImapiError *error) {
        _cleanup_close_ int fd = -1;

        /* stash_remove_stale() in another process may remove the directory between our mkdir and
         * our lock; a lock on a directory that no longer has this name is worth nothing, so
         * check and try again. */
        for (unsigned attempt = 0;; attempt++) {
                struct stat a, b;

                if (mkdirat(root_fd, dirname, 0700) >= 0)
                        *created = true;
                else if (errno != EEXIST)
                        return stash_error_errno(error, -errno, "created", path);
                fd = open_locked(root_fd, dirname);
                if (fd == -EWOULDBLOCK)
                        return imapi_error_set(error, IMAPI_E_STASHINUSE,
                                "The stash %s is in use: its lock is held by another disc master or "
                                "process.",
                                path);
                if (fd == -ENOENT && attempt < 3)
                        continue;
                if (fd < 0) {
                        int r = fd;

                        fd = -1;
                        return stash_error_errno(error, r, "opened", path);
                }
                if (fstat(fd, &a) == 0 && fstatat(root_fd, dirname, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
                        a.st_dev == b.st_dev && a.st_ino == b.st_ino)
                        return TAKE_FD(fd);
                fd = safe_close(fd);
                if (attempt >= 3)
                        return imapi_error_set(error, IMAPI_E_STASHINUSE,
                                "The stash %s keeps being replaced by another process.", path);
        }
}

int stash_new(const char *root, const char *name, Stash **ret, ImapiError *error) {
        _cleanup_free_ char *dirname = NULL, *path = NULL;
        _cleanup_close_ int root_fd = -1, fd = -1;
        bool created = false;
        struct stat st;
        uint32_t tag;
        Stash *s;
        int r;

        if (!stash_name_valid(name))
                return imapi_error_set(error, IMAPI_E_INVALIDARG,
                        "The stash name \"%.64s\" is not valid: use 1 to %d of A-Z, a-z, 0-9, _ and -.",
                        name, STASH_NAME_MAX);
        if (asprintf(&dirname, "%s" STASH_SUFFIX, name) < 0 ||
                asprintf(&path, "%s%s%s", root, root[0] && root[strlen(root) - 1] == '/' ? "" : "/",
                        dirname) < 0)
                return -ENOMEM;

        root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0) {
                r = -errno;
                if (IN_SET(-r, EMFILE, ENFILE))
                        return stash_error_errno(error, r, "made", path);
                return imapi_error_set(error, IMAPI_E_FILEACCESS,
                        "The stash directory %s cannot be opened: %s.", root, strerror(-r));
        }

        r = fd = stash_make_locked(root_fd, dirname, path, &created, error);
        if (r < 0)
                goto fail;

        /* Whatever is in it was left by a daemon that died without cleaning up. */
        r = rm_rf_children(fd, 0);
        if (r < 0) {
                r = stash_error_errno(error, r, "emptied of old files", path);
                goto fail;
        }
        if (fstat(fd, &st) < 0) {
                r = stash_error_errno(error, -errno, "examined", path);
                goto fail;
        }
        if (getrandom(&tag, sizeof(tag), GRND_NONBLOCK) != sizeof(tag))
                tag = (uint32_t) getpid() ^ (uint32_t) time(NULL);

        s = calloc(1, sizeof(Stash));
        if (!s) {
                r = -ENOMEM;
                goto fail;
        }
        *s = (Stash){
                .path = TAKE_PTR(path),
                .dir_fd = TAKE_FD(fd),
                .dev = st.st_dev,
                .tag = tag,
                .pack_fd = -1,
        };

        pthread_mutex_lock(&reservations_lock);
        s->next = stashes;
        if (stashes)
                stashes->prev = s;
        stashes = s;
        pthread_mutex_unlock(&reservations_lock);

        *ret = s;
        return 0;

fail:
        /* A failed Open leaves nothing behind: the directory goes if it was made here (it is
         * empty, or its lock, still ours, kept others out while it was emptied). */
        if (created)
                (void) unlinkat(root_fd, dirname, AT_REMOVEDIR);
        return r;
}

Stash *stash_free(Stash *s) {
        int r;

        if (!s)
                return NULL;

        pthread_mutex_lock(&reservations_lock);
        if (s->prev)
                s->prev->next = s->next;
        else
                stashes = s->next;
        if (s->next)
                s->next->prev = s->prev;
        pthread_mutex_unlock(&reservations_lock);

        safe_close(s->pack_fd);
        /* Remove while still holding the lock, so nobody else takes the name half-emptied. */
        r = rm_rf_children(s->dir_fd, 0);
        if (r >= 0 && rmdir(s->path) < 0)
                r = -errno;
        if (r < 0)
                log_warning_errno(
                        r, "Cannot remove the stash %s, leaving it for the next start: %m", s->path);

        safe_close(s->dir_fd);
        free(s->path);
        free(s);
        return NULL;
}

const char *stash_get_path(const Stash *s) {
        return s ? s->path : NULL;
}

int stash_reserve(Stash *s, uint64_t bytes, ImapiError *error) {
        struct statvfs sv;
        uint64_t avail, total, margin, others = 0, need;

        if (fstatvfs(s->dir_fd, &sv) < 0) {
                int r = -errno;
                return imapi_error_set(error, IMAPI_E_FILEACCESS,
                        "The free space of the stash %s is unknown: %s.", s->path, strerror(-r));
        }
        avail = (uint64_t) sv.f_bavail * sv.f_frsize;
        total = (uint64_t) sv.f_blocks * sv.f_frsize;
        margin = MIN(total / 100, MARGIN_MAX);

        pthread_mutex_lock(&reservations_lock);
        for (Stash *i = stashes; i; i = i->next)
                if (i->dev == s->dev)
                        others += i->reserved;
        need = bytes + margin;
        if (bytes > UINT64_MAX - margin || others > avail || need > avail - others) {
                uint64_t free_ = others > avail ? 0 : avail - others;
                char others_text[64] = "";

                pthread_mutex_unlock(&reservations_lock);
                if (others > 0)
                        snprintf(others_text, sizeof(others_text),
                                " after %" PRIu64 " MiB reserved for other copies",
                                DIV_ROUND_UP(others, MIB));
                /* MiB rounded against the request, so that the numbers never suggest it fits. */
                return imapi_error_set(error, IMAPI_E_NOTENOUGHDISKFORSTASH,
                        "The stash %s needs %" PRIu64 " MiB (with a margin of %" PRIu64 " KiB), "
                        "%" PRIu64 " MiB free%s; free some space or choose another directory "
                        "with --stash-dir.",
                        s->path, DIV_ROUND_UP(need, MIB), DIV_ROUND_UP(margin, 1024), free_ / MIB,
                        others_text);
        }
        s->reserved += bytes;
        pthread_mutex_unlock(&reservations_lock);
        return 0;
}

void stash_release(Stash *s, uint64_t bytes) {
        pthread_mutex_lock(&reservations_lock);
        s->reserved -= MIN(bytes, s->reserved);
        pthread_mutex_unlock(&reservations_lock);
}

int stash_get_size(const Stash *s, uint64_t *ret_bytes) {
        struct statvfs sv;

        if (fstatvfs(s->dir_fd, &sv) < 0)
                return -errno;
        *ret_bytes = (uint64_t) sv.f_blocks * sv.f_frsize;
        return 0;
}

uint64_t stash_reserved(const Stash *s) {
        uint64_t r;

        pthread_mutex_lock(&reservations_lock);
        r = s->reserved;
        pthread_mutex_unlock(&reservations_lock);
        return r;
}

int stash_create_file(Stash *s, const char *name, int *ret_fd, char **ret_path) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;

        if (!name || !*name || strchr(name, '/') || streq(name, ".") || streq(name, "..") ||
                strlen(name) > NAME_MAX)
                return -EINVAL;
        if (ret_path && asprintf(&path, "%s/%s", s->path, name) < 0)
                return -ENOMEM;
        fd = openat(s->dir_fd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        if (ret_path)
                *ret_path = TAKE_PTR(path);
        return 0;
}

int stash_remove_file(Stash *s, const char *path) {
        size_t n = strlen(s->path);
        const char *name;

        /* Only names directly in this stash: a path from elsewhere is a caller's bug, not
         * something to delete. */
        if (strncmp(path, s->path, n) != 0 || path[n] != '/')
                return -EINVAL;
        name = path + n + 1;
        if (!*name || strchr(name, '/') || streq(name, ".") || streq(name, ".."))
                return -EINVAL;
        if (unlinkat(s->dir_fd, name, 0) < 0)
                return -errno;
        return 0;
}

int stash_remove_stale(const char *root) {
        _cleanup_close_ int root_fd = -1;
        size_t suffix = strlen(STASH_SUFFIX);
        DIR *d;
        int n = 0;

        root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0) {
                if (errno == ENOENT)
                        return 0;
                return log_warning_errno(
                        errno, "Cannot open the stash directory %s to remove stale stashes: %m", root);
        }
        d = fdopendir(root_fd);
        if (!d)
                return -errno;
        root_fd = -1;

        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_close_ int fd = -1;
                size_t len = strlen(de->d_name);
                int r;

                if (len <= suffix || !streq(de->d_name + len - suffix, STASH_SUFFIX))
                        continue;
                if (!IN_SET(de->d_type, DT_DIR, DT_UNKNOWN))
                        continue;
                fd = open_locked(dirfd(d), de->d_name);
                if (fd == -EWOULDBLOCK) {
                        fd = -1;
                        log_debug("Stash %s/%s is in use, keeping it.", root, de->d_name);
                        continue;
                }
                if (fd < 0) {
                        r = fd;
                        fd = -1;
                        if (r != -ENOTDIR && r != -ELOOP && r != -ENOENT)
                                log_warning_errno(
                                        r, "Cannot open the stash %s/%s, ignoring: %m", root, de->d_name);
                        continue;
                }
                r = rm_rf_children(fd, 0);
                if (r >= 0 && unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0)
                        r = -errno;
                if (r < 0) {
                        log_warning_errno(
                                r, "Cannot remove the stale stash %s/%s, ignoring: %m", root, de->d_name);
                        continue;
                }
                log_info("Removed the stale stash %s/%s.", root, de->d_name);
                n++;
        }
        closedir(d);
        return n;
}

