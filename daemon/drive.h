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

typedef struct MediaInfo {
        MediaStatus status;
        unsigned profile;       /* 0 without a medium */
        char profile_name[80];
        bool erasable;
        bool is_file;           /* a stdio: pseudo-drive */
        unsigned sessions;      /* complete sessions on the disc */
        unsigned last_track;    /* last track of the previous session */
        uint32_t start_address; /* start of the last track of the previous session */
        uint32_t next_writable;
        uint32_t free_blocks;   /* 2048-byte blocks */
} MediaInfo;

/* libburn is global state: set it up once, before any thread of ours exists. */
int drive_library_init(void);
void drive_library_finish(void);

/* Scans the system's optical drives; returns an array of Drive*, each not grabbed. */
int drive_scan(Drive ***ret, size_t *ret_n);
/* A drive named by a libburn address (e.g. "stdio:/var/tmp/disc.iso" or "/dev/sr0"). */
int drive_new_from_address(const char *address, Drive **ret);
Drive *drive_free(Drive *d);

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

/* kB/s of "1x" for a profile family: CD 176.4 (rounded), DVD 1385, BD 4496. */
unsigned drive_profile_kbps_1x(unsigned profile);
const char *media_status_to_string(MediaStatus s);

/* Logs and forgets what libburn queued for us; returns the last error code seen (0 for none)
 * and the worst severity so callers can tell a failure's cause. */
int drive_drain_messages(int *ret_worst_severity, int *ret_last_code);

static inline void drive_freep(Drive **d) {
        if (*d)
                drive_free(*d);
}
