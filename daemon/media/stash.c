/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The stash: checking where it may live, one locked directory per disc master, disk space
 * reservations shared by every stash of this process, and cheap copies into it.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/btrfs.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <imapi/imapierror.h>

#include "hresult.h"
#include "log.h"
#include "macro.h"
#include "media/stash.h"

#define MIB (UINT64_C(1024) * 1024)
#define STASH_SUFFIX ".stash"
#define STASH_NAME_MAX 128
/* Big enough that a large file costs few system calls, small enough that cancellation and
 * progress are noticed within a fraction of a second. */
#define COPY_CHUNK (8 * MIB)
#define RW_BUFFER_SIZE (1 * MIB)
#define MARGIN_MAX (64 * MIB)
/* Sysfs "slaves" chains (dm-crypt on LVM on a partition) are short; this only stops loops. */
#define SLAVES_DEPTH_MAX 8

struct Stash {
        char *path;
        int dir_fd; /* holds the flock for as long as the stash lives */
        dev_t dev;
        uint64_t reserved; /* under reservations_lock */
        uint32_t counter;  /* atomic: the last copy id given out */
        uint32_t tag;      /* random, so that names differ from those of an earlier stash of this name */
        bool no_reflink;   /* atomic: the stash's file system said it cannot clone */
        Stash *next, *prev;
};

/* Every live stash of this process, so that a reservation sees what the others reserved on the
 * same file system. */
static pthread_mutex_t reservations_lock = PTHREAD_MUTEX_INITIALIZER;
static Stash *stashes = NULL;

static const char *fs_type_name(int64_t type) {
        switch (type) {
        case BTRFS_SUPER_MAGIC:
                return "btrfs";
        case EXT4_SUPER_MAGIC: /* ext2 and ext3 share it */
                return "ext4";
        case XFS_SUPER_MAGIC:
                return "xfs";
        case F2FS_SUPER_MAGIC:
                return "f2fs";
        case TMPFS_MAGIC:
                return "tmpfs";
        case OVERLAYFS_SUPER_MAGIC:
                return "overlay";
        default:
                return NULL;
        }
}

static int mkdir_p(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1;; s++) {
                bool last = *s == '\0';

                if (*s != '/' && !last)
                        continue;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                if (last)
                        return 0;
                *s = '/';
        }
}

/* Reads a sysfs "removable" attribute: 1, 0, or -ENOENT where the directory has none. */
static int read_removable(int dir_fd, const char *path) {
        _cleanup_close_ int fd = -1;
        char buf[16] = {};
        ssize_t n;

        fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return -errno;
        return buf[0] == '1';
}

/* Whether the sysfs block device directory dir_path (a symlink into /sys/devices) is removable:
 * the device itself, or for a partition its whole disk (the directory above it), or for a
 * device-mapper or md device any device below it. Returns 1 and the device's name if so. */
static int sysfs_block_removable(const char *dir_path, unsigned depth, char **ret_name) {
        _cleanup_close_ int dir_fd = -1;
        _cleanup_free_ char *target = NULL;
        int r;

        dir_fd = open(dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return -errno;

        r = read_removable(dir_fd, "removable");
        if (r == -ENOENT)
                /* Partitions have no "removable"; ".." after the symlink is the whole disk. */
                r = read_removable(dir_fd, "../removable");
        if (r < 0 && r != -ENOENT)
                return r;
        if (r > 0) {
                target = realpath(dir_path, NULL);
                const char *slash = target ? strrchr(target, '/') : NULL;
                char *name = strdup(slash ? slash + 1 : dir_path);
                if (!name)
                        return -ENOMEM;
                *ret_name = name;
                return 1;
        }

        if (depth >= SLAVES_DEPTH_MAX)
                return 0;
        _cleanup_close_ int slaves_fd = openat(dir_fd, "slaves", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (slaves_fd < 0)
                return 0;
        DIR *d = fdopendir(slaves_fd);
        if (!d)
                return -errno;
        slaves_fd = -1;
        r = 0;
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_free_ char *sub = NULL;

                if (de->d_name[0] == '.')
                        continue;
                if (asprintf(&sub, "%s/slaves/%s", dir_path, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                r = sysfs_block_removable(sub, depth + 1, ret_name);
                if (r != 0)
                        break;
        }
        closedir(d);
        return r;
}

/* btrfs gives its mounts an anonymous st_dev (major 0); its devices are listed under
 * /sys/fs/btrfs/<fsid>/devices/. */
static int btrfs_removable(int root_fd, const char *sysfs_root, char **ret_name) {
        struct btrfs_ioctl_fs_info_args info = {};
        _cleanup_free_ char *devices = NULL;
        const uint8_t *u = info.fsid;
        DIR *d;
        int r = 0;

        if (ioctl(root_fd, BTRFS_IOC_FS_INFO, &info) < 0)
                return -errno;
        if (asprintf(&devices,
                    "%s/fs/btrfs/%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x/"
                    "devices",
                    sysfs_root, u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
                    u[12], u[13], u[14], u[15]) < 0)
                return -ENOMEM;
        d = opendir(devices);
        if (!d)
                return -errno;
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_free_ char *sub = NULL;

                if (de->d_name[0] == '.')
                        continue;
                if (asprintf(&sub, "%s/%s", devices, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                r = sysfs_block_removable(sub, 0, ret_name);
                if (r != 0)
                        break;
        }
        closedir(d);
        return r;
}

int stash_check_location(const char *root, const char *sysfs_root, sd_bus_error *error) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *device = NULL;
        struct statx stx;
        struct statfs sfs;
        const char *type;
        int r;

        r = mkdir_p(root, 0700);
        if (r < 0)
                return bus_error_hresult(error, IMAPI_E_FILEACCESS,
                        "The stash directory %s cannot be created: %s; choose another with --stash-dir.",
                        root, strerror(-r));
        fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                return bus_error_hresult(error, IMAPI_E_FILEACCESS,
                        "The stash directory %s cannot be opened: %s; choose another with --stash-dir.",
                        root, strerror(-r));
        }
        if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx) < 0 || fstatfs(fd, &sfs) < 0) {
                r = -errno;
                return bus_error_hresult(error, IMAPI_E_FILEACCESS,
                        "The stash directory %s cannot be examined: %s.", root, strerror(-r));
        }
        type = fs_type_name(sfs.f_type);

        if ((stx.stx_attributes_mask & STATX_ATTR_COMPRESSED) &&
                (stx.stx_attributes & STATX_ATTR_COMPRESSED))
                return bus_error_hresult(error, IMAPI_E_COMPRESSEDSTASH,
                        "The stash directory %s is on a %s file system with compression enabled; "
                        "choose another with --stash-dir.",
                        root, type ?: "compressing");
        if ((stx.stx_attributes_mask & STATX_ATTR_ENCRYPTED) && (stx.stx_attributes & STATX_ATTR_ENCRYPTED))
                return bus_error_hresult(error, IMAPI_E_ENCRYPTEDSTASH,
                        "The stash directory %s is encrypted (it has an fscrypt policy on its %s "
                        "file system); choose another with --stash-dir.",
                        root, type ?: "unknown");

        if (stx.stx_dev_major != 0) {
                _cleanup_free_ char *dir = NULL;

                r = asprintf(&dir, "%s/dev/block/%u:%u", sysfs_root, stx.stx_dev_major, stx.stx_dev_minor);
                if (r < 0)
                        return -ENOMEM;
                r = sysfs_block_removable(dir, 0, &device);
        } else if (sfs.f_type == BTRFS_SUPER_MAGIC)
                r = btrfs_removable(fd, sysfs_root, &device);
        else
                r = 0; /* tmpfs, overlay and other file systems without a block device of their own */
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                /* Not knowing is no reason to refuse a stash that is most likely on a fixed disk. */
                log_debug_errno(r,
                        "Cannot tell whether the stash directory %s is on removable media, "
                        "assuming it is not: %m",
                        root);
        if (r > 0)
                return bus_error_hresult(error, IMAPI_E_REMOVABLESTASH,
                        "The stash directory %s is on /dev/%s, a removable device; "
                        "choose another with --stash-dir.",
                        root, device);
        return 0;
}

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

int stash_new(const char *root, const char *name, Stash **ret, sd_bus_error *error) {
        _cleanup_free_ char *dirname = NULL, *path = NULL;
        _cleanup_close_ int root_fd = -1, fd = -1;
        Stash *s;
        int r;

        if (!stash_name_valid(name))
                return bus_error_hresult(error, IMAPI_E_INVALIDARG,
                        "The stash name \"%.64s\" is not valid: use 1 to %d of A-Z, a-z, 0-9, _ and -.",
                        name, STASH_NAME_MAX);
        if (asprintf(&dirname, "%s" STASH_SUFFIX, name) < 0 ||
                asprintf(&path, "%s%s%s", root, root[0] && root[strlen(root) - 1] == '/' ? "" : "/",
                        dirname) < 0)
                return -ENOMEM;

        root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0) {
                r = -errno;
                return bus_error_hresult(error, IMAPI_E_FILEACCESS,
                        "The stash directory %s cannot be opened: %s.", root, strerror(-r));
        }

        /* stash_remove_stale() in another process may remove the directory between our mkdir and
         * our lock; a lock on a directory that no longer has this name is worth nothing, so
         * check and try again. */
        for (unsigned attempt = 0;; attempt++) {
                struct stat a, b;

                if (mkdirat(root_fd, dirname, 0700) < 0 && errno != EEXIST) {
                        r = -errno;
                        return bus_error_hresult(error, IMAPI_E_FILEACCESS,
                                "The stash %s cannot be created: %s.", path, strerror(-r));
                }
                fd = open_locked(root_fd, dirname);
                if (fd == -EWOULDBLOCK)
                        return bus_error_hresult(error, IMAPI_E_STASHINUSE,
                                "The stash %s is in use: its lock is held by another disc master or "
                                "process.",
                                path);
                if (fd == -ENOENT && attempt < 3)
                        continue;
                if (fd < 0) {
                        r = fd;
                        fd = -1;
                        return bus_error_hresult(error, IMAPI_E_FILEACCESS,
                                "The stash %s cannot be opened: %s.", path, strerror(-r));
                }
                if (fstat(fd, &a) == 0 && fstatat(root_fd, dirname, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
                        a.st_dev == b.st_dev && a.st_ino == b.st_ino)
                        break;
                fd = safe_close(fd);
                if (attempt >= 3)
                        return bus_error_hresult(error, IMAPI_E_STASHINUSE,
                                "The stash %s keeps being replaced by another process.", path);
        }

        /* Whatever is in it was left by a daemon that died without cleaning up. */
        r = rm_rf_children(fd, 0);
        if (r < 0)
                return bus_error_hresult(error, IMAPI_E_FILEACCESS,
                        "The stash %s holds old files that cannot be removed: %s.", path, strerror(-r));

        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        uint32_t tag;
        if (getrandom(&tag, sizeof(tag), GRND_NONBLOCK) != sizeof(tag))
                tag = (uint32_t) getpid() ^ (uint32_t) time(NULL);

        s = calloc(1, sizeof(Stash));
        if (!s)
                return -ENOMEM;
        *s = (Stash){
                .path = TAKE_PTR(path),
                .dir_fd = TAKE_FD(fd),
                .dev = st.st_dev,
                .tag = tag,
        };

        pthread_mutex_lock(&reservations_lock);
        s->next = stashes;
        if (stashes)
                stashes->prev = s;
        stashes = s;
        pthread_mutex_unlock(&reservations_lock);

        *ret = s;
        return 0;
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

int stash_reserve(Stash *s, uint64_t bytes, sd_bus_error *error) {
        struct statvfs sv;
        uint64_t avail, total, margin, others = 0, need;

        if (fstatvfs(s->dir_fd, &sv) < 0) {
                int r = -errno;
                return bus_error_hresult(error, IMAPI_E_FILEACCESS,
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
                return bus_error_hresult(error, IMAPI_E_NOTENOUGHDISKFORSTASH,
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

uint64_t stash_reserved(const Stash *s) {
        uint64_t r;

        pthread_mutex_lock(&reservations_lock);
        r = s->reserved;
        pthread_mutex_unlock(&reservations_lock);
        return r;
}

int stash_file_cost(int src_fd, uint64_t *ret_bytes) {
        struct stat st;

        if (fstat(src_fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        *ret_bytes = (uint64_t) st.st_blocks * 512;
        return 0;
}

/* A copy's file name: its id, and the stash's tag so that an id never names a file left by an
 * earlier stash of this name. */
#define COPY_NAME_MAX sizeof("f4294967295-ffffffff")
static void copy_name(const Stash *s, uint32_t id, char name[static COPY_NAME_MAX]) {
        (void) snprintf(name, COPY_NAME_MAX, "f%06" PRIu32 "-%08" PRIx32, id, s->tag);
}

/* Creates a new copy under an id nobody else uses (several copies may run at once). Returns
 * the fd. */
static int stash_create_unique(Stash *s, uint32_t *ret_id) {
        for (unsigned attempt = 0;; attempt++) {
                uint32_t id = __atomic_add_fetch(&s->counter, 1, __ATOMIC_RELAXED);
                char name[COPY_NAME_MAX];
                int fd;

                if (id == 0) /* wrapped: 0 means "no copy" to the callers */
                        continue;
                copy_name(s, id, name);
                fd = openat(s->dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd >= 0) {
                        *ret_id = id;
                        return fd;
                }
                fd = -errno;
                if (fd != -EEXIST || attempt >= 16)
                        return fd;
        }
}

int stash_open_copy(const Stash *s, uint32_t id) {
        char name[COPY_NAME_MAX];
        int fd;

        copy_name(s, id, name);
        fd = openat(s->dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int stash_remove_copy(Stash *s, uint32_t id) {
        char name[COPY_NAME_MAX];

        copy_name(s, id, name);
        return unlinkat(s->dir_fd, name, 0) < 0 ? -errno : 0;
}

char *stash_copy_path(const Stash *s, uint32_t id) {
        char name[COPY_NAME_MAX], *path;

        copy_name(s, id, name);
        return asprintf(&path, "%s/%s", s->path, name) < 0 ? NULL : path;
}

/* Copies [start, end) with read/write, for file system pairs that copy_file_range() refuses. */
static int copy_rw(int src_fd, int dst_fd, uint64_t start, uint64_t end, char **buffer,
        const volatile bool *cancel, uint64_t *done, stash_progress_fn progress, void *userdata) {
        while (start < end) {
                size_t want = (size_t) MIN(end - start, (uint64_t) RW_BUFFER_SIZE);
                ssize_t n, w;

                if (cancel && *cancel)
                        return -ECANCELED;
                if (!*buffer) {
                        *buffer = malloc(RW_BUFFER_SIZE);
                        if (!*buffer)
                                return -ENOMEM;
                }
                n = pread(src_fd, *buffer, want, (off_t) start);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0) /* the source shrank while we copied; what is there is copied */
                        return 0;
                for (ssize_t off = 0; off < n; off += w) {
                        w = pwrite(dst_fd, *buffer + off, n - off, (off_t) (start + off));
                        if (w < 0) {
                                if (errno == EINTR) {
                                        w = 0;
                                        continue;
                                }
                                return -errno;
                        }
                }
                start += n;
                *done += n;
                if (progress)
                        progress(*done, userdata);
        }
        return 0;
}

/* Copies the data extents of src into dst; holes are skipped and stay holes. SEEK_DATA moves the
 * source's file offset; the copy itself uses explicit offsets, so nothing else depends on it. */
static int copy_extents(int src_fd, int dst_fd, uint64_t size, const volatile bool *cancel,
        stash_progress_fn progress, void *userdata, uint64_t *ret_end) {
        _cleanup_free_ char *buffer = NULL;
        bool use_rw = false;
        uint64_t pos = 0, done = 0;
        int r;

        while (pos < size) {
                off_t data, hole;

                data = lseek(src_fd, (off_t) pos, SEEK_DATA);
                if (data < 0 && errno == ENXIO)
                        break; /* only a hole is left */
                if (data < 0) {
                        /* A file system without SEEK_DATA: the whole rest is data. */
                        data = (off_t) pos;
                        hole = (off_t) size;
                } else {
                        hole = lseek(src_fd, data, SEEK_HOLE);
                        if (hole < 0)
                                hole = (off_t) size;
                }
                hole = MIN(hole, (off_t) size);
                if (data >= hole)
                        break;

                uint64_t start = (uint64_t) data, end = (uint64_t) hole;
                while (start < end && !use_rw) {
                        loff_t in = (loff_t) start, out = (loff_t) start;
                        ssize_t n;

                        if (cancel && *cancel)
                                return -ECANCELED;
                        n = copy_file_range(
                                src_fd, &in, dst_fd, &out, (size_t) MIN(end - start, COPY_CHUNK), 0);
                        if (n < 0) {
                                if (errno == EINTR)
                                        continue;
                                if (IN_SET(errno, EXDEV, EINVAL, ENOSYS, EOPNOTSUPP)) {
                                        /* This pair of file systems cannot do it; the rest goes
                                         * through a buffer. */
                                        use_rw = true;
                                        break;
                                }
                                return -errno;
                        }
                        if (n == 0) {
                                end = start; /* the source shrank */
                                break;
                        }
                        start += n;
                        done += n;
                        if (progress)
                                progress(done, userdata);
                }
                if (use_rw) {
                        r = copy_rw(src_fd, dst_fd, start, end, &buffer, cancel, &done, progress, userdata);
                        if (r < 0)
                                return r;
                }
                pos = end;
                if (end < (uint64_t) hole)
                        break;
        }
        *ret_end = pos;
        return 0;
}

int stash_copy_in(Stash *s, int src_fd, const volatile bool *cancel, stash_progress_fn progress,
        void *userdata, uint32_t *ret_id, sd_bus_error *error) {
        _cleanup_close_ int dst_fd = -1;
        uint32_t id = 0;
        struct stat st;
        uint64_t end = 0;
        int r;

        if (fstat(src_fd, &st) < 0) {
                r = -errno;
                return bus_error_hresult(error, IMAPI_E_FILEACCESS,
                        "The file to stage cannot be examined: %s.", strerror(-r));
        }
        if (!S_ISREG(st.st_mode))
                return bus_error_hresult(error, IMAPI_E_INVALIDARG,
                        "Only regular files can be staged; this is a %s.",
                        S_ISDIR(st.st_mode)                          ? "directory"
                        : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "device"
                        : S_ISFIFO(st.st_mode)                       ? "pipe"
                        : S_ISSOCK(st.st_mode)                       ? "socket"
                                                                     : "special file");
        if (cancel && *cancel)
                return -ECANCELED;

        dst_fd = stash_create_unique(s, &id);
        if (dst_fd < 0) {
                r = dst_fd;
                if (IN_SET(r, -ENOSPC, -EDQUOT))
                        return bus_error_hresult(error, IMAPI_E_NOTENOUGHDISKFORSTASH,
                                "The stash %s has no room for another file: %s.", s->path, strerror(-r));
                return bus_error_hresult(error, IMAPI_E_FILEACCESS,
                        "A file cannot be created in the stash %s: %s.", s->path, strerror(-r));
        }

        /* A reflink shares the source's blocks: no data moves and no space is used. Where the
         * stash's file system cannot clone at all, stop asking. */
        if (!__atomic_load_n(&s->no_reflink, __ATOMIC_RELAXED) && st.st_size > 0) {
                if (ioctl(dst_fd, FICLONE, src_fd) == 0) {
                        if (progress)
                                progress((uint64_t) st.st_size, userdata);
                        *ret_id = id;
                        return 0;
                }
                if (IN_SET(errno, EOPNOTSUPP, ENOTTY))
                        __atomic_store_n(&s->no_reflink, true, __ATOMIC_RELAXED);
        }

        r = copy_extents(src_fd, dst_fd, (uint64_t) st.st_size, cancel, progress, userdata, &end);
        if (r < 0)
                goto fail;
        /* A trailing hole has no extent to copy; the size makes it. */
        if (end != (uint64_t) st.st_size && ftruncate(dst_fd, st.st_size) < 0) {
                r = -errno;
                goto fail;
        }
        /* Delayed allocation reports some ENOSPC and EIO only at close. */
        r = close(TAKE_FD(dst_fd));
        if (r < 0 && errno != EINTR) {
                r = -errno;
                goto fail;
        }

        *ret_id = id;
        return 0;

fail:
        dst_fd = safe_close(dst_fd);
        int q = stash_remove_copy(s, id);
        if (q < 0) {
                _cleanup_free_ char *path = stash_copy_path(s, id);

                log_warning_errno(q, "Cannot remove %s after a failed copy, ignoring: %m", strna(path));
        }
        if (r == -ECANCELED)
                return r;
        if (IN_SET(r, -ENOSPC, -EDQUOT, -EFBIG))
                return bus_error_hresult(error, IMAPI_E_NOTENOUGHDISKFORSTASH,
                        "The stash %s ran out of space while copying a %" PRIu64 " MiB file (%s); "
                        "free some space or choose another directory with --stash-dir.",
                        s->path, DIV_ROUND_UP((uint64_t) st.st_size, MIB), strerror(-r));
        if (r == -ENOMEM)
                return r;
        if (r == -EIO)
                /* A disk is failing: worth the administrator's attention, not only the client's. */
                log_error_errno(r, "I/O error while copying a file into the stash %s: %m", s->path);
        return bus_error_hresult(error, IMAPI_E_FILEACCESS, "Copying a file into the stash %s failed: %s.",
                s->path, strerror(-r));
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
