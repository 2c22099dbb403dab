/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writing, erasing and reading back through libburn, and turning libburn's outcome into an
 * IMAPI HRESULT. The only signal of success is burn_drive_wrote_well(); the messages libburn
 * queued tell why a run failed (MMC sense key/ASC/ASCQ in their text, SPC-4 4.5.6).
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <scsi/sg.h>

#include <imapi/imapierror.h>

#include "media/drive-fifo.h"
#include "media/drive-internal.h"
#include "hresult.h"
#include "media/isohead.h"
#include "log.h"
#include "macro.h"
#include "time-util.h"

/* 8 MiB of FIFO between an image file and the drive: several seconds at 16x CD, enough to
 * ride out a stall of the stash disk. A generated image has libisofs' own buffer before it
 * (iso-build.c) and the generator's reads are ahead of the drive as well, so 4 MiB do there;
 * they are 4 MiB less of the daemon's memory while the image's tree is in it too. */
#define FIFO_FILE_BYTES (8U << 20)
#define FIFO_STREAM_BYTES (4U << 20)
/* How long a write's thread may outlive the IDLE state before the drive counts as free. */
#define DRIVE_THREAD_END_USEC (10 * 1000 * 1000ULL)

void drive_free_write_state(Drive *d) {
        if (d->disc)
                burn_disc_free(d->disc);
        if (d->fifo)
                burn_source_free(d->fifo);
        if (d->source)
                burn_source_free(d->source);
        if (d->opts)
                burn_write_opts_free(d->opts);
        d->disc = NULL;
        d->fifo = d->source = NULL;
        d->opts = NULL;
        d->erasing = false;
        d->fifo_starved = false;
        d->reached_lba = -1;
}

/* A source that reads the image at a given rate. libburn's own speed limit for image-file
 * drives does not hold the rate it is given, and a file written at full disk speed leaves no
 * time for a user (or a test) to watch or cancel; real drives pace themselves. */
typedef struct PacedSource {
        int fd;                 /* -1: from the stream */
        DriveStream stream;
        uint64_t left;          /* blocks of the stream not yet read */
        uint8_t partial[2048];  /* a block of the stream that a read took only part of */
        size_t partial_pos;     /* bytes of it handed out; sizeof(partial): none */
        off_t size;
        off_t fixed_size;
        uint64_t bytes_per_sec;
        uint64_t start_usec;
        uint64_t done;
} PacedSource;

/* The write buffer asks for 64 KiB at a time, whole blocks; a read of a part of a block is served from a
 * block read whole all the same. */
static ssize_t stream_read(PacedSource *p, uint8_t *buf, size_t size) {
        size_t done = 0;
        int r;

        if (p->partial_pos < sizeof p->partial) {
                done = MIN(size, sizeof p->partial - p->partial_pos);
                memcpy(buf, p->partial + p->partial_pos, done);
                p->partial_pos += done;
        }
        if (done == size || p->left == 0)
                return (ssize_t) done;
        if (size - done >= 2048) {
                size_t n = (size_t) MIN((uint64_t) (size - done) / 2048, p->left);

                r = p->stream.read(buf + done, n, p->stream.userdata);
                if (r < 0)
                        return r;
                p->left -= n;
                return (ssize_t) (done + n * 2048);
        }
        r = p->stream.read(p->partial, 1, p->stream.userdata);
        if (r < 0)
                return r;
        p->left--;
        p->partial_pos = size - done;
        memcpy(buf + done, p->partial, size - done);
        return (ssize_t) size;
}

static int paced_read(struct burn_source *s, unsigned char *buf, int size) {
        PacedSource *p = s->data;
        uint64_t due, now;
        ssize_t n;

        if (p->start_usec == 0)
                p->start_usec = now_usec(CLOCK_MONOTONIC);
        n = p->fd >= 0 ? read(p->fd, buf, (size_t) size) : stream_read(p, buf, (size_t) size);
        if (n <= 0)
                return n < 0 ? -1 : 0;
        p->done += (uint64_t) n;
        if (p->bytes_per_sec == 0)
                return (int) n;
        due = p->start_usec + p->done * 1000000ULL / p->bytes_per_sec;
        now = now_usec(CLOCK_MONOTONIC);
        if (due > now)
                usleep((useconds_t) MIN(due - now, 1000000ULL));
        return (int) n;
}

static off_t paced_get_size(struct burn_source *s) {
        PacedSource *p = s->data;

        return p->fixed_size > 0 ? p->fixed_size : p->size;
}

static int paced_set_size(struct burn_source *s, off_t size) {
        ((PacedSource *) s->data)->fixed_size = size;
        return 1;
}

static void paced_free(struct burn_source *s) {
        PacedSource *p = s->data;

        safe_close(p->fd);
        free(p);
}

/* From the file at path, or else from the stream; kbps 0: as fast as it comes. */
static struct burn_source *paced_source_new(const char *path, const DriveStream *stream, unsigned kbps) {
        struct burn_source *s;
        PacedSource *p;
        struct stat st;

        p = calloc(1, sizeof(PacedSource));
        if (!p)
                return NULL;
        p->fd = -1;
        p->partial_pos = sizeof p->partial;
        if (path) {
                p->fd = open(path, O_RDONLY | O_CLOEXEC);
                if (p->fd < 0 || fstat(p->fd, &st) < 0) {
                        safe_close(p->fd);
                        free(p);
                        return NULL;
                }
                p->size = st.st_size;
        } else {
                p->stream = *stream;
                p->left = stream->blocks;
                p->size = (off_t) (stream->blocks * 2048);
        }
        p->bytes_per_sec = (uint64_t) kbps * 1000;
        s = drive_source_new(&(struct burn_source) { .read = paced_read, .get_size = paced_get_size,
                                                     .set_size = paced_set_size, .free_data = paced_free },
                             p);
        if (!s) {
                safe_close(p->fd);
                free(p);
        }
        return s;
}

/* libburn's direct reads and writes ("Drive is busy on attempt to ...") need the IDLE state too,
 * which a write's thread may not have set yet when its end has been seen. */
static void wait_idle(Drive *d, uint64_t deadline) {
        while (burn_drive_get_status(d->info.drive, NULL) != BURN_DRIVE_IDLE &&
               now_usec(CLOCK_MONOTONIC) < deadline)
                usleep(DRIVE_SETTLE_STEP_USEC);
}

/* libburn's thread of this write is born with the name the caller (a worker) has for the call
 * (drive_thread_mark()), whether it ever calls a source of ours or not: an audio write reads
 * libburn's file sources, and a write may fail before its first read. A try that libburn
 * refused started none. */
static void disc_write(Drive *d) {
        char saved[DRIVE_THREAD_NAME_MAX];

        drive_thread_mark(d->write_thread, saved);
        burn_disc_write(d->opts, d->disc);
        drive_thread_unmark(saved);
}

int drive_disc_write(Drive *d) {
        d->idle_since_usec = 0;
        d->write_thread[0] = 0;
        return drive_start_operation(d, disc_write);
}

static int write_start(Drive *d, const char *image_path, const DriveStream *stream, const DriveWriteOptions *o,
                       char **ret_reason) {
        struct burn_session *session = NULL;
        struct burn_track *track = NULL;
        char reasons[BURN_REASONS_LEN] = "";
        enum burn_write_types wt;

        *ret_reason = NULL;
        if (!d->grabbed || d->disc)
                return -EBUSY;

        d->op_seq = drive_message_seq();
        (void) drive_drain_messages(NULL, NULL);
        d->op_seq = drive_message_seq();

        if (!image_path || (drive_is_file(d) && o->speed_kbps > 0))
                d->source = paced_source_new(image_path, stream, drive_is_file(d) ? (unsigned) o->speed_kbps : 0);
        else
                d->source = burn_file_source_new(image_path, NULL);
        if (!d->source)
                goto fail_io;
        d->fifo = drive_fifo_new(d->source, image_path ? FIFO_FILE_BYTES : FIFO_STREAM_BYTES);
        if (!d->fifo)
                goto fail_io;

        d->disc = burn_disc_create();
        session = burn_session_create();
        track = burn_track_create();
        if (!d->disc || !session || !track)
                goto fail_nomem;
        burn_disc_add_session(d->disc, session, BURN_POS_END);
        burn_track_define_data(track, 0, 0, 1, BURN_MODE1);
        if (burn_track_set_source(track, d->fifo) != BURN_SOURCE_OK)
                goto fail_io;
        burn_session_add_track(session, track, BURN_POS_END);
        /* The disc and session now hold their references. */
        burn_track_free(track);
        burn_session_free(session);
        track = NULL;
        session = NULL;

        d->opts = burn_write_opts_new(d->info.drive);
        if (!d->opts)
                goto fail_nomem;
        burn_write_opts_set_perform_opc(d->opts, 0);
        burn_write_opts_set_multi(d->opts, o->multi);
        /* Overwriteable media and image files are written where the caller lays the session
         * out (isohead.h), aligned to 32 blocks as every such medium accepts. */
        if (o->start_lba >= 0)
                burn_write_opts_set_start_byte(d->opts, (off_t) o->start_lba * 2048);
        if (burn_write_opts_set_simulate(d->opts, o->simulate) <= 0 && o->simulate) {
                *ret_reason = strdup("The recorder cannot simulate a write.");
                drive_free_write_state(d);
                return hresult_to_errno(IMAPI_E_DEVICE_INVALIDTYPE);
        }
        if (o->underrun_proof >= 0)
                (void) burn_write_opts_set_underrun_proof(d->opts, o->underrun_proof);

        wt = burn_write_opts_auto_write_type(d->opts, d->disc, reasons, 0);
        if (wt == BURN_WRITE_NONE || burn_precheck_write(d->opts, d->disc, reasons, 1) <= 0) {
                (void) drive_drain_messages(NULL, NULL);
                if (asprintf(ret_reason, "The recorder cannot write this disc: %s",
                             reasons[0] ? reasons : "no suitable write mode") < 0)
                        *ret_reason = NULL;
                drive_free_write_state(d);
                return hresult_to_errno(IMAPI_E_MEDIUM_INVALIDTYPE);
        }

        burn_drive_set_speed(d->info.drive, 0, o->speed_kbps);
        log_debug("Writing %s to %s (%s%s).", image_path ?: "a generated image", d->address, wt == BURN_WRITE_SAO ? "SAO" : "TAO",
                  o->simulate ? ", simulated" : "");
        return drive_disc_write(d);

fail_nomem:
        if (track)
                burn_track_free(track);
        if (session)
                burn_session_free(session);
        drive_free_write_state(d);
        return -ENOMEM;
fail_io:
        if (track)
                burn_track_free(track);
        if (session)
                burn_session_free(session);
        drive_free_write_state(d);
        (void) drive_drain_messages(NULL, NULL);
        *ret_reason = strdup(image_path ? "The image file in the stash cannot be read." :
                             "The image cannot be generated.");
        return hresult_to_errno(IMAPI_E_FILEACCESS);
}

int drive_write_start(Drive *d, const char *image_path, const DriveWriteOptions *o, char **ret_reason) {
        return write_start(d, image_path, NULL, o, ret_reason);
}

int drive_write_stream_start(Drive *d, const DriveStream *stream, const DriveWriteOptions *o, char **ret_reason) {
        return write_start(d, NULL, stream, o, ret_reason);
}

static void disc_erase_fast(Drive *d) {
        burn_disc_erase(d->info.drive, 1);
}

static void disc_erase_full(Drive *d) {
        burn_disc_erase(d->info.drive, 0);
}

int drive_erase_start(Drive *d, bool full) {
        int r;

        if (!d->grabbed || d->disc || d->erasing)
                return -EBUSY;
        (void) drive_drain_messages(NULL, NULL);
        d->op_seq = drive_message_seq();
        r = drive_start_operation(d, full ? disc_erase_full : disc_erase_fast);
        if (r < 0 && r != -EAGAIN)
                return r;
        d->erasing = true;
        return r;
}

static void disc_format(Drive *d) {
        burn_disc_format(d->info.drive, 0, d->format_flag);
}

int drive_format_start(Drive *d, bool reformat) {
        int profile = 0, r;
        char name[80];

        if (!d->grabbed || d->disc || d->erasing)
                return -EBUSY;
        (void) burn_disc_get_profile(d->info.drive, &profile, name);
        /* burn_disc_format() size modes (libburn.h): 2 the largest size, 3 the medium's default
         * (BD-RE and DVD-RAM, whose default keeps spare areas for defect management); bit4
         * formats a formatted medium again. */
        d->format_flag = IN_SET(profile, 0x12, 0x43) ? 3 << 1 : 2 << 1;
        if (reformat)
                d->format_flag |= 1 << 4;
        (void) drive_drain_messages(NULL, NULL);
        d->op_seq = drive_message_seq();
        r = drive_start_operation(d, disc_format);
        if (r < 0 && r != -EAGAIN)
                return r;
        d->erasing = true;
        return r;
}

bool drive_poll(Drive *d, DriveProgress *ret) {
        struct burn_progress p = {};
        DriveProgress r = { .fifo_fill = -1, .drive_buffer_fill = -1 };
        enum burn_drive_status s;

        if (d->lost) {
                *ret = r;
                return false;
        }
        s = burn_drive_get_status(d->info.drive, &p);
        /* libburn's write thread clears the drive's cancel flag as it sets out
         * (burn_disc_init_write_status()): a cancel made between burn_disc_write()'s return and
         * then would be lost, and the write would run to its end. It is made again at every poll
         * until the write is over. */
        if (d->cancelled && d->disc && s != BURN_DRIVE_IDLE)
                burn_drive_cancel(d->info.drive);

        r.active = s != BURN_DRIVE_IDLE;
        r.track = p.track;
        r.closing = IN_SET(s, BURN_DRIVE_CLOSING_TRACK, BURN_DRIVE_CLOSING_SESSION, BURN_DRIVE_WRITING_LEADOUT);
        if (p.sectors > 0) {
                r.sectors_total = (uint64_t) p.sectors;
                r.sectors_done = (uint64_t) MAX(p.sector, 0);
        }
        if (s == BURN_DRIVE_WRITING && p.sectors > 0)
                d->reached_lba = MAX(d->reached_lba, (int64_t) p.start_sector + p.sector);
        if (d->erasing && p.sectors > 0) {
                r.sectors_total = (uint64_t) p.sectors;
                r.sectors_done = (uint64_t) MAX(p.sector, 0);
        }
        if (p.buffer_capacity > 0)
                r.drive_buffer_fill = 1.0 - (double) p.buffer_available / (double) p.buffer_capacity;

        if (d->fifo) {
                size_t size, filled;

                if (drive_fifo_status(d->fifo, &size, &filled)) {
                        r.fifo_fill = (double) filled / (double) size;
                        /* At most one block left while the drive writes: the source is starved,
                         * the early warning of an underrun (the drive-buffer fields go stale). */
                        if (s == BURN_DRIVE_WRITING && filled <= 2048 && p.sector > 0 && p.sector + 16 < p.sectors)
                                d->fifo_starved = true;
                }
        }
        (void) drive_drain_messages(NULL, NULL);
        /* libburn may say IDLE up to half a second before its write thread has ended, and that
         * thread still uses the drive: a stdio: drive's failed or cancelled write sleeps after
         * it, then frees the drive's buffer and puts back the one it found (write.c). A read of
         * the drive meanwhile has its buffer freed and set to NULL under it (read.c), and
         * imapid crashed. The drive is only free for the next task after that, however often
         * the caller polls (for ten seconds at most). */
        if (!r.active && d->disc && !drive_write_thread_ended(d)) {
                uint64_t now = now_usec(CLOCK_MONOTONIC);

                if (d->idle_since_usec == 0)
                        d->idle_since_usec = now;
                if (now - d->idle_since_usec < DRIVE_THREAD_END_USEC)
                        r.active = true;
        }
        *ret = r;
        return r.active;
}

void drive_cancel(Drive *d) {
        if (d->pending_start)
                return;         /* libburn has nothing yet; the caller abandons the start */
        if (!d->cancelled) {
                d->cancelled = true;
                drive_note_cancel(true);
        }
        if (!d->lost)
                burn_drive_cancel(d->info.drive);
}

void drive_cancel_sync(Drive *d) {
        _cleanup_free_ char *msg = NULL;
        DriveProgress p;

        if (d->pending_start) {
                drive_start_abandon(d);
                return;
        }
        drive_cancel(d);
        for (unsigned i = 0; i < 600 && drive_poll(d, &p); i++)
                usleep(50 * 1000);
        (void) drive_operation_finish(d, true, &msg);
}

static bool text_has(const DriveMessage *m, const char *needle) {
        return strstr(m->text, needle) != NULL;
}

/* Whether d's device still answers: opened afresh and asked for its sg version, which fails
 * on an unplugged sr (the node is gone, or every ioctl is ENODEV). Image files have no device
 * to ask. */
static bool device_answers(const Drive *d) {
        _cleanup_close_ int fd = -1;
        int version;

        if (drive_is_file(d))
                return false;
        fd = open(d->address, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        return fd >= 0 && ioctl(fd, SG_GET_VERSION_NUM, &version) >= 0;
}

/* The WRITE a message of libburn's is about, if it names one: "SCSI error on write(LBA,N): ..."
 * (mmc.c's report of a failed WRITE), or the "CDB= WRITE(10) : 2a .." or "WRITE(12) : aa .." dump
 * of its command block that follows it (MMC-6 6.44, 6.45: the LBA in bytes 2-5, the length in
 * bytes 7-8 or 6-9). */
static bool message_write_range(const DriveMessage *m, int64_t *ret_lba, int64_t *ret_blocks) {
        const char *p;
        unsigned cdb[10];
        long lba, n;

        p = strstr(m->text, "on write(");
        if (p && sscanf(p, "on write(%ld,%ld)", &lba, &n) == 2) {
                *ret_lba = lba;
                *ret_blocks = n;
                return true;
        }
        p = strstr(m->text, "CDB= WRITE(1");
        if (!p || !(p = strstr(p, ") : ")))
                return false;
        if (sscanf(p + 4, "%x %x %x %x %x %x %x %x %x %x", &cdb[0], &cdb[1], &cdb[2], &cdb[3], &cdb[4], &cdb[5],
                   &cdb[6], &cdb[7], &cdb[8], &cdb[9]) != 10 || !IN_SET(cdb[0], 0x2Au, 0xAAu))
                return false;
        *ret_lba = (int64_t) (cdb[2] << 24 | cdb[3] << 16 | cdb[4] << 8 | cdb[5]);
        *ret_blocks = cdb[0] == 0x2A ? (int64_t) (cdb[7] << 8 | cdb[8]) :
                      (int64_t) (cdb[6] << 24 | cdb[7] << 16 | cdb[8] << 8 | cdb[9]);
        return true;
}

/* libburn sends a track's WRITEs in ascending order and stops at the first that fails, and it
 * counts a block (burn_progress.sector, from start_sector) when it goes into the buffer of the
 * next WRITE, at most 32 blocks. So once d's write has been seen further on than a WRITE's blocks
 * and that buffer, that WRITE was sent and succeeded: a report of it failing is another
 * recorder's. The margin of 64 blocks covers libburn's buffer twice. */
static bool write_range_passed(const Drive *d, int64_t lba, int64_t blocks) {
        return d->reached_lba >= 0 && d->reached_lba > lba + blocks + 64;
}

/* The HRESULT that explains the messages libburn queued since the operation started.
 * libburn's queue is the whole process's and its messages carry no drive (burn_msgs_obtain()):
 * another recorder's failure since then is in the ring too. The explanations a drive can deny
 * are checked against it: a removal counts only if this drive's device is indeed gone, and a
 * failed WRITE (whose sense says loss of streaming, write error, ...) not if this drive's write
 * went on past it. */
static uint32_t classify_failure(Drive *d, char **ret_message) {
        uint32_t hr = IMAPI_E_GENERIC;
        char why_buf[sizeof(((DriveMessage *) NULL)->text)];
        const char *why = NULL;
        int score = 0, r, answers = -1;
        int64_t lba, blocks;

        for (uint64_t seq = d->op_seq + 1, last = drive_message_seq(); seq <= last; seq++) {
                DriveMessage copy, *m = &copy;
                uint32_t h = 0;
                int sc = 0;

                if (!drive_message_get(seq, &copy))
                        continue;
                if (message_write_range(m, &lba, &blocks) && write_range_passed(d, lba, blocks)) {
                        log_debug("libburn's report of a failed WRITE at block %" PRId64 " is another "
                                  "recorder's: %s wrote up to block %" PRId64 ".", lba, d->address,
                                  d->reached_lba);
                        continue;
                }
                /* The most specific explanation wins, whatever came first. */
                if (text_has(m, "[3 0C 09]") || strcasestr(m->text, "loss of streaming"))
                        h = IMAPI_E_LOSS_OF_STREAMING, sc = 9;
                else if (m->code == 0x000201a6 || m->code == 0x0002010c || m->os_errno == ENODEV ||
                         m->os_errno == ENXIO)
                        h = IMAPI_E_DEVICE_NOTPRESENT, sc = 8;
                else if (text_has(m, "[2 3A ") || m->code == 0x0002013a)
                        h = IMAPI_E_MEDIUM_NOTPRESENT, sc = 7;
                /* UNIT ATTENTION, medium may have changed (SPC-4 5.14): another disc. */
                else if (text_has(m, "[6 28 00]"))
                        h = IMAPI_E_WRONGDISC, sc = 7;
                else if (m->code == 0x0002012d || text_has(m, "[5 21 00]") || m->code == 0x00020148 ||
                         m->os_errno == ENOSPC || text_has(m, "[5 63 00]"))
                        h = IMAPI_E_DISCFULL, sc = 6;
                else if (text_has(m, "[7 27 ") || m->code == 0x00020181)
                        h = IMAPI_E_CANNOT_WRITE_TO_MEDIA, sc = 6;
                else if (IN_SET(m->code, 0x0002011e, 0x00020123, 0x0002012b, 0x00020168, 0x00020130))
                        h = IMAPI_E_MEDIUM_INVALIDTYPE, sc = 5;
                else if (m->code == 0x0002011d)
                        h = IMAPI_E_CANNOT_WRITE_TO_MEDIA, sc = 4;
                else if (m->code == 0x0002017e)
                        h = IMAPI_E_INITIALIZE_ENDWRITE, sc = 3;
                else if (m->rank <= 3)
                        h = IMAPI_E_GENERIC, sc = 1;
                if (h == IMAPI_E_DEVICE_NOTPRESENT && sc > score) {
                        if (answers < 0)
                                answers = device_answers(d);
                        if (answers)
                                continue;       /* another recorder's, or a passing glitch */
                }
                if (sc > score) {
                        score = sc;
                        hr = h;
                        memcpy(why_buf, m->text, sizeof why_buf);
                        why = why_buf;
                }
        }
        if (hr == IMAPI_E_GENERIC && d->fifo_starved)
                hr = IMAPI_E_LOSS_OF_STREAMING, why = "the data did not arrive fast enough";
        /* libburn's words for these are about SCSI commands; say what happened to the user. */
        if (hr == IMAPI_E_DEVICE_NOTPRESENT)
                r = asprintf(ret_message, "The recorder stopped answering; it was removed or switched off "
                             "(libburn: %s).", why);
        else if (hr == IMAPI_E_WRONGDISC)
                r = asprintf(ret_message, "The disc was changed while it was being written.");
        else
                r = why ? asprintf(ret_message, "%s", why) : 0;
        if (r < 0)
                *ret_message = NULL;
        return hr;
}

/* libburn leaves a drive's cancel flag set after a cancelled or failed write, and its
 * burn_drive_grab() then gives up at once, every time: the recorder would stay unusable. A new
 * libburn drive object for the same address starts clean (libburn refuses a second object for
 * an address it knows, so the old one is forgotten first). The drive stays grabbed; if the
 * device is gone, it is lost until drive_revive(). */
static void drive_renew(Drive *d) {
        if (drive_is_file(d) || !d->grabbed || d->lost)
                return;
        burn_drive_release(d->info.drive, 0);
        d->grabbed = false;
        drive_forget_info(&d->info, d->array, 1);
        d->array = NULL;
        /* Another process may take the device in the gap; it gives it back soon. */
        if (drive_attach(d, 3) < 0) {
                log_error("Recorder %s cannot be set up again after the failed write; it stays unusable "
                          "until its device is back.", d->address);
                d->lost = true;
        }
}

uint32_t drive_operation_finish(Drive *d, bool cancelled, char **ret_message) {
        bool well = !d->lost && burn_drive_wrote_well(d->info.drive) > 0;
        uint32_t hr = IMAPI_S_OK;

        *ret_message = NULL;
        (void) drive_drain_messages(NULL, NULL);
        if (d->cancelled) {
                d->cancelled = false;
                drive_note_cancel(false);
        }
        if (cancelled)
                hr = IMAPI_E_USERABORT;
        else if (!well)
                hr = classify_failure(d, ret_message);
        else if (d->erasing) {
                /* An erase has no wrote_well of its own; a failure leaves SORRY messages. */
                char *msg = NULL;
                uint32_t h = classify_failure(d, &msg);

                if (msg && h != IMAPI_E_GENERIC) {
                        hr = h;
                        *ret_message = msg;
                } else
                        free(msg);
        }
        drive_free_write_state(d);
        if (IMAPI_HRESULT_FAILED(hr))
                drive_renew(d);
        return hr;
}

int drive_read_blocks(Drive *d, uint32_t lba, void *buf, size_t n_blocks) {
        off_t count = 0;
        int r;

        if (!d->grabbed)
                return -EBADFD;
        wait_idle(d, now_usec(CLOCK_MONOTONIC) + DRIVE_SETTLE_USEC);
        /* bit1: no message on a read error, we report it; bit2: no slow single-block retry. */
        pthread_mutex_lock(&d->io_lock);
        r = burn_read_data(d->info.drive, (off_t) lba * 2048, buf, (off_t) (n_blocks * 2048), &count, 2 | 4);
        pthread_mutex_unlock(&d->io_lock);
        if (r <= 0 || count != (off_t) (n_blocks * 2048))
                return -EIO;
        return 0;
}

int drive_read_head(Drive *d, uint8_t *buf) {
        int capacity = 0;
        size_t n;

        memset(buf, 0, DRIVE_HEAD_BYTES);
        if (!d->grabbed || d->lost)
                return -EBADFD;
        if (burn_get_read_capacity(d->info.drive, &capacity, 0) <= 0 || capacity <= 0)
                return 0;
        n = MIN((size_t) capacity, (size_t) DRIVE_HEAD_BYTES / 2048);
        return drive_read_blocks(d, 0, buf, n);
}

int drive_write_head(Drive *d, const uint8_t *buf) {
        _cleanup_free_ char *copy = NULL;
        int r;

        if (!d->grabbed || d->lost)
                return -EBADFD;
        /* libburn takes a non-const buffer it does not change. */
        copy = malloc(DRIVE_HEAD_BYTES);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, buf, DRIVE_HEAD_BYTES);
        wait_idle(d, now_usec(CLOCK_MONOTONIC) + DRIVE_SETTLE_USEC);
        /* bit0: flush the drive's buffer, so that the head is on the medium when we return. */
        pthread_mutex_lock(&d->io_lock);
        r = burn_random_access_write(d->info.drive, 0, copy, DRIVE_HEAD_BYTES, 1);
        pthread_mutex_unlock(&d->io_lock);
        (void) drive_drain_messages(NULL, NULL);
        return r > 0 ? 0 : -EIO;
}

int drive_invalidate_head(Drive *d) {
        _cleanup_free_ uint8_t *head = malloc(DRIVE_HEAD_BYTES);
        int r;

        if (!head)
                return -ENOMEM;
        r = drive_read_head(d, head);
        if (r < 0)
                return r;
        if (!isohead_invalidate(head))
                return 0;
        return drive_write_head(d, head);
}

int drive_truncate_file(Drive *d, uint64_t blocks) {
        if (!drive_is_file(d))
                return -ENOTTY;
        /* A file never written is as empty as it gets. */
        if (truncate(d->address, (off_t) (blocks * 2048)) < 0 && !(errno == ENOENT && blocks == 0))
                return log_warning_errno(errno, "Cannot cut image file %s to %" PRIu64 " blocks: %m",
                                         d->address, blocks);
        return 0;
}

int drive_reassess(Drive *d) {
        if (!d->grabbed)
                return -EBADFD;
        if (drive_is_file(d))
                return 0;
        /* Right after a write, libburn's thread may not have set IDLE yet: re_assess would
         * refuse ("Drive is busy on attempt to close"). */
        wait_idle(d, now_usec(CLOCK_MONOTONIC) + DRIVE_SETTLE_USEC);
        return burn_drive_re_assess(d->info.drive, 0) > 0 ? 0 : -EIO;
}
