/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The emulated drive: its configuration, the medium in it, the fault set
 * and the command entry point.  Everything here is independent of how the
 * commands arrive (SG_IO through interpose.c, or directly from the unit
 * test), so the MMC answers can be tested without LD_PRELOAD.
 */
#pragma once

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define EMU_MAX_DRIVES   16
#define EMU_MAX_TRACKS   99
#define EMU_MAX_SESSIONS 99
#define EMU_MAX_SPEEDS   8
/* CD-TEXT: 8 language blocks of at most 256 packs (253 text, 3 size info) of 18 bytes. */
#define EMU_MAX_TEXT_PACKS 2048
#define EMU_TEXT_PACK 18

#define _cleanup_(f) __attribute__((cleanup(f)))

typedef enum MediumType {
        MEDIUM_NONE,
        MEDIUM_CD_ROM,
        MEDIUM_CD_R,
        MEDIUM_CD_RW,
        MEDIUM_DVD_R,
        MEDIUM_DVD_RW,          /* Sequential recording (0014h) */
        MEDIUM_DVD_RW_RO,       /* the same disc formatted to Restricted Overwrite (0013h) */
        MEDIUM_DVD_PLUS_R,
        MEDIUM_DVD_PLUS_RW,
        MEDIUM_BD_R,
        MEDIUM_BD_RE,
        _MEDIUM_MAX,
} MediumType;

typedef struct Track {
        int number;
        int session;
        int32_t start;          /* LBA of index 1 */
        int32_t size;           /* blocks reported in the TOC / RTI */
        int32_t written;        /* blocks recorded so far (NWA - start) */
        int block_size;         /* 2048 data, 2352 audio */
        int control;            /* TOC CONTROL nibble: 4 data, 0 audio */
        bool open;              /* incomplete (being written / reserved) */
        bool reserved;          /* RESERVE TRACK or cue sheet fixed its size */
} Track;

typedef struct Medium {
        MediumType type;
        int32_t capacity;       /* user blocks (CD: last possible lead-out LBA) */
        bool formatted;         /* DVD+RW / BD-RE; a DVD-RW in Restricted Overwrite always is */
        int32_t formatted_blocks; /* DVD-RW Restricted Overwrite: size of the formatted area */
        bool intermediate;      /* ... quick-formatted, growing sequentially until CLOSE SESSION */
        bool closed;            /* no further session possible */
        bool last_session_open; /* tracks recorded in a not yet closed session */
        int n_sessions;         /* sessions holding at least one track */
        int n_tracks;
        Track tracks[EMU_MAX_TRACKS];
        int n_text;             /* CD-TEXT packs recorded in the lead-in (one cycle) */
        uint8_t text[EMU_MAX_TEXT_PACKS][EMU_TEXT_PACK];
} Medium;

#define FAULT_LBA_OFF INT64_MIN

/* Faults, from <drive>/faults (see README.md). */
typedef struct Faults {
        bool no_medium;
        bool tray_open;
        bool medium_changed;
        bool busy;
        bool removed;
        bool write_protect;
        int64_t loss_of_streaming_lba;  /* FAULT_LBA_OFF = off */
        int64_t write_error_lba;        /* FAULT_LBA_OFF = off */
        int64_t corrupt_lba;            /* FAULT_LBA_OFF = off */
        int64_t read_error_lba;         /* READ fails there: 3/11/00; FAULT_LBA_OFF = off */
        int slow_ms;                    /* every command takes this long (a drive spinning up) */
        int slow_op;                    /* only this operation code is slow; -1: every one */
} Faults;

typedef struct DriveConfig {
        char vendor[9];
        char product[17];
        char revision[5];
        int speeds[EMU_MAX_SPEEDS];     /* write speeds in kB/s (1000 bytes) */
        int n_speeds;
        int buffer_kib;
        int write_rate;                 /* modelled physical write rate kB/s, 0 = unlimited */
        bool burnfree;                  /* page 2A BUF bit */
        double erase_seconds;           /* duration of a BLANK or FORMAT UNIT, 0 = instant */
        bool buffer_record;             /* append the buffer's fill at every WRITE to <dir>/buffer.log */
        bool cdtext;                    /* feature 002Eh R-W: writes CD-TEXT in the SAO lead-in */
} DriveConfig;

typedef struct WriteBuffer {
        uint64_t capacity;      /* bytes */
        double fill;            /* bytes */
        double rate;            /* bytes per second, 0 = drains instantly */
        bool draining;          /* the "laser" is on */
        bool underrun;          /* drained empty while BUFE off */
        double last;            /* monotonic seconds of last update */
        FILE *record;           /* buffer.log, or NULL */
} WriteBuffer;

typedef struct CueEntry {
        uint8_t ctl_adr, tno, index, form;
        int32_t lba;
} CueEntry;

typedef struct Drive {
        pthread_mutex_t lock;
        int index;
        char dir[PATH_MAX];             /* <state>/srN */
        DriveConfig cfg;
        Medium m;
        bool tray_open;                 /* opened by START STOP UNIT eject */
        bool prevent;
        Faults faults;
        struct timespec faults_mtime;
        ino_t faults_ino;
        off_t faults_size;
        /* identity of the drive file as last read */
        struct timespec config_mtime;
        ino_t config_ino;
        off_t config_size;
        bool unit_attention;
        uint8_t page05[60];
        int cur_write_speed;
        WriteBuffer buf;
        CueEntry cue[3 * EMU_MAX_TRACKS + 4];
        int n_cue;
        bool sao_pending;
        /* CD-TEXT packs of the lead-in being written, as they arrived; the first cycle of
         * them goes to the medium when the session is closed */
        uint8_t leadin[2 * EMU_MAX_TEXT_PACKS][EMU_TEXT_PACK];
        int n_leadin;
        bool dirty;
        double op_start, op_end;        /* a BLANK/FORMAT with Immed is "running" meanwhile */
        /* identity of the medium file as last loaded or saved here */
        ino_t medium_ino;
        off_t medium_size;
        struct timespec medium_mtime;
} Drive;

enum { EMU_DIR_NONE, EMU_DIR_TO_DEV, EMU_DIR_FROM_DEV };

typedef struct MmcCommand {
        const uint8_t *cdb;
        size_t cdb_len;
        int dir;
        uint8_t *data;
        size_t data_len;
        /* results */
        uint8_t status;         /* SCSI status: 0 GOOD, 2 CHECK CONDITION */
        uint8_t sense[18];
        size_t sense_len;
        size_t resid;
} MmcCommand;

/* config.c */
int drive_config_load(Drive *d);
int faults_parse_line(Faults *f, const char *line);
void faults_reset(Faults *f);
bool drive_refresh_faults(Drive *d);
bool drive_refresh_write_rate(Drive *d);
bool drive_dir_removed(const char *dir);
MediumType medium_type_from_name(const char *name);
const char *medium_type_name(MediumType t);

/* medium.c */
int medium_load(Drive *d);
int medium_save(Drive *d);
bool medium_replaced(Drive *d);
bool medium_is_cd(MediumType t);
bool medium_is_dvd(MediumType t);
bool medium_is_bd(MediumType t);
bool medium_is_overwritable(MediumType t);
bool medium_is_erasable(MediumType t);
bool medium_is_writable(MediumType t);
int medium_profile(MediumType t);
int32_t medium_default_capacity(MediumType t);
int32_t medium_nwa(const Medium *m);
int medium_current_session(const Medium *m);
Track *medium_find_track(Medium *m, int32_t lba);
Track *medium_open_track(Medium *m);
int medium_write(Drive *d, Track *t, int32_t lba, const uint8_t *data, int32_t blocks, int bs);
int medium_read(Drive *d, Track *t, int32_t lba, uint8_t *data, int32_t blocks, int bs);
void medium_close_track(Medium *m, Track *t);
void medium_close_session(Medium *m, bool final);
int medium_blank(Drive *d);
int32_t medium_readable_blocks(const Medium *m);
int32_t medium_formatted_blocks(const Medium *m);
int32_t medium_max_format_blocks(const Medium *m);
void medium_grow_formatted(Medium *m, int32_t end);
void medium_format_restricted_overwrite(Drive *d, int32_t blocks, bool intermediate, bool erase);
ssize_t medium_pread(Drive *d, void *data, size_t n, off_t off);
void track_path(const Drive *d, int number, char *buf, size_t len);
void medium_take_leadin_text(Drive *d);

/* buffer.c */
void buffer_init(WriteBuffer *b, int kib, int rate_kbs, FILE *record);
void buffer_update(WriteBuffer *b, bool bufe);
int buffer_add(WriteBuffer *b, size_t bytes, bool bufe);
void buffer_flush(WriteBuffer *b);
void buffer_set_rate(WriteBuffer *b, int rate_kbs, bool bufe);
uint64_t buffer_free(WriteBuffer *b, bool bufe);
/* buffer_free() for READ BUFFER CAPACITY, which the record notes. */
uint64_t buffer_report(WriteBuffer *b, bool bufe);

/* mmc.c */
void mmc_execute(Drive *d, MmcCommand *c);
/* d: zeroed memory. Not cleared here, so that pages of it no drive uses stay untouched. */
void drive_init(Drive *d, const char *dir, int index);
bool drive_has_medium(Drive *d);
