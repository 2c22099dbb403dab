/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Copies into the stash, as cheap as the file system allows (stash_copy_in()), and their names. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <imapi/imapierror.h>
#include "hresult.h"
#include "log.h"
#include "macro.h"
#include "media/stash-internal.h"

/* Big enough that a large file costs few system calls, small enough that cancellation and
 * progress are noticed within a fraction of a second. */
#define COPY_CHUNK (8 * MIB)
#define RW_BUFFER_SIZE (1 * MIB)

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

int stash_create_copy(Stash *s, uint32_t *ret_id) {
        return stash_create_unique(s, ret_id);
}

int stash_open_copy(const Stash *s, uint32_t id) {
        char name[COPY_NAME_MAX];
        int fd;

        if (stash_copy_packed(id))
                return -EINVAL; /* read through stash_open_pack() */
        copy_name(s, id, name);
        fd = openat(s->dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int stash_remove_copy(Stash *s, uint32_t id) {
        char name[COPY_NAME_MAX];

        if (stash_copy_packed(id))
                return 0; /* its bytes stay in the pack until stash_pack_clear() */
        copy_name(s, id, name);
        return unlinkat(s->dir_fd, name, 0) < 0 ? -errno : 0;
}

char *stash_copy_path(const Stash *s, uint32_t id) {
        char name[COPY_NAME_MAX], *path;

        if (stash_copy_packed(id))
                return asprintf(&path, "%s/" STASH_PACK_NAME "@%" PRIu64, s->path, stash_copy_offset(id)) < 0
                        ? NULL : path;
        copy_name(s, id, name);
        return asprintf(&path, "%s/%s", s->path, name) < 0 ? NULL : path;
}

/* Copies [start, end) with read/write, for file system pairs that copy_file_range() refuses. */
static int copy_rw(int src_fd, int dst_fd, uint64_t dst_base, uint64_t start, uint64_t end, char **buffer,
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
                        w = pwrite(dst_fd, *buffer + off, n - off, (off_t) (dst_base + start + off));
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

/* Copies the data extents of src into dst at dst_base (0 for a copy of its own, the entry's
 * offset in the pack); holes are skipped and stay holes. SEEK_DATA moves the source's file
 * offset; the copy itself uses explicit offsets, so nothing else depends on it. */
static int copy_extents(int src_fd, int dst_fd, uint64_t dst_base, uint64_t size, const volatile bool *cancel,
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
                        loff_t in = (loff_t) start, out = (loff_t) (dst_base + start);
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
                        r = copy_rw(src_fd, dst_fd, dst_base, start, end, &buffer, cancel, &done, progress, userdata);
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

/* The source is shorter than what was examined: the copy would not be what was accounted.
 * -ENODATA, with the error set. */
static int source_shrank(ImapiError *error, const char *name, uint64_t size, uint64_t now) {
        (void) imapi_error_set(error, IMAPI_E_FILEACCESS,
                "'%s' shrank from %" PRIu64 " to %" PRIu64 " bytes while it was being staged; stage it "
                "again once it stays the same.", strna(name), size, now);
        return -ENODATA;
}

/* The copy holds exactly size bytes, or the source shrank: it is checked again after the copy,
 * since copy_extents() cannot tell a shorter source from a trailing hole. */
static int copy_data(Stash *s, int src_fd, int dst_fd, uint64_t size, const char *name,
                     const volatile bool *cancel, stash_progress_fn progress, void *userdata,
                     ImapiError *error) {
        uint64_t end = 0;
        struct stat st;
        int r;

        /* A reflink shares the source's blocks: no data moves and no space is used. Where the
         * stash's file system cannot clone at all, stop asking. A clone takes the whole file;
         * what the file grew by since it was examined is cut off below. */
        if (!__atomic_load_n(&s->no_reflink, __ATOMIC_RELAXED) && size > 0) {
                if (ioctl(dst_fd, FICLONE, src_fd) == 0) {
                        if (progress)
                                progress(size, userdata);
                        end = size;
                } else if (IN_SET(errno, EOPNOTSUPP, ENOTTY))
                        __atomic_store_n(&s->no_reflink, true, __ATOMIC_RELAXED);
        }
        if (end == 0) {
                r = copy_extents(src_fd, dst_fd, 0, size, cancel, progress, userdata, &end);
                if (r < 0)
                        return r;
        }
        if (fstat(src_fd, &st) < 0)
                return -errno;
        if ((uint64_t) st.st_size < size)
                return source_shrank(error, name, size, (uint64_t) st.st_size);
        /* A trailing hole has no extent to copy; the size makes it. A clone of a file that grew
         * loses what it grew by. */
        if (ftruncate(dst_fd, (off_t) size) < 0)
                return -errno;
        return 0;
}

/* The source as AddData examined it: a regular file of at least size bytes. */
static int check_source(int src_fd, uint64_t size, const char *name, const volatile bool *cancel,
                        ImapiError *error) {
        struct stat st;
        int r;

        if (fstat(src_fd, &st) < 0) {
                r = -errno;
                return imapi_error_set(error, IMAPI_E_FILEACCESS,
                        "'%s' cannot be examined: %s.", strna(name), strerror(-r));
        }
        if (!S_ISREG(st.st_mode))
                return imapi_error_set(error, IMAPI_E_INVALIDARG,
                        "Only regular files can be staged; '%s' is a %s.", strna(name),
                        S_ISDIR(st.st_mode)                          ? "directory"
                        : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "device"
                        : S_ISFIFO(st.st_mode)                       ? "pipe"
                        : S_ISSOCK(st.st_mode)                       ? "socket"
                                                                     : "special file");
        if ((uint64_t) st.st_size < size) {
                (void) source_shrank(error, name, size, (uint64_t) st.st_size);
                return hresult_to_errno(IMAPI_E_FILEACCESS);
        }
        if (cancel && *cancel)
                return -ECANCELED;
        return 0;
}

/* A failed copy's errno as the error the client gets. */
static int copy_error(Stash *s, int r, const char *name, uint64_t size, ImapiError *error) {
        if (r == -ECANCELED)
                return r;
        if (r == -ENODATA)      /* the source shrank: error is set */
                return hresult_to_errno(IMAPI_E_FILEACCESS);
        if (IN_SET(r, -ENOSPC, -EDQUOT, -EFBIG))
                return imapi_error_set(error, IMAPI_E_NOTENOUGHDISKFORSTASH,
                        "The stash %s ran out of space while copying '%s', %" PRIu64 " MiB (%s); "
                        "free some space or choose another directory with --stash-dir.",
                        s->path, strna(name), DIV_ROUND_UP(size, MIB), strerror(-r));
        if (r == -ENOMEM)
                return r;
        if (r == -EIO)
                /* A disk is failing: worth the administrator's attention, not only the client's. */
                log_error_errno(r, "I/O error while copying a file into the stash %s: %m", s->path);
        return imapi_error_set(error, IMAPI_E_FILEACCESS, "Copying '%s' into the stash %s failed: %s.",
                strna(name), s->path, strerror(-r));
}

int stash_copy_in(Stash *s, int src_fd, uint64_t size, const char *name, const volatile bool *cancel,
                  stash_progress_fn progress, void *userdata, uint32_t *ret_id, uint64_t *ret_cost,
                  ImapiError *error) {
        _cleanup_close_ int dst_fd = -1;
        uint32_t id = 0;
        struct stat st;
        int r;

        r = check_source(src_fd, size, name, cancel, error);
        if (r < 0)
                return r;

        dst_fd = stash_create_unique(s, &id);
        if (dst_fd < 0) {
                r = dst_fd;
                if (IN_SET(r, -ENOSPC, -EDQUOT))
                        return imapi_error_set(error, IMAPI_E_NOTENOUGHDISKFORSTASH,
                                "The stash %s has no room for another file: %s.", s->path, strerror(-r));
                if (IN_SET(r, -EMFILE, -ENFILE))
                        return imapi_error_set(error, IMAPI_E_OUTOFMEMORY,
                                "'%s' cannot be staged: imapid has run out of file descriptors.",
                                strna(name));
                return imapi_error_set(error, IMAPI_E_FILEACCESS,
                        "A file cannot be created in the stash %s: %s.", s->path, strerror(-r));
        }

        r = copy_data(s, src_fd, dst_fd, size, name, cancel, progress, userdata, error);
        if (r < 0)
                goto fail;
        if (fstat(dst_fd, &st) < 0) {
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
        if (ret_cost)
                *ret_cost = (uint64_t) st.st_blocks * 512;
        return 0;

fail:
        dst_fd = safe_close(dst_fd);
        int q = stash_remove_copy(s, id);
        if (q < 0) {
                _cleanup_free_ char *path = stash_copy_path(s, id);

                log_warning_errno(q, "Cannot remove %s after a failed copy, ignoring: %m", strna(path));
        }
        return copy_error(s, r, name, size, error);
}

int stash_pack_in(Stash *s, int src_fd, uint64_t size, const char *name, const volatile bool *cancel,
                  uint32_t *ret_id, ImapiError *error) {
        uint64_t at = s->pack_end, end = 0, span = ALIGN_TO(size, (uint64_t) STASH_PACK_ALIGN);
        struct stat st;
        int r;

        /* Only inside a batch (stash_pack_begin()), within what it set aside. */
        if (s->pack_fd < 0 || size > STASH_PACK_FILE_MAX || span > s->pack_limit - at)
                return -EINVAL;
        r = check_source(src_fd, size, name, cancel, error);
        if (r < 0)
                return r;
        /* Exactly size bytes, never more: what the file grew by since is not copied. A hole in
         * the source stays unwritten space of the batch's range, which reads as zeros. */
        r = copy_extents(src_fd, s->pack_fd, at, size, cancel, NULL, NULL, &end);
        if (r >= 0 && fstat(src_fd, &st) < 0)
                r = -errno;
        if (r >= 0 && (uint64_t) st.st_size < size)
                r = source_shrank(error, name, size, (uint64_t) st.st_size);
        if (r < 0)
                return copy_error(s, r, name, size, error);
        s->pack_end = at + span;
        *ret_id = STASH_COPY_PACKED | (uint32_t) (at / STASH_PACK_ALIGN + 1);
        return 0;
}
