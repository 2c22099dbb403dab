/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The libisofs boundary: building an ISO 9660 + Joliet (+ Rock Ridge) image from a list of
 * staged files. Nothing outside iso*.c includes libisofs.h; ISO_* error codes become negative
 * errno here. Runs in a worker thread: no bus, no event loop.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

typedef struct IsoEntry {
        const char *image_path;  /* normalized path in the image, e.g. "docs/a.txt" */
        bool is_dir;             /* a directory (it may be empty); else a file */
        uint64_t size;           /* a file's size */
        mode_t mode;             /* file mode as staged, for Rock Ridge */
        uint64_t mtime_usec;     /* modification time as staged */
} IsoEntry;

/* The entries of an image, where the caller keeps them: the image of 100,000 files should not
 * need a second list of them. get() fills in entry i (0 <= i < n; its path stays valid until
 * the image is written); open() gives file entry i's content for reading (0 or a negative
 * errno): a file of its own, or a range of a file that holds many (IsoData). Both are called
 * from the thread that builds the image, and from libisofs' writer thread, while the caller
 * changes nothing. */
typedef struct IsoData {
        int fd;
        uint64_t offset;        /* where the entry's bytes begin in fd */
        bool shared;            /* fd is the caller's, read with pread() and not closed; else the
                                 * image's, closed when the entry has been read */
} IsoData;

typedef struct IsoSource {
        size_t n;
        void (*get)(size_t i, IsoEntry *ret, void *userdata);
        int (*open)(size_t i, IsoData *ret, void *userdata);
        void *userdata;
} IsoSource;

typedef struct IsoOptions {
        /* The volume name: the Joliet volume id as given (at most 16 characters, none beyond
         * U+FFFF, the rules of one Joliet name; else -EINVAL); the ISO 9660 volume id is derived
         * from it in d-characters (upper case, others "_"). NULL: none, or the imported one. */
        const char *volume_id;
        int iso_level;           /* 1..3; 3 is needed for files of 4 GiB and more */
        bool rock_ridge;         /* on by default */
        bool joliet;             /* always on for IMAPI; an option for tests */
        /* Names Joliet or Windows cannot hold get Joliet names of their own (jolietname.h);
         * off: every path must pass joliet_name_check() (-EINVAL) and keeps its name. */
        bool adapt_joliet_names;
        /* Multi-session: read_block, when set, reads one 2048-byte block of the medium at an
         * absolute LBA (returning 0, or a negative errno); the session starting at import_lba
         * (msc1) is imported, and the new one is laid out to start at next_lba (nwa). Only the
         * new session is written to out_fd. */
        int (*read_block)(uint32_t lba, uint8_t buf[2048], void *userdata);
        void *read_userdata;
        uint32_t import_lba;
        uint32_t next_lba;      /* also without an import: where the image is laid out to start */
        /* The import keeps only files that the medium holds whole: every extent below next_lba
         * and inside what extent_readable() (if set) says is recorded. Files with an extent
         * elsewhere (a session cut short, a truncated image file) are left out of the new tree
         * and named in IsoImport.left_out. */
        bool (*extent_readable)(uint32_t start, uint32_t blocks, void *userdata);
        /* Random-access media (overwriteable discs, image files), where readers find the newest
         * session through the volume descriptors at block 16: the medium's first 32 blocks
         * (zeros for a new file system). libisofs writes the new descriptors into blocks 16..31
         * and keeps the system area in 0..15; the caller writes the buffer to block 0 once the
         * session is on the medium. next_lba must be 32 or more. */
        uint8_t *head;
        /* El Torito: with boot_size > 0, boot_fd reads the boot image (boot_size bytes from its
         * start), written with a boot catalog, both hidden from the trees. boot_emulation is IMAPI's
         * BootImageEmulationType (0 none, 1..3 floppy, 4 hard disk); boot_platform the El Torito
         * platform id; boot_id the validation entry's ID string (up to 24 bytes). An image that
         * does not suit its emulation (a floppy's size, a hard disk's MBR with one partition)
         * fails with -ENOEXEC. */
        int boot_fd;
        uint64_t boot_size;
        uint8_t boot_emulation;
        uint8_t boot_platform;
        const char *boot_id;
        /* The volume's creation and modification time, and that of the directories that only
         * a path implies; 0: the time the image is generated. Fixed, the same entries and
         * options give the same image, byte for byte, every time it is generated. */
        time_t volume_time;
} IsoOptions;

/* What a new session took from the previous one. */
typedef struct IsoExtent {
        uint32_t start;
        uint32_t blocks;
} IsoExtent;

#define ISO_LEFT_OUT_NAMES_MAX 100

typedef struct IsoImport {
        /* Blocks of the previous sessions the new tree refers to (file data), sorted, merged. */
        IsoExtent *extents;
        size_t n_extents;
        /* Files of the previous session that were left out; the first ISO_LEFT_OUT_NAMES_MAX
         * of them by name. */
        size_t n_left_out;
        char **left_out;
        size_t n_left_out_names;
} IsoImport;

void iso_import_done(IsoImport *i);

void iso_options_init(IsoOptions *o); /* volume id NULL, level 2, Rock Ridge and Joliet on, no import */

/* The library is global state: once at start-up and once at exit. */
int iso_library_init(void);
void iso_library_finish(void);

/* Size in 2048-byte blocks the image of these entries will have (exact, as libisofs computes
 * it). No file is opened. */
int iso_build_estimate(const IsoSource *src, const IsoOptions *o, uint64_t *ret_blocks);

/* The image as a stream, generated while it is read: libisofs lays the image out when the
 * stream is made (so its size is known before anything is written) and then generates it in a
 * thread of its own, reading the staged files, as fast as the stream is read. A stream is read
 * once, from the start; for another pass (a second recorder, a retry, naming a bad block) make
 * a new one from the same source and options, which gives the same bytes when
 * o->volume_time is fixed. The source and options (and o->head, which libisofs fills in while
 * it generates the descriptors) must stay valid until the stream is freed.
 *
 * read() fills whole blocks, never more than are left: 0 or a negative errno, as
 * iso_build_write(). After a failure, failed_entry() is the index of the source entry whose
 * staged file could not be opened or read, or SIZE_MAX if none is to blame. finish() after the
 * last block says whether libisofs ended cleanly. free() stops the generator wherever it is. */
typedef struct IsoOutput IsoOutput;
int iso_output_new(const IsoSource *src, const IsoOptions *o, IsoOutput **ret);
uint64_t iso_output_blocks(const IsoOutput *s);
int iso_output_read(IsoOutput *s, uint8_t *buf, size_t blocks);
int iso_output_finish(IsoOutput *s);
size_t iso_output_failed_entry(const IsoOutput *s);
/* What the new tree took from the previous session (iso_import_done() it). */
void iso_output_take_import(IsoOutput *s, IsoImport *ret);
IsoOutput *iso_output_free(IsoOutput *s);

/* Writes the image into out_fd (a new stash file) from its start; *ret_import (may be NULL) says
 * what an import took and left out. Blocks of zeros are skipped with lseek() so the image file
 * stays as sparse as its sources. progress(done_blocks, total_blocks) is called now and then;
 * *cancel is polled (-ECANCELED). Errors: -ENOSPC,
 * -EIO (opening or reading a file, or a file whose size is not the entry's; writing the
 * image), -EINVAL (bad options or names), -EFBIG (a file needs ISO level 3), -ENOMEM. */
typedef void (*iso_progress_fn)(uint64_t done_blocks, uint64_t total_blocks, void *userdata);
int iso_build_write(const IsoSource *src, const IsoOptions *o, int out_fd,
                    const volatile bool *cancel, iso_progress_fn progress, void *userdata,
                    uint64_t *ret_blocks, IsoImport *ret_import);
