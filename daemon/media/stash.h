/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The stash: a directory on local disk where a disc master's content is staged and its image
 * is built before the laser starts, so that the burn reads a local file at a steady rate.
 *
 * The stash root (default /var/cache/imapid) holds one directory per disc master,
 * "<name>.stash", locked with flock() for as long as the Stash object lives. The IMAPI stash
 * errors have their Linux conditions here (see DESIGN.md):
 *   IMAPI_E_NOTENOUGHDISKFORSTASH  statvfs() free space below what a reservation needs
 *   IMAPI_E_COMPRESSEDSTASH        statx() STATX_ATTR_COMPRESSED on the stash root
 *   IMAPI_E_ENCRYPTEDSTASH         statx() STATX_ATTR_ENCRYPTED on the stash root
 *   IMAPI_E_REMOVABLESTASH         the root's block device (or its whole disk) has sysfs removable=1
 *   IMAPI_E_STASHINUSE             another process holds the stash directory's lock
 *   IMAPI_E_FILEACCESS             an I/O error while writing into the stash
 *
 * Functions that fail with an IMAPI condition set *error (if not NULL) and return its negative
 * errno (hresult_to_errno()). Stash functions may run in worker threads.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "imapi-error.h"

typedef struct Stash Stash;

/* Checks the stash root: it exists (it is created, mode 0700, if missing), is a directory on a
 * file system that is not compressed, encrypted or removable. sysfs_root is "/sys" except in
 * unit tests. */
int stash_check_location(const char *root, const char *sysfs_root, ImapiError *error);

/* Creates and locks <root>/<name>.stash (name: [A-Za-z0-9_-]+). STASHINUSE if another process
 * holds that lock. */
int stash_new(const char *root, const char *name, Stash **ret, ImapiError *error);
/* Removes every file of the stash and the directory itself, then unlocks. NULL is fine. */
Stash *stash_free(Stash *s);
const char *stash_get_path(const Stash *s);

/* Reserves disk space before writing: fails with NOTENOUGHDISKFORSTASH when the file system's
 * free space (statvfs f_bavail) minus what is reserved and not yet written by all stashes of
 * this process is below bytes plus a safety margin (1% of the file system, at most 64 MiB).
 * Reservations are released with stash_release(), or all at stash_free(). */
int stash_reserve(Stash *s, uint64_t bytes, ImapiError *error);
void stash_release(Stash *s, uint64_t bytes);
uint64_t stash_reserved(const Stash *s);
/* The size of the stash's file system, in bytes. */
int stash_get_size(const Stash *s, uint64_t *ret_bytes);

/* How much disk a copy of the open file src would take: its allocated size (st_blocks), so a
 * sparse file costs what its data costs. */
int stash_file_cost(int src_fd, uint64_t *ret_bytes);

/* Copies the first size bytes of the regular file open at src_fd into a new file of the stash,
 * a "copy" known by its id (*ret_id, never 0): the daemon keeps 100,000 staged files as numbers,
 * not paths. size is what the caller examined and accounted (the disc's room, the stash's
 * reservation): a file that grew since is copied up to size and no further, one that became
 * shorter fails (FILEACCESS, "shrank", with -ENODATA), so that a copy always holds exactly size
 * bytes. *ret_cost is the disk the copy takes. As cheap as the file system allows: a reflink
 * (FICLONE) where it works, else copy_file_range() over the data extents (SEEK_DATA/SEEK_HOLE,
 * so holes stay holes), else read/write. *cancel is polled between chunks (-ECANCELED).
 * progress, if set, is called with the bytes copied so far. An I/O error is FILEACCESS; ENOSPC
 * that a reservation did not foresee is NOTENOUGHDISKFORSTASH. Messages name the file as name.
 * A failed copy leaves no file behind. Safe to call from a worker thread; several may run at
 * once on one stash. */
typedef void (*stash_progress_fn)(uint64_t done, void *userdata);
int stash_copy_in(Stash *s, int src_fd, uint64_t size, const char *name, const volatile bool *cancel,
                  stash_progress_fn progress, void *userdata, uint32_t *ret_id, uint64_t *ret_cost,
                  ImapiError *error);
/* Opens a copy for reading (O_RDONLY, any thread): an fd, or a negative errno. */
/* A new, empty copy that the caller fills itself (a disc read into the stash): its fd, open for
 * writing, or a negative errno; removed with stash_remove_copy() like any other. */
int stash_create_copy(Stash *s, uint32_t *ret_id);
int stash_open_copy(const Stash *s, uint32_t id);
/* Deletes a copy. */
int stash_remove_copy(Stash *s, uint32_t id);
/* A copy's path, for messages and tests (owned by the caller; NULL when out of memory). */
char *stash_copy_path(const Stash *s, uint32_t id);

/* Small files packed into one data file per stash, "pack.data", on every file system. A file of
 * one block of the stash's file system costs a whole block (4 KiB) and a file creation; in the
 * pack it costs ALIGN(size, 2048), what it takes in the image, and a copy_file_range() at an
 * offset. Where the file system clones, a reflink would share the client's blocks instead, but
 * it is still a file creation, and the burn then reads the copies one by one from wherever the
 * client's blocks are, where it reads the pack in one sweep (docs/design.md). A packed copy is
 * known by an id like any other, with STASH_COPY_PACKED set and its offset in the rest: no table.
 * A batch of packed copies is all or nothing: stash_pack_begin() sets aside its bytes
 * (fallocate(), so that a full disk shows at once), stash_pack_in() copies each file at the
 * next aligned offset within them, and stash_pack_end() keeps them or cuts the pack back to
 * where the batch began (an empty pack is removed). Space of packed copies that are replaced
 * or removed comes back only with stash_pack_clear() (ClearFormatContent, the end of a burn
 * that cleared the content, Close). One batch at a time per stash, and no batch while the
 * pack is read or cleared: a disc master's rules guarantee it. */
#define STASH_PACK_NAME "pack.data"
#define STASH_PACK_ALIGN 2048
#define STASH_PACK_FILE_MAX (64 * 1024)
#define STASH_COPY_PACKED UINT32_C(0x80000000)
static inline bool stash_copy_packed(uint32_t id) {
        return (id & STASH_COPY_PACKED) != 0;
}
/* Where a packed copy's bytes begin in the pack. */
static inline uint64_t stash_copy_offset(uint32_t id) {
        return (uint64_t) ((id & ~STASH_COPY_PACKED) - 1) * STASH_PACK_ALIGN;
}
/* Whether a file of size bytes taking cost bytes of disk (stash_file_cost()) goes into the pack:
 * it is at most STASH_PACK_FILE_MAX, and not sparse (a sparse file keeps its holes in a copy of
 * its own). A larger file's copy of its own is a reflink where the file system clones. NULL: no. */
bool stash_pack_fits(const Stash *s, uint64_t size, uint64_t cost);
/* What a packed file of size bytes costs. */
static inline uint64_t stash_pack_cost(uint64_t size) {
        return (size + STASH_PACK_ALIGN - 1) / STASH_PACK_ALIGN * STASH_PACK_ALIGN;
}
int stash_pack_begin(Stash *s, uint64_t bytes, uint64_t *ret_mark, ImapiError *error);
/* Copies exactly size bytes of src_fd into the pack (errors as stash_copy_in()'s). */
int stash_pack_in(Stash *s, int src_fd, uint64_t size, const char *name, const volatile bool *cancel,
                  uint32_t *ret_id, ImapiError *error);
/* keep: the batch's copies stay; else the pack is as it was at mark. */
int stash_pack_end(Stash *s, uint64_t mark, bool keep);
/* Removes the pack. */
void stash_pack_clear(Stash *s);
/* Opens the pack for reading (one fd for all packed copies; read with pread()), or -ENOENT. */
int stash_open_pack(const Stash *s);

/* Creates an empty file "<stash>/<name>" (O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC) for the image or
 * audio data; returns the fd and optionally the path. */
int stash_create_file(Stash *s, const char *name, int *ret_fd, char **ret_path);
/* Deletes one file of this stash (given by a path stash_create_file returned). */
int stash_remove_file(Stash *s, const char *path);

/* At start-up: removes every "*.stash" directory under root whose lock nobody holds (left by a
 * crashed daemon). Returns how many were removed. */
int stash_remove_stale(const char *root);
