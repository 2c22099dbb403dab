/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The stash's pack of small files (stash.h): which files go into it, and a batch's range in it. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <imapi/imapierror.h>
#include "log.h"
#include "macro.h"
#include "media/stash-internal.h"

/* Offsets are kept in 31 bits of a copy's id, in blocks of STASH_PACK_ALIGN: 4 TiB. */
#define PACK_MAX_BYTES ((uint64_t) (STASH_COPY_PACKED - 2) * STASH_PACK_ALIGN)

bool stash_pack_fits(const Stash *s, uint64_t size, uint64_t cost) {
        return s && size > 0 && size <= STASH_PACK_FILE_MAX && cost >= size;
}

int stash_pack_begin(Stash *s, uint64_t bytes, uint64_t *ret_mark, ImapiError *error) {
        int r;

        if (bytes > PACK_MAX_BYTES - s->pack_end)
                return imapi_error_set(error, IMAPI_E_NOTENOUGHDISKFORSTASH,
                        "The stash %s holds as many small files as it can (%" PRIu64 " GiB of them).",
                        s->path, PACK_MAX_BYTES >> 30);
        if (s->pack_fd < 0) {
                s->pack_fd = openat(s->dir_fd, STASH_PACK_NAME,
                                    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (s->pack_fd < 0) {
                        r = -errno;
                        return imapi_error_set(error, IN_SET(-r, ENOSPC, EDQUOT) ? IMAPI_E_NOTENOUGHDISKFORSTASH
                                : IN_SET(-r, EMFILE, ENFILE) ? IMAPI_E_OUTOFMEMORY : IMAPI_E_FILEACCESS,
                                "The stash %s cannot create its pack of small files: %s.", s->path,
                                strerror(-r));
                }
        }
        *ret_mark = s->pack_end;
        s->pack_limit = s->pack_end + bytes;
        if (bytes == 0)
                return 0;
        /* The batch's blocks now: a full disk fails the batch before anything is copied. */
        r = fallocate(s->pack_fd, 0, (off_t) s->pack_end, (off_t) bytes);
        if (r < 0 && IN_SET(errno, EOPNOTSUPP, ENOSYS))
                r = ftruncate(s->pack_fd, (off_t) s->pack_limit);
        if (r < 0) {
                r = -errno;
                (void) stash_pack_end(s, *ret_mark, false);
                if (IN_SET(-r, ENOSPC, EDQUOT, EFBIG))
                        return imapi_error_set(error, IMAPI_E_NOTENOUGHDISKFORSTASH,
                                "The stash %s has no room for %" PRIu64 " KiB of small files (%s); free "
                                "some space or choose another directory with --stash-dir.",
                                s->path, DIV_ROUND_UP(bytes, 1024), strerror(-r));
                return imapi_error_set(error, IMAPI_E_FILEACCESS,
                        "The stash %s cannot set aside room for small files: %s.", s->path, strerror(-r));
        }
        return 0;
}

int stash_pack_end(Stash *s, uint64_t mark, bool keep) {
        uint64_t end = keep ? s->pack_end : mark;
        int r = 0;

        s->pack_limit = 0;
        if (s->pack_fd < 0)
                return 0;
        if (end == 0) {
                stash_pack_clear(s);
                return 0;
        }
        /* What the batch set aside and did not use (a file that shrank has failed the batch). */
        if (ftruncate(s->pack_fd, (off_t) end) < 0)
                r = log_warning_errno(errno, "Cannot cut the pack of %s back to %" PRIu64 " bytes: %m",
                                      s->path, end);
        s->pack_end = end;
        return r;
}

void stash_pack_clear(Stash *s) {
        if (s->pack_fd < 0)
                return;
        s->pack_fd = safe_close(s->pack_fd);
        s->pack_end = s->pack_limit = 0;
        if (unlinkat(s->dir_fd, STASH_PACK_NAME, 0) < 0 && errno != ENOENT)
                log_warning_errno(errno, "Cannot remove the pack of %s, ignoring: %m", s->path);
}

int stash_open_pack(const Stash *s) {
        int fd = openat(s->dir_fd, STASH_PACK_NAME, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);

        return fd < 0 ? -errno : fd;
}
