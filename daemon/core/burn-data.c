/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A data burn (the Joliet format's part of burn-ops.h): lay the image out (prepare), write it as
 * libisofs generates it from the staged files, taking a checksum of every chunk on the way, on
 * random-access media write the head that makes readers find it (closing), and read back every
 * block a reader of the new tree follows, against those checksums (verify). No image file is
 * made: the stash holds the staged data and nothing else, and the staged data is read once.
 *
 * The image is generated again, byte for byte the same (the staging's image_time fixes its
 * times), for a retry, a second copy, and to name the block a differing chunk went wrong at.
 *
 * On random-access media the new session is written after everything the old file system uses,
 * and the head at block 0 that points readers at the new tree is written last: a burn stopped
 * at any point before (cancel, a vanished drive, imapid killed) leaves the old file system as it
 * was. Only a replace writes over it, and invalidates the old head first, so that a replace cut
 * short leaves a disc that reads as blank rather than a file system with missing data.
 */

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <imapi/imapierror.h>

#include "core/burn-ops.h"
#include "core/manager.h"
#include "core/worker.h"
#include "hresult.h"
#include "log.h"
#include "macro.h"
#include "media/iso.h"
#include "media/isohead.h"
#include "media/stash.h"

typedef struct BurnData {
        Burn *burn;
        IsoSource source;               /* the master's staging, read in place by the worker */
        IsoOptions iso;
        char *volume_name;
        MediaInfo media;                /* the disc as RecordDisc found it */
        uint8_t *head;                  /* random-access media: written to block 0 last */
        IsoImport import;               /* what the new tree took from the previous session */
        bool too_big;                   /* the laid out image does not fit the disc */
        uint64_t image_blocks;
        IsoOutput *stream;         /* the image, generated as the recorder takes it */
        uint64_t streamed;              /* blocks of it read (by the write buffer's thread) */
        BurnChecksums sums;             /* of what was written, for the verification */
        int boot_fd;                    /* the staged boot image, when the disc is to boot */
        int pack_fd;                    /* the stash's pack of small files, or why not (-errno) */
} BurnData;

static BurnData *data_of(Burn *b) {
        return b->format;
}

static void burn_data_free(void *p) {
        BurnData *d = p;

        free(d->volume_name);
        safe_close(d->boot_fd);
        safe_close(d->pack_fd);
        iso_output_free(d->stream);
        burn_checksums_done(&d->sums);
        free(d->head);
        iso_import_done(&d->import);
        free(d);
}

static int burn_data_check(Master *m, ImapiError *error) {
        /* A boot image alone makes a disc (a boot floppy's, say). */
        if (staging_count(&m->staging) == 0 && !(m->staging.boot.place && m->staging.boot.copy != 0))
                return imapi_error_set(error, IMAPI_E_INVALIDIMAGE, "Nothing is staged on disc master %u.",
                                       m->id);
        return 0;
}

static int read_block_from_drive(uint32_t lba, uint8_t buf[2048], void *userdata) {
        BurnData *d = userdata;

        return drive_read_blocks(d->burn->recorder->drive, lba, buf, 1);
}

static bool extent_on_disc(uint32_t start, uint32_t blocks, void *userdata) {
        BurnData *d = userdata;

        return drive_media_range_readable(&d->media, start, blocks);
}

/* The image's entries are the staging's own: a master that records changes no staging until the
 * job has ended, so the worker may read it. */
static void source_get(size_t i, IsoEntry *ret, void *userdata) {
        const BurnData *d = userdata;
        const StagedEntry *e = &d->burn->master->staging.entries[i];

        *ret = (IsoEntry) {
                .image_path = e->image_path,
                .is_dir = e->copy == 0,
                .size = e->size,
                .mode = e->mode,
                .mtime_usec = e->mtime_usec,
        };
}

/* A packed copy is read through the burn's one fd of the pack. */
static int source_open(size_t i, IsoData *ret, void *userdata) {
        const BurnData *d = userdata;
        uint32_t copy = d->burn->master->staging.entries[i].copy;
        int fd;

        if (stash_copy_packed(copy)) {
                if (d->pack_fd < 0)
                        return d->pack_fd;
                *ret = (IsoData) { .fd = d->pack_fd, .offset = stash_copy_offset(copy), .shared = true };
                return 0;
        }
        fd = stash_open_copy(d->burn->master->stash, copy);
        if (fd < 0)
                return fd;
        *ret = (IsoData) { .fd = fd };
        return 0;
}

/* The image's options, from the master and RecordDisc's. */
static int setup_image(BurnData *d, ImapiError *error) {
        Burn *b = d->burn;
        Master *m = b->master;
        bool big = m->staging.largest_file >= UINT64_C(0xFFFFF800);

        iso_options_init(&d->iso);
        d->iso.head = d->head;
        /* A copy: the worker reads it while SetJolietProperties may replace the master's. */
        d->volume_name = strdup(m->volume_name);
        if (!d->volume_name)
                return -ENOMEM;
        d->iso.volume_id = d->volume_name;
        d->iso.adapt_joliet_names = m->adapt_names;
        /* Fixed by the first burn of this content, so that every later one generates the same
         * image (a retry, a second copy). */
        if (m->staging.image_time == 0)
                m->staging.image_time = time(NULL);
        d->iso.volume_time = m->staging.image_time;
        d->iso.iso_level = b->options.iso_level > 0 ? b->options.iso_level : big ? 3 : 2;
        if (d->iso.iso_level < 3 && big)
                return imapi_error_set(error, IMAPI_E_INVALIDARG,
                                       "A staged file is 4 GiB or larger; it needs ISO level 3, not %d.",
                                       b->options.iso_level);
        d->iso.next_lba = b->plan.start_lba;
        if (b->plan.mode == SESSION_APPEND) {
                d->iso.read_block = read_block_from_drive;
                d->iso.extent_readable = extent_on_disc;
                d->iso.read_userdata = d;
                d->iso.import_lba = b->plan.import_lba;
        }
        if (m->staging.boot.place) {
                const StagedBoot *boot = &m->staging.boot;

                d->boot_fd = stash_open_copy(m->stash, boot->copy);
                if (d->boot_fd < 0)
                        return imapi_error_set(error, IMAPI_E_FILEACCESS, "Cannot open the boot image in the "
                                               "stash: %s.", strerror(-d->boot_fd));
                d->iso.boot_fd = d->boot_fd;
                d->iso.boot_size = boot->size;
                d->iso.boot_emulation = boot->emulation;
                d->iso.boot_platform = boot->platform;
                /* The master's string stays as it is until the job has ended. */
                d->iso.boot_id = boot->manufacturer;
        }
        /* One open of the pack for the whole image; an entry it cannot give names itself. */
        d->pack_fd = stash_open_pack(m->stash);
        d->source = (IsoSource) {
                .n = staging_count(&m->staging),
                .get = source_get,
                .open = source_open,
                .userdata = d,
        };
        return 0;
}

/* The index's large tables are mapped on their own (common/strmap.c): freeing them gives them
 * back to the system with no malloc_trim(). */
static void index_free_run(void *userdata) {
        strmap_done(userdata);
}

static void index_free_done(void *userdata) {
        free(userdata);
}

/* The name index is freed in a worker: unmapping the tables of 100,000 names took the event
 * loop up to a millisecond. */
static void drop_index(Master *m) {
        Worker *w = m->manager->worker;
        StrMap *index = malloc(sizeof(StrMap));

        if (!index) {
                staging_drop_index(&m->staging);
                return;
        }
        staging_take_index(&m->staging, index);
        if (!w || worker_submit(w, index_free_run, index_free_done, index) < 0) {
                strmap_done(index);
                free(index);
        }
}

static int burn_data_setup(Burn *b, ImapiError *error) {
        Master *m = b->master;
        uint64_t estimate;
        BurnData *d;
        int k;

        d = calloc(1, sizeof(BurnData));
        if (!d)
                return -ENOMEM;
        d->burn = b;
        d->boot_fd = d->pack_fd = -1;
        b->format = d;
        d->media = b->recorder->media;
        if (b->plan.random_access) {
                d->head = calloc(1, DRIVE_HEAD_BYTES);
                if (!d->head)
                        return -ENOMEM;
        }
        k = setup_image(d, error);
        if (k < 0)
                return k;
        /* An upper bound from the staging bookkeeping: laying the image out with libisofs would
         * take a second for 100,000 files, on the event loop. The image builder gives the exact
         * size, checked against the disc once it is laid out. */
        estimate = staging_estimate_blocks(&m->staging, NULL, 0);
        d->image_blocks = b->write_blocks = estimate;
        if (estimate > b->plan.room)
                return imapi_error_set(error, IMAPI_E_DISCFULL, "The disc cannot hold the image (%s).",
                                       master_format_room(estimate, b->plan.room, (char[MASTER_ROOM_MAX]) {}));
        /* Nothing more of the stash is needed: the image is generated from the staged data
         * while it is written. Nothing is staged until the job has ended, and libisofs' tree is
         * when memory peaks. */
        drop_index(m);
        return 0;
}

static int build_error(Burn *b, int r) {
        if (r == -ENOEXEC)
                return burn_fail(b, IMAPI_E_INVALIDARG, "The boot image does not suit its emulation type: a "
                                 "hard-disk emulation image must start with an MBR that holds one partition.");
        uint32_t hr = r == -EIO ? IMAPI_E_FILEACCESS : hresult_from_errno(r);

        (void) burn_fail(b, hr, "Laying out the image failed: %s.", strerror(-r));
        return r;
}

/* Worker: the image laid out; libisofs starts generating it into its FIFO. */
static void burn_data_prepare(Burn *b) {
        BurnData *d = data_of(b);
        int r;

        /* Grown in place: libisofs keeps the system area of the head and puts the new
         * descriptors after it. */
        if (d->head && b->plan.mode == SESSION_APPEND && drive_read_head(b->recorder->drive, d->head) < 0) {
                b->result = burn_fail(b, IMAPI_E_DISCINFO,
                                      "The first blocks of the disc in recorder %s cannot be "
                                      "read.", b->recorder->id);
                return;
        }
        r = iso_output_new(&d->source, &d->iso, &d->stream);
        if (r < 0) {
                b->result = b->cancel ? -ECANCELED : build_error(b, r);
                return;
        }
        iso_output_take_import(d->stream, &d->import);
        d->image_blocks = iso_output_blocks(d->stream);
        /* What verification compares with; a burn that does not verify takes none. */
        r = burn_verifies(b) ? burn_checksums_init(&d->sums, d->image_blocks) : 0;
        if (r < 0) {
                b->result = r;
                return;
        }
        /* The image has its exact size now; it must fit what the disc has free. */
        d->too_big = d->image_blocks > b->plan.room;
        /* The old file system stops being one right before the new one is written over it; tried or
         * done, the old head may be gone from then on. */
        if (!d->too_big && !b->cancel && b->plan.mode == SESSION_REPLACE && !b->options.simulate) {
                b->disc_touched = true;
                if (drive_invalidate_head(b->recorder->drive) < 0)
                        b->result = burn_fail(b, IMAPI_E_CANNOT_WRITE_TO_MEDIA, "Cannot write over the first "
                                              "blocks of the disc in recorder %s.", b->recorder->id);
        }
}

static int burn_data_prepared(Burn *b, ImapiError *error) {
        BurnData *d = data_of(b);

        if (d->too_big)
                return imapi_error_set(error, IMAPI_E_DISCFULL, "The disc cannot hold the image (%s).",
                                       master_format_room(d->image_blocks, b->plan.room, (char[MASTER_ROOM_MAX]) {}));
        b->write_blocks = d->image_blocks;
        job_set_bytes(b->job, d->image_blocks * 2048);
        return 0;
}

/* Why the image could not be generated, for the job's result (libburn only sees a source that
 * failed): the staged file that could not be read, by its name in the image. */
static int stream_error(BurnData *d, int r) {
        Burn *b = d->burn;
        size_t i = iso_output_failed_entry(d->stream);

        if (imapi_error_is_set(&b->error))
                return r;
        if (i < staging_count(&b->master->staging))
                return burn_fail(b, IMAPI_E_FILEACCESS, "The image cannot be generated: the staged copy of "
                                 "\"%s\" cannot be read (%s); replace it (AddData with overwrite) or clear "
                                 "the content.", b->master->staging.entries[i].image_path, strerror(-r));
        return burn_fail(b, r == -EIO ? IMAPI_E_FILEACCESS : hresult_from_errno(r),
                         "Generating the image failed: %s.", strerror(-r));
}

/* The write buffer's thread: the next blocks of the image, summed on their way to the recorder. */
static int stream_read(uint8_t *buf, size_t blocks, void *userdata) {
        BurnData *d = userdata;
        int r;

        r = iso_output_read(d->stream, buf, blocks);
        if (r < 0)
                return stream_error(d, r);
        burn_checksums_add(&d->sums, buf, blocks);
        d->streamed += blocks;
        if (d->streamed == d->image_blocks) {
                r = iso_output_finish(d->stream);
                if (r < 0)
                        return stream_error(d, r);
        }
        return 0;
}

static int burn_data_write_start(Burn *b, const DriveWriteOptions *common, char **ret_reason) {
        DriveWriteOptions wo = *common;
        BurnData *d = data_of(b);
        DriveStream stream = {
                .blocks = d->image_blocks,
                .read = stream_read,
                .userdata = d,
        };

        /* Leave the disc open for another session, as IMAPI did, where the medium has sessions;
         * random-access media are grown instead. */
        wo.multi = !b->options.close_disc && !b->plan.random_access;
        if (b->plan.random_access)
                wo.start_lba = b->plan.start_lba;
        return drive_write_stream_start(b->recorder->drive, &stream, &wo, ret_reason);
}

bool burn_data_write_progress(Burn *b, const DriveProgress *p) {
        if (p->closing)
                burn_announce_closing(b, 5);
        if (p->sectors_total == 0)
                return false;
        atomic_store(&b->blocks_done, MIN(p->sectors_done, b->write_blocks));
        return true;
}

static bool burn_data_needs_closing(Burn *b) {
        return data_of(b)->head || (drive_is_file(b->recorder->drive) && b->plan.mode != SESSION_APPEND);
}

/* Worker: what makes the session the one readers find, on random-access media. */
static void burn_data_close(Burn *b) {
        BurnData *d = data_of(b);
        Drive *drive = b->recorder->drive;

        if (d->head && drive_write_head(drive, d->head) < 0) {
                b->result = burn_fail(b, IMAPI_E_CANNOT_WRITE_TO_MEDIA,
                                      "The new session is on the disc, but its "
                                      "first blocks, which lead readers to it, could not be written; the disc "
                                      "still shows what it held before.");
                return;
        }
        /* A new file system from the start of an image file: none of an old one's tail stays. */
        if (drive_is_file(drive) && b->plan.mode != SESSION_APPEND)
                (void) drive_truncate_file(drive, b->plan.start_lba + d->image_blocks);
}

static uint64_t burn_data_verify_blocks(Burn *b) {
        BurnData *d = data_of(b);
        uint64_t n = d->image_blocks + (d->head ? ISOHEAD_BLOCKS : 0);

        for (size_t i = 0; i < d->import.n_extents; i++)
                n += d->import.extents[i].blocks;
        return n;
}

/* The head, as it was written. */
static int verify_head(Burn *b) {
        _cleanup_free_ uint8_t *h = malloc(DRIVE_HEAD_BYTES);
        int64_t bad;

        if (!h)
                return -ENOMEM;
        bad = burn_verify_chunk(b, 0, ISOHEAD_BLOCKS, data_of(b)->head, h);
        if (bad != 0)
                return burn_fail(b, IMAPI_E_CANNOT_WRITE_TO_MEDIA,
                                 "Verification failed: block %lld, which leads "
                                 "readers to the new session, %s.", (long long) (bad < 0 ? -bad : bad) - 1,
                                 bad < 0 ? "cannot be read back" : "reads back differently");
        atomic_fetch_add(&b->blocks_done, ISOHEAD_BLOCKS);
        return 0;
}

/* The file data of earlier sessions that the new tree refers to: readable. */
static int verify_imported(Burn *b, uint8_t *buf) {
        const IsoImport *imp = &data_of(b)->import;

        for (size_t e = 0; e < imp->n_extents; e++) {
                const IsoExtent *x = &imp->extents[e];

                for (uint32_t i = 0; i < x->blocks; i += BURN_VERIFY_CHUNK_BLOCKS) {
                        size_t n = MIN((size_t) BURN_VERIFY_CHUNK_BLOCKS, (size_t) (x->blocks - i));
                        int64_t bad;

                        if (b->cancel)
                                return -ECANCELED;
                        bad = burn_verify_chunk(b, x->start + i, n, NULL, buf);
                        if (bad < 0)
                                return burn_fail(b, IMAPI_E_DISCINFO,
                                                 "Verification failed: block %lld, which holds "
                                                 "file data of an earlier session that the new file system refers "
                                                 "to, cannot be read.", (long long) -bad - 1);
                        atomic_fetch_add(&b->blocks_done, n);
                }
        }
        return 0;
}

/* A chunk of the new session reads back differently from what was written: the image is
 * generated again up to that chunk (the same bytes, from the same staging and options) to tell
 * which of its blocks differs. Rare, and worth the time: the user learns where the disc is bad. */
static int64_t locate_bad_block(Burn *b, uint32_t lba, const uint8_t *read, size_t n, void *userdata) {
        _cleanup_free_ uint8_t *buf = malloc(BURN_VERIFY_CHUNK_BLOCKS * 2048), *head = NULL;
        BurnData *d = userdata;
        IsoOptions o = d->iso;
        IsoOutput *s = NULL;
        uint64_t at = lba - b->plan.start_lba, done = 0;
        int64_t bad = -EIO;
        int r;

        if (!buf)
                return -ENOMEM;
        /* libisofs writes the head it generates into o.head: not into the one on the disc. */
        if (d->head) {
                head = malloc(DRIVE_HEAD_BYTES);
                if (!head)
                        return -ENOMEM;
                memcpy(head, d->head, DRIVE_HEAD_BYTES);
                o.head = head;
        }
        r = iso_output_new(&d->source, &o, &s);
        if (r < 0)
                return r;
        /* The chunk starts on a multiple of BURN_VERIFY_CHUNK_BLOCKS: each read of the image is
         * wholly before it or wholly in it. */
        while (done < at + n && bad < 0 && !b->cancel) {
                size_t k = (size_t) MIN((uint64_t) BURN_VERIFY_CHUNK_BLOCKS, at + n - done);

                r = iso_output_read(s, buf, k);
                if (r < 0)
                        break;
                if (done >= at)
                        for (size_t i = 0; i < k; i++)
                                if (memcmp(buf + i * 2048, read + (done - at + i) * 2048, 2048) != 0) {
                                        bad = (int64_t) lba + (int64_t) (done - at + i);
                                        break;
                                }
                done += k;
        }
        iso_output_free(s);
        return bad;
}

/* Worker: read back every block that a reader of the new tree follows. */
static void burn_data_verify(Burn *b) {
        _cleanup_free_ uint8_t *buf = malloc(BURN_VERIFY_CHUNK_BLOCKS * 2048);
        BurnData *d = data_of(b);
        int64_t bad;
        int r;

        if (!buf) {
                b->result = -ENOMEM;
                return;
        }
        /* The new session against what was written. */
        r = burn_verify_checksums(b, &d->sums, b->plan.start_lba, locate_bad_block, d, &bad);
        if (r >= 0 && bad < 0)
                r = burn_fail(b, IMAPI_E_DISCINFO, "Verification failed: block %lld of the new session cannot "
                              "be read back.", (long long) -bad - 1);
        else if (r >= 0 && bad > 0)
                r = burn_fail(b, IMAPI_E_CANNOT_WRITE_TO_MEDIA, "Verification failed: block %lld reads back "
                              "differently from what was written.", (long long) bad - 1);
        if (r >= 0 && data_of(b)->head)
                r = verify_head(b);
        if (r >= 0)
                r = verify_imported(b, buf);
        b->result = r;
}

/* What a successful burn has to tell: the files of the previous session that it left out. */
static char *burn_data_note(Burn *b) {
        const IsoImport *imp = &data_of(b)->import;
        _cleanup_free_ char *names = NULL;
        char *s = NULL;

        if (imp->n_left_out == 0)
                return NULL;
        for (size_t i = 0; i < imp->n_left_out_names; i++) {
                char *n = NULL;

                if (asprintf(&n, "%s%s\"%s\"", names ?: "", names ? ", " : "", imp->left_out[i]) < 0)
                        return NULL;
                free(names);
                names = n;
        }
        if (asprintf(&s,
                     "Written; %zu file%s of the previous session %s left out because the disc does not hold "
                     "%s whole: %s%s.", imp->n_left_out, imp->n_left_out == 1 ? "" : "s",
                     imp->n_left_out == 1 ? "was" : "were", imp->n_left_out == 1 ? "it" : "them", names ?: "",
                     imp->n_left_out > imp->n_left_out_names ? " and more" : "") < 0)
                return NULL;
        return s;
}

/* The end's worker: libisofs' tree (about 100 MiB for 100,000 files) goes, and the memory it
 * took in that thread's malloc arena back to the system rather than stay until the next burn.
 * Trimming this arena does not hold up the event loop's. */
static void release_stream(void *p) {
        iso_output_free(p);
        (void) malloc_trim(0);
}

static void burn_data_end_files(Burn *b, BurnEndFiles *ret) {
        BurnData *d = data_of(b);

        if (!d)
                return;
        /* The pack's last close, once the end has deleted it, frees all its blocks (70 ms on the
         * loop for 100,000 small files): in the end's worker, with the rest. */
        if (d->pack_fd >= 0)
                ret->close_fd = TAKE_FD(d->pack_fd);
        if (!d->stream)
                return;
        ret->release = release_stream;
        ret->release_data = TAKE_PTR(d->stream);
}

const BurnOps burn_data_ops = {
        .activity = "Burning a disc",
        .block_size = 2048,
        .prepare_share = 0.02,
        .verify_share = 0.15,
        .check = burn_data_check,
        .setup = burn_data_setup,
        .prepare_run = burn_data_prepare,
        .prepared = burn_data_prepared,
        .write_start = burn_data_write_start,
        .write_progress = burn_data_write_progress,
        .needs_closing = burn_data_needs_closing,
        .closing_run = burn_data_close,
        .verify_blocks = burn_data_verify_blocks,
        .verify_run = burn_data_verify,
        .success_note = burn_data_note,
        .end_files = burn_data_end_files,
        .free = burn_data_free,
};
