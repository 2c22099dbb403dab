/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The libburn boundary for drives: discovery, grabbing, media state, eject. Nothing outside
 * drive*.c includes libburn.h; libburn's "<= 0 is failure" becomes negative errno or an IMAPI
 * HRESULT (through hresult_to_errno()) here.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Drive Drive;

typedef enum MediaStatus {
        MEDIA_STATUS_UNKNOWN,   /* not grabbed since the last change */
        MEDIA_STATUS_NONE,      /* no medium */
        MEDIA_STATUS_BLANK,
        MEDIA_STATUS_APPENDABLE,
        MEDIA_STATUS_CLOSED,
        MEDIA_STATUS_UNSUITABLE,
} MediaStatus;

typedef struct DriveProfile {
        unsigned number;        /* MMC profile number; 0xFFFF for a stdio: file */
        char name[80];
        bool current;
} DriveProfile;

/* What imapid can do with what the last session (or, on random-access media, the head) holds. */
typedef enum MediaContent {
        MEDIA_CONTENT_NONE,             /* blank, or a closed disc nobody appends to */
        MEDIA_CONTENT_ISO9660,          /* an ISO 9660 volume that a new session can grow */
        MEDIA_CONTENT_FOREIGN,          /* data that is not ISO 9660 (UDF, audio, a raw image...) */
        MEDIA_CONTENT_DAMAGED,          /* an ISO 9660 volume whose directories the medium lacks */
        MEDIA_CONTENT_UNREADABLE,       /* the last session cannot be read */
} MediaContent;

/* Recorded areas: the tracks of a sequential disc, or all of a random-access medium. */
typedef struct MediaRange {
        uint32_t start;
        uint32_t blocks;
} MediaRange;

#define MEDIA_RANGES_MAX 128

typedef struct MediaInfo {
        MediaStatus status;
        unsigned profile;       /* 0 without a medium */
        char profile_name[80];
        bool erasable;          /* imapid can blank or format it (rewritable media, image files) */
        bool is_file;           /* a stdio: pseudo-drive */
        /* Overwriteable media and image files: written at any address, with no table of contents;
         * imapid finds their sessions in ISO 9660 heads (isohead.h), as xorriso does. */
        bool random_access;
        bool unformatted;       /* DVD+RW or BD-RE that must be formatted before use */
        bool can_simulate;      /* the medium takes a test write (CD-R/RW, DVD-R/RW, image files) */
        unsigned sessions;      /* complete sessions on the disc */
        unsigned last_track;    /* last track of the previous session */
        uint32_t start_address; /* start of the last track of the previous session */
        uint32_t next_writable;
        uint32_t free_blocks;   /* 2048-byte blocks after next_writable, as readers report them */
        uint32_t capacity;      /* blocks a new file system from the start may use */
        MediaContent content;
        char content_text[96];  /* what was found, for messages; "" for none */
        /* The last session's ISO 9660 volume is larger than what the medium holds of it, as stock
         * xorriso reports it ("larger than track size"): a burn was cut short there. */
        bool incomplete_session;
        size_t n_readable;
        MediaRange readable[MEDIA_RANGES_MAX];
} MediaInfo;

/* Whether [start, start + blocks) lies within the recorded areas. */
bool drive_media_range_readable(const MediaInfo *m, uint32_t start, uint32_t blocks);

/* libburn is global state: set it up once, before any thread of ours exists. */
int drive_library_init(void);
void drive_library_finish(void);

/* Scans the system's optical drives; returns an array of Drive*, each not grabbed. */
int drive_scan(Drive ***ret, size_t *ret_n);
/* A drive named by a libburn address (e.g. "stdio:/var/tmp/disc.iso" or "/dev/sr0"). */
int drive_new_from_address(const char *address, Drive **ret);
Drive *drive_free(Drive *d);
/* A drive whose device went away (drive_is_lost()) gets a new libburn object once its device is
 * back: 0, or -ENODEV while it is still gone. */
int drive_revive(Drive *d);
bool drive_is_lost(const Drive *d);

const char *drive_get_address(const Drive *d);
const char *drive_get_vendor(const Drive *d);
const char *drive_get_product(const Drive *d);
const char *drive_get_revision(const Drive *d);
bool drive_is_file(const Drive *d);
bool drive_can_write_cdrw(const Drive *d);
bool drive_can_simulate(const Drive *d);

/* Exclusive access. Grabbing fails with -EBUSY when another process holds the device. */
int drive_grab(Drive *d, bool load);
void drive_release(Drive *d, bool eject);
bool drive_is_grabbed(const Drive *d);

/* Needs the drive grabbed. */
int drive_query_media(Drive *d, MediaInfo *ret);
int drive_get_profiles(Drive *d, DriveProfile **ret, size_t *ret_n);
/* Write speeds in kB/s (1000 bytes), ascending, and the current and maximum one. */
int drive_get_write_speeds(Drive *d, uint32_t **ret, size_t *ret_n);
int drive_get_max_write_speed(Drive *d);
bool drive_underrun_free_capable(Drive *d);
int drive_eject(Drive *d);

/* Read-only media (CD-ROM, DVD-ROM, BD-ROM): no recorder writes them. */
bool drive_profile_is_rom(unsigned profile);
/* Overwriteable media (DVD+RW, DVD-RW restricted overwrite, DVD-RAM, BD-RE): written in place,
 * one session, no multi-session by libburn. */
bool drive_profile_is_overwriteable(unsigned profile);
/* kB/s of "1x" for a profile family: CD 176.4 (rounded), DVD 1385, BD 4496. */
unsigned drive_profile_kbps_1x(unsigned profile);
const char *drive_media_status_to_string(MediaStatus s);

/* Logs and forgets what libburn queued for us; returns the last error code seen (0 for none)
 * and the worst severity so callers can tell a failure's cause. */
int drive_drain_messages(int *ret_worst_severity, int *ret_last_code);

static inline void drive_freep(Drive **d) {
        if (*d)
                drive_free(*d);
}

/* Writing an image file (drive-write.c). libburn writes in a thread of its own; the caller
 * polls. */
typedef struct DriveWriteOptions {
        bool simulate;
        bool multi;             /* leave the disc appendable for another session */
        int speed_kbps;         /* 0: the highest */
        int underrun_proof;     /* -1: the drive's default, 0: off, 1: on if the drive has it */
        int64_t start_lba;      /* random-access media: where the track goes; -1: libburn's choice */
} DriveWriteOptions;

typedef struct DriveProgress {
        bool active;            /* false once libburn is idle again */
        bool closing;           /* closing track, session or disc */
        uint64_t sectors_done, sectors_total;
        double fifo_fill;       /* 0..1, -1 unknown */
        double drive_buffer_fill; /* 0..1, -1 unknown (stale while the source stalls) */
        int track;              /* the track being written, from 0 (sectors_* count within it) */
} DriveProgress;

/* Starts writing image_path (whole 2048-byte blocks) as one data track. Fails with an HRESULT
 * errno (hresult_to_errno) and a message in *ret_reason (malloc'ed) when libburn refuses the
 * job for this medium. */
int drive_write_start(Drive *d, const char *image_path, const DriveWriteOptions *o, char **ret_reason);
/* The same from a stream instead of a file (an image generated as it is written): read() is
 * called from the write buffer's thread for the next `blocks` 2048-byte blocks, never more than are
 * left, and returns 0 or a negative errno, which makes the write fail (the caller keeps why).
 * The stream must stay valid until drive_operation_finish(). */
typedef struct DriveStream {
        uint64_t blocks;
        int (*read)(uint8_t *buf, size_t blocks, void *userdata);
        void *userdata;
} DriveStream;
int drive_write_stream_start(Drive *d, const DriveStream *stream, const DriveWriteOptions *o, char **ret_reason);
/* Blanks a CD-RW or a DVD-RW (minimal or full). */
int drive_erase_start(Drive *d, bool full);
/* Formats a DVD+RW, BD-RE, DVD-RAM or DVD-RW (a sequential one becomes restricted overwrite):
 * reformat: also a formatted one, to its full size. Poll and finish as an erase. */
int drive_format_start(Drive *d, bool reformat);
/* The starts above (drive_write_start() and the others) return -EAGAIN when libburn's thread
 * of the drive's previous operation still has the drive: everything is set up, and
 * drive_start_wait() tries again every 10 ms until the drive takes it (0), *cancel is set
 * (NULL: never; -ECANCELED, with the set-up freed), or 5 s have gone by: then the set-up is
 * freed, *ret_reason says why and the error is IMAPI_E_DEVICE_STILL_IN_USE's (hresult_to_errno).
 * The starts may talk to the drive and wait for it (a write's: the speed, the medium's formats,
 * libburn's checks): they are called in workers, as is this.
 * drive_cancel() does nothing before the start, drive_cancel_sync() abandons it. */
int drive_start_wait(Drive *d, const volatile bool *cancel, char **ret_reason);
/* Fills *ret; returns whether the operation is still going on. */
bool drive_poll(Drive *d, DriveProgress *ret);
void drive_cancel(Drive *d);
/* At exit, with no event loop to poll from: cancels the write or erase, waits (30 s at most)
 * for libburn's thread to let the drive go, and drops the outcome. */
void drive_cancel_sync(Drive *d);
/* After drive_poll() returned false: the outcome as an HRESULT, with a sentence describing
 * a failure (malloc'ed, NULL on success). Frees the write state. */
uint32_t drive_operation_finish(Drive *d, bool cancelled, char **ret_message);
/* Reads 2048-byte blocks from a data track (for verification); callable from a worker thread
 * while nothing else uses the drive. */
int drive_read_blocks(Drive *d, uint32_t lba, void *buf, size_t n_blocks);
/* Reading a data disc for a copy (drive-read.c), from a worker while the job holds the drive.
 * The ISO 9660 volume of the last session (m as drive_query_media() found it): its size in
 * blocks, counted from block 0 as a reader does; -ENOMEDIUM when there is none, -ENODATA when
 * its descriptor lies outside the recorded areas. */
int drive_read_volume_blocks(Drive *d, const MediaInfo *m, uint32_t *ret_blocks, char *ret_volume_id,
                             size_t volume_id_size);
/* The first block after the last recorded area. */
uint32_t drive_media_readable_end(const MediaInfo *m);
/* n blocks from lba: blocks outside the recorded areas read as zeros; a block that fails
 * DRIVE_READ_ATTEMPTS reads is named in *ret_bad_lba (-EIO, or -ENODEV if the drive went). */
#define DRIVE_READ_ATTEMPTS 3u
int drive_read_copy_blocks(Drive *d, const MediaInfo *m, uint32_t lba, uint8_t *buf, size_t n,
                           uint32_t *ret_bad_lba);
/* Re-reads the medium after a write or erase, once libburn's thread let it go (5 s at most):
 * from a worker while nothing else uses the drive. */
int drive_reassess(Drive *d);

/* The head of random-access media (MediaInfo.random_access, isohead.h): their first 64 KiB.
 * These run in a worker while the job holds the drive. Reading zero-fills what the medium does
 * not have. Writing flushes the drive's buffer before it returns; it fails with -EIO. */
#define DRIVE_HEAD_BYTES (32u * 2048u)
int drive_read_head(Drive *d, uint8_t *buf);
int drive_write_head(Drive *d, const uint8_t *buf);
/* Makes the file system on random-access media invisible to readers (its volume descriptors
 * renamed, as xorriso's blanking does); the data stays. 0 also when there was none. */
int drive_invalidate_head(Drive *d);
/* An image file is cut to `blocks` blocks, so that a file system written from its start does
 * not keep the tail of a larger one. */
int drive_truncate_file(Drive *d, uint64_t blocks);

/* Audio CDs (drive-audio.c). */
typedef struct DriveAudioTrack {
        const char *path;       /* raw CD-DA: little-endian 16-bit stereo, whole 2352-byte blocks */
        uint64_t blocks;
        const char *title, *performer;  /* CD-TEXT in ISO-8859-1; NULL: none */
        unsigned pregap;        /* blocks of gap before it (0 for the first track) */
} DriveAudioTrack;

typedef struct DriveAudioOptions {
        DriveWriteOptions write;
        bool tao;               /* track-at-once; otherwise disc-at-once */
        unsigned gap;           /* for the log: the recorder's gap (each track has its own) */
        /* CD-TEXT (disc-at-once only), ISO-8859-1: block 0, English. With cdtext false the
         * tracks' texts are ignored too. */
        bool cdtext;
        const char *album_title, *album_performer;
} DriveAudioOptions;

/* Whether the drive can write CD-TEXT: the R-W sub-channel in the lead-in of a disc-at-once
 * write (GET CONFIGURATION feature 002Eh, CD Mastering, bit R-W; MMC-5 5.3.25). */
bool drive_can_write_cdtext(Drive *d);

/* Starts writing the tracks as one closed audio session. In SAO a track's gap is its pre-gap
 * (index 0); in TAO, where libburn writes no pre-gaps, it is silence after the track before.
 * Errors as drive_write_start(); poll and finish with drive_poll()/drive_operation_finish(). */
int drive_write_audio_start(Drive *d, const DriveAudioTrack *tracks, size_t n, const DriveAudioOptions *o,
                            char **ret_reason);
/* Start addresses (LBA of index 1) of the tracks of the first session, after drive_reassess(). */
int drive_audio_track_starts(Drive *d, int32_t **ret, size_t *ret_n);
/* Reads raw 2352-byte audio sectors (READ CD); callable from a worker while nothing else uses
 * the drive. */
int drive_read_audio(Drive *d, int32_t lba, void *buf, size_t n_blocks);

/* Reading an audio CD for a copy (drive-audio-read.c), from a worker while the job holds the
 * drive. */
#define DRIVE_AUDIO_DISC_TRACKS_MAX 99
typedef struct DriveAudioDiscTrack {
        int32_t start;          /* LBA of index 1 */
        uint32_t blocks;        /* as the drive reports the track's size */
} DriveAudioDiscTrack;

typedef struct DriveAudioDisc {
        DriveAudioDiscTrack tracks[DRIVE_AUDIO_DISC_TRACKS_MAX];
        size_t n;
        uint8_t *text_packs;    /* the lead-in's CD-TEXT: packs of 18 bytes; NULL: none */
        size_t n_text_packs;
} DriveAudioDisc;

/* The tracks of an audio CD and its CD-TEXT: -ENOMEDIUM when the disc has a data track (or
 * none), -ENODEV when the drive went. Free with drive_audio_disc_done(). */
int drive_read_audio_disc(Drive *d, DriveAudioDisc *ret);
void drive_audio_disc_done(DriveAudioDisc *disc);
/* n raw sectors from lba; a sector that fails DRIVE_READ_ATTEMPTS reads is named in *ret_bad_lba
 * (-EIO, or -ENODEV if the drive went). */
int drive_read_audio_copy(Drive *d, int32_t lba, uint8_t *buf, size_t n, int32_t *ret_bad_lba);
