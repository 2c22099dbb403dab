/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * MMC/SPC command dispatch: answers one CDB from the drive's state.
 * Response layouts follow MMC-6 (T10/1836-D rev 2g) chapter 6 and SPC-4;
 * the fields libburn reads are listed in libburn-notes.md section 2.
 * Errors are CHECK CONDITION with fixed-format sense (SPC-4 4.5.3), which
 * is what ATAPI drives return and what libburn decodes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emu.h"
#include "sense.h"

/* The largest reply: READ TOC format 5 with eight full CD-TEXT blocks. */
#define REPLY_MAX (4 + EMU_MAX_TEXT_PACKS * EMU_TEXT_PACK)

static uint16_t get16(const uint8_t *p) { return (p[0] << 8) | p[1]; }
static uint32_t get24(const uint8_t *p) { return (p[0] << 16) | (p[1] << 8) | p[2]; }
static uint32_t get32(const uint8_t *p) { return ((uint32_t) p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]; }
static void put16(uint8_t *p, uint32_t v) { p[0] = v >> 8; p[1] = v; }
static void put24(uint8_t *p, uint32_t v) { p[0] = v >> 16; p[1] = v >> 8; p[2] = v; }
static void put32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }

/* MSF addressing: LBA 0 is 00:02:00; lead-in addresses wrap (MMC-6 4.2.3.4). */
static void lba_to_msf(int32_t lba, uint8_t *msf) {
        int32_t v = lba >= -150 ? lba + 150 : lba + 450150;

        msf[0] = v / (60 * 75);
        msf[1] = (v / 75) % 60;
        msf[2] = v % 75;
}

static int32_t msf_to_lba(uint8_t m, uint8_t s, uint8_t f) {
        int32_t v = (m * 60 + s) * 75 + f;

        return m >= 90 ? v - 450150 : v - 150;
}

static void put_addr(uint8_t *p, int32_t lba, bool msf) {
        if (msf) {
                p[0] = 0;
                lba_to_msf(lba, p + 1);
        } else
                put32(p, (uint32_t) lba);
}

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * BLANK and FORMAT UNIT take erase_seconds.  With Immed the command returns
 * at once and the drive stays NOT READY, 2/04/07 with the progress in the
 * sense-key specific bytes, until done (MMC-6 6.2.2, 6.5.2; SPC-4 4.5.2.4.4);
 * without Immed the command itself takes that long.
 */
static void start_long_operation(Drive *d, bool immed) {
        struct timespec ts;
        double s = d->cfg.erase_seconds;

        if (s <= 0)
                return;
        if (immed) {
                d->op_start = now();
                d->op_end = d->op_start + s;
                return;
        }
        ts.tv_sec = (time_t) s;
        ts.tv_nsec = (long) ((s - ts.tv_sec) * 1e9);
        nanosleep(&ts, NULL);
}

/* 0..65535 while a long operation runs, -1 when none does. */
static int long_operation_progress(Drive *d) {
        double t;

        if (d->op_end <= 0)
                return -1;
        t = now();
        if (t >= d->op_end) {
                d->op_start = d->op_end = 0;
                return -1;
        }
        return (int) ((t - d->op_start) / (d->op_end - d->op_start) * 65536);
}

bool drive_has_medium(Drive *d) {
        return d->m.type != MEDIUM_NONE && !d->faults.no_medium && !d->faults.tray_open && !d->tray_open;
}

static int no_medium_sense(Drive *d) {
        return d->faults.tray_open || d->tray_open ? S_NO_MEDIUM_TRAY_OPEN : S_NO_MEDIUM_TRAY_CLOSED;
}

static bool bufe(Drive *d) {
        return d->page05[2] & 0x40;
}

static bool test_write(Drive *d) {
        return d->page05[2] & 0x10;
}

/* Page 05h byte 3 bits 7-6: 11b = the next session is allowed (MMC-6 7.5.4.8). */
static bool multisession(Drive *d) {
        return (d->page05[3] >> 6) == 3;
}

static int default_speeds(Drive *d, int *out) {
        static const int cd[] = { 1764, 4234, 7056 }, dvd[] = { 5540, 11080, 22160 },
                         bd[] = { 8990, 17980, 26970 };
        const int *s = cd;

        if (d->cfg.n_speeds > 0) {
                memcpy(out, d->cfg.speeds, sizeof(int) * d->cfg.n_speeds);
                return d->cfg.n_speeds;
        }
        if (medium_is_dvd(d->m.type))
                s = dvd;
        else if (medium_is_bd(d->m.type))
                s = bd;
        memcpy(out, s, sizeof cd);
        return 3;
}

static int max_speed(Drive *d) {
        int s[EMU_MAX_SPEEDS], n = default_speeds(d, s), m = 0;

        for (int i = 0; i < n; i++)
                if (s[i] > m)
                        m = s[i];
        return m;
}

/* The write buffer, empty; its record file, when asked for, stays open across a change of disc. */
static void drive_buffer_init(Drive *d) {
        FILE *f = d->buf.record;

        if (!f && d->cfg.buffer_record) {
                char path[PATH_MAX + 16];

                snprintf(path, sizeof path, "%s/buffer.log", d->dir);
                f = fopen(path, "ae");
                if (f)
                        setvbuf(f, NULL, _IOLBF, 0);
        }
        buffer_init(&d->buf, d->cfg.buffer_kib, d->cfg.write_rate, f);
}

void drive_init(Drive *d, const char *dir, int index) {
        pthread_mutex_init(&d->lock, NULL);
        d->index = index;
        snprintf(d->dir, sizeof d->dir, "%s", dir);
        (void) drive_config_load(d);
        (void) medium_load(d);
        faults_reset(&d->faults);
        (void) drive_refresh_faults(d);
        d->unit_attention = false;
        drive_buffer_init(d);
        /* Default write parameters page: TAO, Mode 1, no multi-session. */
        d->page05[0] = 0x05;
        d->page05[1] = 0x32;
        d->page05[2] = 0x01 | (d->cfg.burnfree ? 0x40 : 0);
        d->page05[3] = 0x04;
        d->page05[4] = 0x08;
        put16(d->page05 + 14, 150);
        d->cur_write_speed = max_speed(d);
}

/* ---------------------------------------------------------------- inquiry */

static int cmd_inquiry(Drive *d, const uint8_t *cdb, uint8_t *r, size_t *len) {
        if (cdb[1] & 1) {
                /* Vital product data: supported pages and unit serial number (SPC-4 7.8). */
                r[0] = 0x05;
                r[1] = cdb[2];
                if (cdb[2] == 0x00) {
                        r[3] = 2;
                        r[4] = 0x00;
                        r[5] = 0x80;
                        *len = 6;
                } else if (cdb[2] == 0x80) {
                        r[3] = 8;
                        snprintf((char *) r + 4, 9, "EMU%05d", d->index);
                        *len = 12;
                } else
                        return S_INVALID_FIELD_CDB;
                return 0;
        }
        if (cdb[2] != 0)
                return S_INVALID_FIELD_CDB;
        r[0] = 0x05;            /* peripheral device type: CD/DVD (MMC) */
        r[1] = 0x80;            /* removable medium */
        r[2] = 0x05;            /* SPC-3 */
        r[3] = 0x32;            /* HiSup, response data format 2 */
        r[4] = 96 - 5;
        memcpy(r + 8, d->cfg.vendor, 8);
        memcpy(r + 16, d->cfg.product, 16);
        memcpy(r + 32, d->cfg.revision, 4);
        *len = 96;
        return 0;
}

/* ------------------------------------------------------ GET CONFIGURATION */

static const int all_profiles[] = { 0x43, 0x41, 0x40, 0x1b, 0x1a, 0x14, 0x13, 0x11, 0x10, 0x0a, 0x09, 0x08 };

static uint8_t *feature(uint8_t *p, int code, int version, bool current, int add_len) {
        put16(p, code);
        p[2] = (version << 2) | 0x02 * (code < 0x0010 || code >= 0x0100) | (current ? 1 : 0);
        p[3] = add_len;
        return p + 4;
}

static size_t build_configuration(Drive *d, uint8_t *r) {
        MediumType t = drive_has_medium(d) ? d->m.type : MEDIUM_NONE;
        int cur = medium_profile(t);
        bool cd = medium_is_cd(t), dvd = medium_is_dvd(t), bd = medium_is_bd(t);
        uint8_t *p = r + 8, *f;

        put16(r + 6, cur);

        /* 0000h Profile List (MMC-6 5.3.1) */
        f = feature(p, 0x0000, 0, true, 4 * (int) (sizeof all_profiles / sizeof all_profiles[0]));
        for (size_t i = 0; i < sizeof all_profiles / sizeof all_profiles[0]; i++, f += 4) {
                put16(f, all_profiles[i]);
                f[2] = all_profiles[i] == cur;
        }
        p = f;

        /* 0001h Core: ATAPI, DBE */
        f = feature(p, 0x0001, 2, true, 8);
        put32(f, 0x00000002);
        f[4] = 0x01;
        p = f + 8;

        /* 0002h Morphing: OCEvent (GET EVENT STATUS polling supported) */
        f = feature(p, 0x0002, 1, true, 4);
        f[0] = 0x02;
        p = f + 4;

        /* 0003h Removable Medium: tray, eject, lock */
        f = feature(p, 0x0003, 0, true, 4);
        f[0] = 0x20 | 0x08 | 0x01;
        p = f + 4;

        /* 0010h Random Readable */
        f = feature(p, 0x0010, 0, t != MEDIUM_NONE, 8);
        put32(f, 2048);
        put16(f + 4, cd ? 1 : bd ? 32 : 16);
        p = f + 8;

        /* 001Dh Multi-Read, 001Eh CD Read, 001Fh DVD Read */
        p = feature(p, 0x001d, 0, cd, 0);
        f = feature(p, 0x001e, 2, cd, 4);
        p = f + 4;
        f = feature(p, 0x001f, 1, dvd, 4);
        p = f + 4;

        /* 0020h Random Writable: DVD+RW, BD-RE; not DVD-RW, which is written in whole ECC blocks */
        f = feature(p, 0x0020, 0, (t == MEDIUM_DVD_PLUS_RW || t == MEDIUM_BD_RE) && d->m.formatted, 12);
        put32(f, d->m.capacity > 0 ? d->m.capacity - 1 : 0);
        put32(f + 4, 2048);
        put16(f + 8, bd ? 32 : 16);
        p = f + 12;

        /*
         * 0021h Incremental Streaming Writable: libburn needs it current for
         * DVD-R(W) incremental and multi-session; link size 7 on CD, 16 on DVD.
         */
        f = feature(p, 0x0021, 1, t == MEDIUM_CD_R || t == MEDIUM_CD_RW || t == MEDIUM_DVD_R ||
                    t == MEDIUM_DVD_RW, 8);
        put16(f, 0x0001 | 0x0100);      /* data block types 0 (raw) and 8 (Mode 1) */
        f[2] = d->cfg.burnfree ? 0x01 : 0;
        f[3] = 1;
        f[4] = dvd ? 16 : 7;
        p = f + 8;

        /* 0023h Formattable: a DVD-RW in either recording mode can be (re)formatted */
        f = feature(p, 0x0023, 0, t == MEDIUM_DVD_RW || t == MEDIUM_DVD_RW_RO || t == MEDIUM_DVD_PLUS_RW ||
                    t == MEDIUM_BD_RE || t == MEDIUM_BD_R, 8);
        p = f + 8;

        /* 0026h Restricted Overwrite: writes of whole blocking units anywhere in the formatted area */
        p = feature(p, 0x0026, 0, t == MEDIUM_DVD_RW_RO, 0);

        /* 0027h CD-RW CAV Write */
        f = feature(p, 0x0027, 0, t == MEDIUM_CD_RW, 4);
        p = f + 4;

        /* 002Ah DVD+RW, 002Bh DVD+R */
        f = feature(p, 0x002a, 1, t == MEDIUM_DVD_PLUS_RW, 4);
        f[0] = 0x01;
        p = f + 4;
        f = feature(p, 0x002b, 0, t == MEDIUM_DVD_PLUS_R, 4);
        f[0] = 0x01;
        p = f + 4;

        /* 002Ch Rigid Restricted Overwrite (MMC-5 5.3.22, in profile 0013h): Blank, Intermediate */
        f = feature(p, 0x002c, 1, t == MEDIUM_DVD_RW_RO, 4);
        f[0] = 0x02 | 0x01;
        p = f + 4;

        /* 002Dh CD Track at Once: BUF, test write, CD-RW */
        f = feature(p, 0x002d, 2, t == MEDIUM_CD_R || t == MEDIUM_CD_RW, 4);
        f[0] = (d->cfg.burnfree ? 0x40 : 0) | 0x04 | 0x02;
        put16(f + 2, 0x0001 | 0x0100);
        p = f + 4;

        /* 002Eh CD Mastering (SAO): BUF, SAO, test write, CD-RW, and R-W (MMC-5 5.3.25): the
         * R-W sub-channel in the lead-in, which is where CD-TEXT goes */
        f = feature(p, 0x002e, 1, t == MEDIUM_CD_R || t == MEDIUM_CD_RW, 4);
        f[0] = (d->cfg.burnfree ? 0x40 : 0) | 0x20 | 0x04 | 0x02 | (d->cfg.cdtext ? 0x01 : 0);
        put24(f + 1, 0x00ffff);
        p = f + 4;

        /* 002Fh DVD-R/-RW Write */
        f = feature(p, 0x002f, 2, t == MEDIUM_DVD_R || t == MEDIUM_DVD_RW, 4);
        f[0] = (d->cfg.burnfree ? 0x40 : 0) | 0x04 | 0x02;
        p = f + 4;

        /* 0040h BD Read, 0041h BD Write */
        f = feature(p, 0x0040, 0, bd, 28);
        memset(f + 4, 0xff, 24);
        p = f + 28;
        f = feature(p, 0x0041, 1, t == MEDIUM_BD_R || t == MEDIUM_BD_RE, 20);
        memset(f + 4, 0xff, 16);
        p = f + 20;

        /* 0100h Power Management */
        p = feature(p, 0x0100, 0, true, 0);

        /* 0107h Real Time Streaming: SW, WSPD, MP2A, SCS, RBCB -> GET PERFORMANCE is used */
        f = feature(p, 0x0107, 4, true, 4);
        f[0] = 0x1f;
        p = f + 4;

        /* 0108h Drive Serial Number */
        f = feature(p, 0x0108, 0, true, 8);
        snprintf((char *) f, 9, "EMU%05d", d->index);
        p = f + 8;

        put32(r, (uint32_t) (p - r - 4));
        return p - r;
}

static int cmd_get_configuration(Drive *d, const uint8_t *cdb, uint8_t *r, size_t *len) {
        uint8_t all[REPLY_MAX];
        int rt = cdb[1] & 3, start = get16(cdb + 2);
        size_t n = build_configuration(d, all), out = 8;

        /* Filter by RT and Starting Feature Number (MMC-6 6.6.2). */
        memcpy(r, all, 8);
        for (size_t i = 8; i + 4 <= n;) {
                int code = get16(all + i);
                size_t flen = 4 + all[i + 3];
                bool take = code >= start;

                if (rt == 1 && !(all[i + 2] & 1))
                        take = false;
                if (rt == 2 && code != start)
                        take = false;
                if (take) {
                        memcpy(r + out, all + i, flen);
                        out += flen;
                }
                i += flen;
        }
        put32(r, (uint32_t) (out - 4));
        *len = out;
        return 0;
}

/* ------------------------------------------------------------ mode pages */

static size_t page_2a(Drive *d, uint8_t *p) {
        int s[EMU_MAX_SPEEDS], n = default_speeds(d, s), top = max_speed(d);

        p[0] = 0x2a;
        p[1] = 30 + 4 * n;     /* page is 32 + 4n bytes */
        p[2] = 0x3b;            /* reads CD-R, CD-RW, method 2, DVD-ROM, DVD-R */
        p[3] = 0x17;            /* writes CD-R, CD-RW, DVD-R; test write */
        p[4] = (d->cfg.burnfree ? 0x80 : 0) | 0x40 | 0x01;  /* BUF, multi-session, audio play */
        p[5] = 0x03;            /* CD-DA commands, accurate stream */
        p[6] = 0x20 | 0x08 | 0x01 | (d->prevent ? 0x02 : 0);  /* tray, eject, lock (state) */
        put16(p + 8, top);
        put16(p + 10, 256);
        put16(p + 12, d->cfg.buffer_kib);
        put16(p + 14, top);
        put16(p + 18, top);
        put16(p + 20, d->cur_write_speed);
        put16(p + 28, d->cur_write_speed);
        put16(p + 30, n);
        for (int i = 0; i < n; i++)
                put16(p + 32 + 4 * i + 2, s[i]);
        return 32 + 4 * n;
}

static size_t page_01(uint8_t *p) {
        p[0] = 0x01;
        p[1] = 0x0a;
        p[2] = 0x80;            /* AWRE */
        p[3] = 0x20;            /* read retry count */
        return 12;
}

static int cmd_mode_sense10(Drive *d, const uint8_t *cdb, uint8_t *r, size_t *len) {
        int page = cdb[2] & 0x3f;
        uint8_t *p = r + 8;

        if (page == 0x01 || page == 0x3f)
                p += page_01(p);
        if (page == 0x05 || page == 0x3f) {
                memcpy(p, d->page05, 52);
                p += 52;
        }
        if (page == 0x2a || page == 0x3f)
                p += page_2a(d, p);
        if (p == r + 8)
                return S_INVALID_FIELD_CDB;
        put16(r, (uint32_t) (p - r - 2));
        if (d->faults.write_protect || d->m.type == MEDIUM_CD_ROM)
                r[3] = 0x80;    /* WP in the device-specific parameter (SPC-4 7.5.5) */
        *len = p - r;
        return 0;
}

static int cmd_mode_select10(Drive *d, const uint8_t *cdb, const uint8_t *data, size_t n) {
        size_t bdl, off;

        if (n < 8)
                return n == 0 ? 0 : S_INVALID_FIELD_PARAM;
        bdl = get16(data + 6);
        off = 8 + bdl;
        while (off + 2 <= n) {
                int code = data[off] & 0x3f;
                size_t plen = data[off + 1] + 2;

                if (code == 0x05) {
                        size_t keep = plen < sizeof d->page05 ? plen : sizeof d->page05;

                        if (off + keep > n)
                                keep = n - off;
                        memcpy(d->page05 + 2, data + off + 2, keep - 2);
                }
                off += plen;
        }
        return 0;
}

/* ------------------------------------------------------ disc and tracks */

static int closed_sessions(const Medium *m) {
        return m->last_session_open ? m->n_sessions - 1 : m->n_sessions;
}

static int first_track_of_session(const Medium *m, int s) {
        for (int i = 0; i < m->n_tracks; i++)
                if (m->tracks[i].session == s)
                        return m->tracks[i].number;
        return m->n_tracks + 1;
}

/* The invisible (next) track's number (MMC-6 4.2.3.2 / 6.27.3). */
static int invisible_track(const Medium *m) {
        const Track *t = m->n_tracks ? &m->tracks[m->n_tracks - 1] : NULL;

        if (t && t->open && !t->reserved)
                return t->number;
        return m->n_tracks + 1;
}

static int32_t session_end(const Medium *m, int s) {
        int32_t end = 0;

        for (int i = 0; i < m->n_tracks; i++)
                if (m->tracks[i].session == s)
                        end = m->tracks[i].start + m->tracks[i].size;
        return end;
}

static bool disc_blank(const Medium *m) {
        if (medium_is_overwritable(m->type))
                return !m->formatted;
        return m->n_tracks == 0;
}

static bool disc_closed(const Medium *m) {
        return m->closed || m->type == MEDIUM_CD_ROM;
}

static int cmd_read_disc_info(Drive *d, const uint8_t *cdb, uint8_t *r, size_t *len) {
        Medium *m = &d->m;
        int status, state, sessions, first, last;
        bool cd = medium_is_cd(m->type);

        if ((cdb[1] & 7) != 0)
                return S_INVALID_FIELD_CDB;
        if (m->intermediate) {
                /*
                 * A quick-formatted DVD-RW session is incomplete until CLOSE SESSION
                 * (MMC-5 6.3.3.2.3), empty while it has no blocks yet: then libburn asks
                 * no READ CAPACITY and libisoburn writes the first session at LBA 0.
                 */
                status = state = m->formatted_blocks > 0 ? 1 : 0;
                sessions = first = last = 1;
        } else if (medium_is_overwritable(m->type)) {
                /* A formatted overwritable disc is one complete session (MMC-6 6.22.3.1.3). */
                status = m->formatted ? 2 : 0;
                state = m->formatted ? 3 : 0;
                sessions = first = last = 1;
        } else if (disc_blank(m)) {
                status = state = 0;
                sessions = first = last = 1;
        } else if (disc_closed(m)) {
                status = 2;
                state = 3;
                sessions = m->n_sessions;
                first = first_track_of_session(m, m->n_sessions);
                last = m->n_tracks;
        } else {
                status = 1;
                state = m->last_session_open ? 1 : 0;
                sessions = m->last_session_open ? m->n_sessions : m->n_sessions + 1;
                first = m->last_session_open ? first_track_of_session(m, m->n_sessions) : m->n_tracks + 1;
                last = invisible_track(m);
        }
        put16(r, 32);
        r[2] = (medium_is_erasable(m->type) ? 0x10 : 0) | (state << 2) | status;
        r[3] = 1;
        r[4] = sessions & 0xff;
        r[5] = first & 0xff;
        r[6] = last & 0xff;
        r[7] = 0x20;            /* URU */
        if (m->type == MEDIUM_DVD_PLUS_RW)
                r[7] |= m->formatted ? 3 : 0;   /* BG format status */
        r[8] = 0x00;            /* CD-DA or CD-ROM disc */
        r[9] = sessions >> 8;
        r[10] = first >> 8;
        r[11] = last >> 8;
        if (status == 2) {
                memset(r + 16, 0xff, 8);
        } else if (cd) {
                /* Next lead-in (ATIP lead-in start on a blank disc) and last possible lead-out, in MSF. */
                int32_t nwa = medium_nwa(m);
                int32_t leadin = status == 0 ? msf_to_lba(97, 26, 66) : nwa - 150 - 4500;

                lba_to_msf(leadin, r + 17);
                lba_to_msf(m->capacity, r + 21);
        } else {
                put32(r + 16, status == 0 ? 0 : (uint32_t) medium_nwa(m));
                put32(r + 20, (uint32_t) m->capacity);
        }
        r[33] = 0;
        *len = 34;
        return 0;
}

static void rti_fill_track(Drive *d, const Track *t, uint8_t *r) {
        Medium *m = &d->m;
        int32_t recorded = t->open && !t->reserved ? t->written : t->size;

        r[2] = t->number & 0xff;
        r[3] = t->session & 0xff;
        r[5] = t->control & 0x0f;
        r[6] = 0x01;            /* data mode 1 */
        put32(r + 8, (uint32_t) t->start);
        if (medium_is_overwritable(m->type)) {
                /* the one track over the formatted area, all of it writable */
                r[7] = 0x01;
                put32(r + 12, 0);
                put32(r + 16, (uint32_t) t->size);
        } else if (t->open) {
                int32_t nwa = t->start + t->written;

                r[6] |= 0x80;   /* RT: reserved/incomplete track */
                r[7] = 0x01;    /* NWA_V */
                put32(r + 12, (uint32_t) nwa);
                put32(r + 16, (uint32_t) (t->reserved ? t->size - t->written : m->capacity - nwa));
        }
        if (medium_is_dvd(m->type))
                put32(r + 20, 16);
        put32(r + 24, (uint32_t) (t->reserved || medium_is_overwritable(m->type) ? t->size : recorded));
        if (recorded > 0) {
                r[7] |= 0x02;   /* LRA_V */
                put32(r + 28, (uint32_t) (t->start + recorded - 1));
        }
        r[32] = t->number >> 8;
        r[33] = t->session >> 8;
}

static int cmd_read_track_info(Drive *d, const uint8_t *cdb, uint8_t *r, size_t *len) {
        Medium *m = &d->m;
        int type = cdb[1] & 3;
        uint32_t v = get32(cdb + 2);
        int inv = invisible_track(m);
        const Track *t = NULL;
        bool invisible = false;

        put16(r, 34);
        *len = 36;
        if (medium_is_overwritable(m->type)) {
                rti_fill_track(d, &m->tracks[0], r);
                return 0;
        }
        if (type == 1) {
                if (v == 0xff && !medium_is_cd(m->type) && m->type != MEDIUM_DVD_PLUS_R)
                        return S_INVALID_FIELD_CDB;
                if (v == 0xff || v == (uint32_t) inv)
                        invisible = true;
                else if (v >= 1 && v <= (uint32_t) m->n_tracks)
                        t = &m->tracks[v - 1];
                else
                        return S_INVALID_FIELD_CDB;
        } else if (type == 0) {
                t = medium_find_track(m, (int32_t) v);
                if (!t) {
                        if ((int32_t) v >= medium_nwa(m) && (int32_t) v < m->capacity)
                                invisible = true;
                        else
                                return S_LBA_OUT_OF_RANGE;
                }
        } else if (type == 2) {
                if (v < 1 || v > (uint32_t) m->n_sessions)
                        return S_INVALID_FIELD_CDB;
                t = &m->tracks[first_track_of_session(m, v) - 1];
        } else
                return S_INVALID_FIELD_CDB;

        if (invisible && inv <= m->n_tracks)
                t = &m->tracks[inv - 1];        /* the incomplete track is the one being written */
        if (t) {
                rti_fill_track(d, t, r);
                return 0;
        }
        if (disc_closed(m))
                return S_INVALID_FIELD_CDB;

        /* The invisible track: blank, everything up to the last possible lead-out is free. */
        {
                int32_t nwa = medium_nwa(m);
                int32_t free_blocks = m->capacity > nwa ? m->capacity - nwa : 0;

                r[2] = inv & 0xff;
                r[3] = medium_current_session(m) & 0xff;
                r[5] = d->page05[3] & 0x0f;     /* track mode the next track will get */
                r[6] = 0x40 | 0x0f;     /* Blank, data mode unknown */
                r[7] = 0x01;            /* NWA_V */
                put32(r + 8, (uint32_t) nwa);
                put32(r + 12, (uint32_t) nwa);
                put32(r + 16, (uint32_t) free_blocks);
                if (medium_is_dvd(m->type))
                        put32(r + 20, 16);
                put32(r + 24, (uint32_t) free_blocks);
                r[32] = inv >> 8;
                r[33] = medium_current_session(m) >> 8;
        }
        return 0;
}

static int cmd_read_toc(Drive *d, const uint8_t *cdb, uint8_t *r, size_t *len) {
        Medium *m = &d->m;
        int fmt = cdb[2] & 0x0f, ncs = closed_sessions(m);
        bool msf = cdb[1] & 0x02, cd = medium_is_cd(m->type);
        uint8_t *p = r + 4;

        if (fmt == 0 && (cdb[9] >> 6))
                fmt = cdb[9] >> 6;      /* obsolete format field in the control byte */

        if (fmt == 4) {
                /* ATIP (MMC-6 6.26.3.6): CD-R/RW only.  Lead-in 97:26:66 is a CMC Magnetics disc. */
                if (m->type != MEDIUM_CD_R && m->type != MEDIUM_CD_RW)
                        return S_INVALID_FIELD_CDB;
                put16(r, 26);
                r[4] = 0x80 | 0x05;
                r[5] = 0x00;
                r[6] = 0x80 | (m->type == MEDIUM_CD_RW ? 0x40 : 0);
                lba_to_msf(msf_to_lba(97, 26, 66), r + 8);
                lba_to_msf(m->capacity, r + 12);
                *len = 28;
                return 0;
        }
        if (fmt == 5) {
                /* CD-TEXT (MMC-6 6.26.3.7): the packs of the lead-in, as recorded. */
                if (!cd)
                        return S_INVALID_FIELD_CDB;
                put16(r, 2 + m->n_text * EMU_TEXT_PACK);
                memcpy(r + 4, m->text, (size_t) m->n_text * EMU_TEXT_PACK);
                *len = 4 + (size_t) m->n_text * EMU_TEXT_PACK;
                return 0;
        }
        if (medium_is_overwritable(m->type)) {
                ncs = m->formatted ? 1 : 0;
        }
        if (ncs == 0)
                return S_INVALID_FIELD_CDB;     /* no complete session, no TOC */

        if (fmt == 0) {
                int first = cdb[6] ? cdb[6] : 1, last_track = 0;

                r[2] = 1;
                for (int i = 0; i < m->n_tracks; i++) {
                        const Track *t = &m->tracks[i];

                        if (t->session > ncs)
                                continue;
                        last_track = t->number;
                        if (t->number < first)
                                continue;
                        p[1] = 0x10 | t->control;
                        p[2] = t->number;
                        put_addr(p + 4, t->start, msf);
                        p += 8;
                }
                if (first > last_track + 1 && cdb[6] != 0xaa)
                        return S_INVALID_FIELD_CDB;
                r[3] = last_track;
                p[1] = 0x10 | (m->n_tracks ? m->tracks[0].control : 4);
                p[2] = 0xaa;
                put_addr(p + 4, session_end(m, ncs), msf);
                p += 8;
        } else if (fmt == 1) {
                int ft = first_track_of_session(m, ncs);

                r[2] = 1;
                r[3] = ncs;
                p[1] = 0x10 | m->tracks[ft - 1].control;
                p[2] = ft;
                put_addr(p + 4, m->tracks[ft - 1].start, msf);
                p += 8;
        } else if (fmt == 2) {
                /* Full TOC (MMC-6 6.26.3.4): A0/A1/A2 then the tracks of each complete session. */
                if (!cd)
                        return S_INVALID_FIELD_CDB;
                r[2] = 1;
                r[3] = ncs;
                for (int s = 1; s <= ncs; s++) {
                        int ft = first_track_of_session(m, s), lt = ft;
                        int ctl = m->tracks[ft - 1].control;

                        for (int i = 0; i < m->n_tracks; i++)
                                if (m->tracks[i].session == s)
                                        lt = m->tracks[i].number;
                        for (int point = 0xa0; point <= 0xa2; point++) {
                                p[0] = s;
                                p[1] = 0x10 | ctl;
                                p[3] = point;
                                if (point == 0xa0) {
                                        p[8] = ft;
                                        p[9] = 0x00;    /* CD-DA or CD-ROM */
                                } else if (point == 0xa1)
                                        p[8] = lt;
                                else
                                        lba_to_msf(session_end(m, s), p + 8);
                                p += 11;
                        }
                        for (int i = 0; i < m->n_tracks; i++) {
                                const Track *t = &m->tracks[i];

                                if (t->session != s)
                                        continue;
                                p[0] = s;
                                p[1] = 0x10 | t->control;
                                p[3] = t->number;
                                lba_to_msf(t->start, p + 8);
                                p += 11;
                        }
                }
        } else
                return S_INVALID_FIELD_CDB;
        put16(r, (uint32_t) (p - r - 2));
        *len = p - r;
        return 0;
}

static int cmd_read_capacity(Drive *d, uint8_t *r, size_t *len) {
        int32_t last = medium_readable_blocks(&d->m) - 1;

        put32(r, (uint32_t) (last < 0 ? 0 : last));
        put32(r + 4, 2048);
        *len = 8;
        return 0;
}

/* One Formattable Capacity Descriptor (MMC-5 6.24.3.3). */
static uint8_t *format_descriptor(uint8_t *p, int type, int32_t blocks, uint32_t tdp) {
        put32(p, (uint32_t) blocks);
        p[4] = type << 2;
        put24(p + 5, tdp);
        return p + 8;
}

/*
 * DVD-RW (MMC-5 6.5.4.2, 6.24.3.3; libburn's doc/cookbook.txt "Overwriteable
 * DVD Cookbook" for what drives offer in each state):
 *   sequential:   unformatted; 00h/10h full format, 15h quick format
 *   formatted:    formatted area; the same, plus 11h/13h (grow) by the blocks still unformatted,
 *                 0 when fully formatted
 *   intermediate: capacity unknown (11b); no 11h/13h until CLOSE SESSION ends it
 * Type 00h's parameter is the block length, the others' the ECC block size (16).
 */
static uint8_t *dvd_rw_format_capacities(const Medium *m, uint8_t *p) {
        int32_t max = medium_max_format_blocks(m), rest = max - m->formatted_blocks;
        bool ro = m->type == MEDIUM_DVD_RW_RO;

        put32(p, (uint32_t) (ro && !m->intermediate ? m->formatted_blocks : max));
        p[4] = !ro ? 0x01 : m->intermediate ? 0x03 : 0x02;
        put24(p + 5, 2048);
        p = format_descriptor(p + 8, 0x00, max, 2048);
        p = format_descriptor(p, 0x10, max, 16);
        if (ro && !m->intermediate) {
                p = format_descriptor(p, 0x11, rest, 16);
                p = format_descriptor(p, 0x13, rest, 16);
        }
        return format_descriptor(p, 0x15, max, 16);
}

static int cmd_read_format_capacities(Drive *d, uint8_t *r, size_t *len) {
        Medium *m = &d->m;
        uint8_t *p = r + 4;

        if (m->type == MEDIUM_DVD_RW || m->type == MEDIUM_DVD_RW_RO) {
                p = dvd_rw_format_capacities(m, p);
                r[3] = p - r - 4;
                *len = p - r;
                return 0;
        }

        /* Current/maximum capacity descriptor (MMC-6 6.24.3.2). */
        put32(p, (uint32_t) m->capacity);
        p[4] = medium_is_overwritable(m->type) && !m->formatted ? 0x01 : 0x02;
        put24(p + 5, 2048);
        p += 8;
        if (m->type == MEDIUM_DVD_PLUS_RW) {
                put32(p, (uint32_t) m->capacity);
                p[4] = 0x26 << 2;
                p += 8;
        } else if (m->type == MEDIUM_BD_RE) {
                put32(p, (uint32_t) m->capacity);
                p[4] = 0x00 << 2;
                put24(p + 5, 0x3000);   /* spare area */
                p += 8;
                put32(p, (uint32_t) m->capacity);
                p[4] = 0x31 << 2;
                p += 8;
        }
        r[3] = p - r - 4;
        *len = p - r;
        return 0;
}

static int cmd_read_disc_structure(Drive *d, const uint8_t *cdb, uint8_t *r, size_t *len) {
        Medium *m = &d->m;
        int fmt = cdb[7];

        /* Only the DVD physical format (book type), MMC-6 6.23.3.2.1. */
        if ((cdb[1] & 0x0f) != 0 || !medium_is_dvd(m->type) || fmt != 0)
                return S_INVALID_FIELD_CDB;
        put16(r, 2048 + 2);
        switch (m->type) {
        case MEDIUM_DVD_R: r[4] = 0x20; break;
        case MEDIUM_DVD_RW:
        case MEDIUM_DVD_RW_RO: r[4] = 0x32; break;
        case MEDIUM_DVD_PLUS_RW: r[4] = 0x92; break;
        default: r[4] = 0xa1; break;
        }
        r[5] = 0x0f;
        r[6] = 0x01;
        put32(r + 8, 0x030000);
        put32(r + 12, 0x030000 + m->capacity - 1);
        *len = 2052;
        return 0;
}

/* ------------------------------------------------------------- writing */

static int write_check(Drive *d) {
        if (d->faults.write_protect)
                return S_WRITE_PROTECTED;
        if (!medium_is_writable(d->m.type))
                return S_CANNOT_WRITE_MEDIUM;
        return 0;
}

/*
 * Restricted Overwrite takes whole ECC blocks (16 sectors; libburn aligns its
 * writes to 32 KiB) inside the formatted area.  In intermediate state the
 * session also grows by writing on from its end, as after a quick format.
 */
static int restricted_overwrite_check(const Medium *m, int32_t lba, int32_t blocks) {
        if (lba < 0)
                return S_LBA_OUT_OF_RANGE;
        if (lba % 16 != 0)
                return S_INVALID_WRITE_ADDR;
        if (blocks % 16 != 0)
                return S_INVALID_FIELD_CDB;
        if (m->intermediate)
                return lba > m->formatted_blocks ? S_INVALID_WRITE_ADDR : 0;
        return (int64_t) lba + blocks > m->formatted_blocks ? S_LBA_OUT_OF_RANGE : 0;
}

static Track *new_track(Medium *m, int32_t start, int32_t size, int bs, int control, bool reserved) {
        Track *t;

        if (m->n_tracks >= EMU_MAX_TRACKS)
                return NULL;
        t = &m->tracks[m->n_tracks];
        *t = (Track) {
                .number = m->n_tracks + 1, .session = medium_current_session(m), .start = start,
                .size = size, .block_size = bs, .control = control, .open = true, .reserved = reserved,
        };
        m->n_tracks++;
        if (!m->last_session_open) {
                m->n_sessions++;
                m->last_session_open = true;
        }
        return t;
}

/* The cue sheet's lead-in entry asks for R-W sub-channel data from the host (data form 41h:
 * CD-DA main data that the drive generates, packed R-W from the host; MMC-6 6.33.3.13). */
static bool cue_has_leadin_text(const Drive *d) {
        return d->n_cue > 0 && d->cue[0].tno == 0 && (d->cue[0].form & 0xc0) == 0x40;
}

/*
 * SAO lead-in with CD-TEXT: from the ATIP's lead-in start up to the pre-gap at -150, the host sends
 * the R-W sub-channel only, 96 bytes a sector: four 18-byte packs, each spread over 24 six-bit
 * symbols (Red Book, CD-TEXT mode 4). They are decoded back into packs here.
 */
static int write_leadin_text(Drive *d, int32_t lba, int32_t blocks, const uint8_t *data) {
        int32_t start = msf_to_lba(97, 26, 66);

        if (!cue_has_leadin_text(d) || lba < start || lba + blocks > -150)
                return S_INVALID_WRITE_ADDR;
        /* A simulation's cue sheet made no tracks (and left sao_pending off): nothing to keep. */
        if (test_write(d))
                return 0;
        if (!d->sao_pending)
                return S_INVALID_WRITE_ADDR;
        for (int32_t i = 0; i < blocks * 4; i++) {
                int64_t k = (int64_t) (lba - start) * 4 + i;
                const uint8_t *sym = data + (size_t) i * 24;
                uint8_t *pk;

                if (k >= 2 * EMU_MAX_TEXT_PACKS)
                        break;
                pk = d->leadin[k];
                for (int j = 0; j < 6; j++) {
                        const uint8_t *s4 = sym + j * 4;

                        pk[j * 3 + 0] = (uint8_t) ((s4[0] & 0x3f) << 2 | (s4[1] & 0x30) >> 4);
                        pk[j * 3 + 1] = (uint8_t) ((s4[1] & 0x0f) << 4 | (s4[2] & 0x3c) >> 2);
                        pk[j * 3 + 2] = (uint8_t) ((s4[2] & 0x03) << 6 | (s4[3] & 0x3f));
                }
                if (k + 1 > d->n_leadin)
                        d->n_leadin = (int) (k + 1);
        }
        return 0;
}

static int cmd_write(Drive *d, const uint8_t *cdb, const uint8_t *data, size_t n) {
        Medium *m = &d->m;
        int32_t lba = (int32_t) get32(cdb + 2);
        int32_t blocks = cdb[0] == 0xaa ? (int32_t) get32(cdb + 6) : get16(cdb + 7);
        int bs, r;
        Track *t;

        r = write_check(d);
        if (r)
                return r;
        if (blocks == 0)
                return 0;
        bs = (int) (n / blocks);
        if ((size_t) bs * blocks == n && bs == 96 && lba < -150)
                return write_leadin_text(d, lba, blocks, data);
        if ((size_t) bs * blocks != n || (bs != 2048 && bs != 2352))
                return S_INVALID_FIELD_CDB;
        if (disc_closed(m))
                return S_INVALID_WRITE_ADDR;
        if (d->faults.loss_of_streaming_lba >= lba && d->faults.loss_of_streaming_lba < (int64_t) lba + blocks)
                return S_LOSS_OF_STREAMING;
        if (d->faults.write_error_lba >= lba && d->faults.write_error_lba < (int64_t) lba + blocks)
                return S_WRITE_ERROR;
        if ((int64_t) lba + blocks > m->capacity)
                return S_LBA_OUT_OF_RANGE;
        if (m->type == MEDIUM_DVD_RW_RO) {
                r = restricted_overwrite_check(m, lba, blocks);
                if (r)
                        return r;
        }
        r = buffer_add(&d->buf, n, bufe(d));
        if (r)
                return r;
        if (test_write(d))
                return 0;       /* simulation: the laser stays off (MMC-6 7.5.4.2 Test Write) */

        if (medium_is_overwritable(m->type)) {
                t = &m->tracks[0];
                m->formatted = true;
                if (m->intermediate && lba + blocks > m->formatted_blocks) {
                        medium_grow_formatted(m, lba + blocks);
                        d->dirty = true;
                }
        } else if (lba < 0 && d->sao_pending && lba >= -150) {
                return 0;       /* pre-gap of track 1 in the lead-in area: nothing to keep */
        } else {
                t = medium_open_track(m);
                if (t && t->reserved) {
                        if (lba < t->start || lba + blocks > t->start + t->size) {
                                /* SAO: the cue sheet made several reserved tracks */
                                t = medium_find_track(m, lba);
                                if (!t || !t->open)
                                        return S_INVALID_WRITE_ADDR;
                        }
                } else if (t) {
                        if (lba != t->start + t->written)
                                return S_INVALID_WRITE_ADDR;
                } else {
                        int control = bs == 2352 ? 0 : 4;

                        if (lba != medium_nwa(m))
                                return S_INVALID_WRITE_ADDR;
                        if (medium_is_cd(m->type))
                                control = d->page05[3] & 0x0f;
                        t = new_track(m, lba, 0, bs, control, false);
                        if (!t)
                                return S_INVALID_WRITE_ADDR;
                        d->dirty = true;
                }
        }
        if (d->faults.corrupt_lba >= lba && d->faults.corrupt_lba < (int64_t) lba + blocks) {
                /* A drive that records a block wrongly and does not notice: only reading back
                 * tells. One byte of that block differs from what was sent. */
                uint8_t *copy = malloc(n);

                if (!copy)
                        return S_WRITE_ERROR;
                memcpy(copy, data, n);
                copy[(size_t) (d->faults.corrupt_lba - lba) * (size_t) bs + 100] ^= 0xff;
                r = medium_write(d, t, lba, copy, blocks, bs);
                free(copy);
                return r < 0 ? S_WRITE_ERROR : 0;
        }
        if (medium_write(d, t, lba, data, blocks, bs) < 0)
                return S_WRITE_ERROR;
        return 0;
}

static int cmd_sync_cache(Drive *d) {
        Medium *m = &d->m;

        buffer_flush(&d->buf);
        if (test_write(d))
                return 0;
        if (d->sao_pending) {
                /* SAO: the drive writes the lead-out itself once the data is in. */
                medium_take_leadin_text(d);
                medium_close_session(m, !multisession(d));
                d->sao_pending = false;
                d->dirty = true;
        } else if (medium_is_cd(m->type)) {
                /* CD TAO: libburn sends no CLOSE TRACK; the track ends here. */
                medium_close_track(m, medium_open_track(m));
                d->dirty = true;
        } else if ((m->type == MEDIUM_DVD_R || m->type == MEDIUM_DVD_RW) && (d->page05[2] & 0x0f) == 2 &&
                   medium_open_track(m)) {
                /* DVD-R DAO is closed by the drive, never appendable. */
                medium_close_session(m, true);
                d->dirty = true;
        }
        return d->dirty ? medium_save(d) < 0 ? S_WRITE_ERROR : 0 : 0;
}

static int cmd_close(Drive *d, const uint8_t *cdb) {
        Medium *m = &d->m;
        int fn = cdb[2] & 7, r;

        r = write_check(d);
        if (r)
                return r;
        if (m->type == MEDIUM_DVD_RW_RO && !test_write(d)) {
                /* Closing the session ends the intermediate state of a quick format (MMC-5 6.3.3.2.3). */
                buffer_flush(&d->buf);
                if ((fn == 2 || fn == 3) && m->intermediate) {
                        m->intermediate = false;
                        return medium_save(d) < 0 ? S_WRITE_ERROR : 0;
                }
                return 0;
        }
        if (test_write(d) || medium_is_overwritable(m->type))
                return 0;       /* DVD+RW: "close" only stops background formatting */
        buffer_flush(&d->buf);
        switch (fn) {
        case 1:
                medium_close_track(m, medium_open_track(m));
                break;
        case 2:
                if (m->type == MEDIUM_DVD_PLUS_R || m->type == MEDIUM_BD_R)
                        medium_close_session(m, false);
                else
                        medium_close_session(m, !multisession(d));
                break;
        case 3:
        case 5:
        case 6:
                medium_close_session(m, true);
                break;
        default:
                return S_INVALID_FIELD_CDB;
        }
        d->sao_pending = false;
        return medium_save(d) < 0 ? S_WRITE_ERROR : 0;
}

static int cmd_reserve_track(Drive *d, const uint8_t *cdb) {
        Medium *m = &d->m;
        int32_t size = (int32_t) get32(cdb + 5);
        int r;

        r = write_check(d);
        if (r)
                return r;
        if (medium_is_overwritable(m->type) || medium_is_cd(m->type) || disc_closed(m) || medium_open_track(m))
                return S_INVALID_FIELD_CDB;
        if (size <= 0 || (int64_t) medium_nwa(m) + size > m->capacity)
                return S_INVALID_FIELD_CDB;
        if (test_write(d))
                return 0;
        if (!new_track(m, medium_nwa(m), size, 2048, 4, true))
                return S_INVALID_FIELD_CDB;
        return medium_save(d) < 0 ? S_WRITE_ERROR : 0;
}

/* SEND CUE SHEET (MMC-6 6.33): 8-byte entries; each track's INDEX 01 is its start. */
static int cmd_send_cue_sheet(Drive *d, const uint8_t *data, size_t n) {
        Medium *m = &d->m;
        int32_t leadout = -1;
        int r, first_new;

        r = write_check(d);
        if (r)
                return r;
        if (!medium_is_cd(m->type) || disc_closed(m) || n % 8 != 0 || n / 8 > sizeof d->cue / sizeof d->cue[0])
                return S_INVALID_FIELD_PARAM;
        d->n_cue = 0;
        for (size_t i = 0; i < n; i += 8) {
                const uint8_t *e = data + i;
                CueEntry *c = &d->cue[d->n_cue++];

                *c = (CueEntry) { .ctl_adr = e[0], .tno = e[1], .index = e[2], .form = e[3],
                                  .lba = msf_to_lba(e[5], e[6], e[7]) };
                if (c->tno == 0xaa)
                        leadout = c->lba;
        }
        if (leadout < 0 || leadout > m->capacity)
                return S_INVALID_FIELD_PARAM;
        /* A drive without R-W sub-channel writing refuses a lead-in that carries CD-TEXT. */
        if (cue_has_leadin_text(d) && !d->cfg.cdtext)
                return S_INVALID_FIELD_PARAM;
        d->n_leadin = 0;
        if (test_write(d))
                return 0;       /* simulation: nothing will be recorded */
        first_new = m->n_tracks;
        for (int i = 0; i < d->n_cue; i++) {
                const CueEntry *c = &d->cue[i];
                int32_t end = leadout;
                int bs = (c->form & 0xf0) == 0 && (c->form & 0x0f) <= 1 ? 2352 : 2048;

                if (c->tno < 1 || c->tno > 99 || c->index != 1)
                        continue;
                for (int j = i + 1; j < d->n_cue; j++)
                        if (d->cue[j].tno != c->tno && (d->cue[j].index <= 1 || d->cue[j].tno == 0xaa) &&
                            d->cue[j].tno != 0) {
                                /* the next track's INDEX 00 or 01: the pre-gap belongs to this track */
                                if (d->cue[j].index == 1 || d->cue[j].tno == 0xaa) {
                                        end = d->cue[j].lba;
                                        break;
                                }
                        }
                if (!new_track(m, c->lba, end - c->lba, bs, c->ctl_adr >> 4, true)) {
                        m->n_tracks = first_new;
                        return S_INVALID_FIELD_PARAM;
                }
        }
        if (m->n_tracks == first_new)
                return S_INVALID_FIELD_PARAM;
        d->sao_pending = true;
        return 0;
}

static int cmd_blank(Drive *d, const uint8_t *cdb) {
        int r = write_check(d);

        if (r)
                return r;
        if (d->m.type != MEDIUM_CD_RW && d->m.type != MEDIUM_DVD_RW && d->m.type != MEDIUM_DVD_RW_RO)
                return S_CANNOT_WRITE_MEDIUM;
        if ((cdb[1] & 7) > 1)
                return S_INVALID_FIELD_CDB;     /* only "blank disc" and "minimal blank" */
        medium_blank(d);
        start_long_operation(d, cdb[1] & 0x10);
        return medium_save(d) < 0 ? S_WRITE_ERROR : 0;
}

/*
 * FORMAT UNIT of a DVD-RW (MMC-5 6.5.4.2).  From Sequential recording or in
 * Restricted Overwrite: 00h/10h format Number of Blocks (at most what READ
 * FORMAT CAPACITIES offers), 15h quick-formats that many, possibly 0, and
 * leaves the session intermediate.  In Restricted Overwrite only: 11h grows
 * the formatted area by Number of Blocks, 13h does so and makes it
 * intermediate again.  Before it writes to a partly formatted disc libburn
 * sends 13h with 0 blocks, or with the blocks by which its start address lies
 * beyond the formatted area (or, when it does not, the start address itself),
 * so the sum is only clamped to the disc.
 */
static int format_dvd_rw(Drive *d, int type, uint32_t blocks) {
        Medium *m = &d->m;
        int32_t max = medium_max_format_blocks(m);
        bool ro = m->type == MEDIUM_DVD_RW_RO;

        switch (type) {
        case 0x00:
        case 0x10:
                if (blocks == 0 || blocks > (uint32_t) max)
                        return S_INVALID_FIELD_PARAM;
                medium_format_restricted_overwrite(d, (int32_t) blocks, false, true);
                return 0;
        case 0x15:
                if (blocks > (uint32_t) max)
                        return S_INVALID_FIELD_PARAM;
                medium_format_restricted_overwrite(d, (int32_t) blocks, true, true);
                return 0;
        case 0x11:
        case 0x13: {
                int64_t grown = (int64_t) m->formatted_blocks + blocks;

                if (!ro)
                        return S_INVALID_FIELD_PARAM;
                medium_format_restricted_overwrite(d, (int32_t) (grown < max ? grown : max), type == 0x13,
                                                   false);
                return 0;
        }
        default:
                return S_INVALID_FIELD_PARAM;
        }
}

static int cmd_format_unit(Drive *d, const uint8_t *cdb, const uint8_t *data, size_t n) {
        Medium *m = &d->m;
        int type, r;

        r = write_check(d);
        if (r)
                return r;
        if (!(cdb[1] & 0x10) || n < 12)
                return S_INVALID_FIELD_CDB;
        type = data[8] >> 2;
        if (m->type == MEDIUM_DVD_RW || m->type == MEDIUM_DVD_RW_RO) {
                r = format_dvd_rw(d, type, get32(data + 4));
                if (r)
                        return r;
                start_long_operation(d, data[1] & 0x02);
                return medium_save(d) < 0 ? S_WRITE_ERROR : 0;
        }
        if (!((m->type == MEDIUM_DVD_PLUS_RW && type == 0x26) ||
              (m->type == MEDIUM_BD_RE && (type == 0x00 || type == 0x30 || type == 0x31))))
                return S_INVALID_FIELD_PARAM;
        m->formatted = true;
        start_long_operation(d, data[1] & 0x02);
        return medium_save(d) < 0 ? S_WRITE_ERROR : 0;
}

/* --------------------------------------------------------------- reading */

static int cmd_read(Drive *d, const uint8_t *cdb, uint8_t *out, size_t n, size_t *len) {
        Medium *m = &d->m;
        bool readcd = cdb[0] == 0xbe;
        int32_t lba = (int32_t) get32(cdb + 2);
        int32_t blocks = readcd ? (int32_t) get24(cdb + 6) : cdb[0] == 0xa8 ? (int32_t) get32(cdb + 6) : get16(cdb + 7);
        size_t done = 0;

        if (readcd && cdb[10] != 0)
                return S_INVALID_FIELD_CDB;     /* no sub-channel data */
        for (int32_t i = 0; i < blocks; i++) {
                Track *t = medium_find_track(m, lba + i);
                int bs;

                if (!t)
                        return S_LBA_OUT_OF_RANGE;
                if (readcd) {
                        int flags = cdb[9] & 0xf8, type = (cdb[1] >> 2) & 7;

                        /* Expected Sector Type (MMC-6 6.19.2.2): 0 any, 1 CD-DA, 2..5 the data
                         * modes; a sector of another kind is 5/64/00. */
                        if ((type == 1 && t->block_size != 2352) || (type >= 2 && t->block_size == 2352))
                                return S_ILLEGAL_MODE_TRACK;
                        if (t->block_size == 2352)
                                bs = 2352;      /* audio: any user-data request yields the raw sector */
                        else if (flags == 0x10)
                                bs = 2048;
                        else
                                return S_ILLEGAL_MODE_TRACK;
                } else {
                        if (t->block_size != 2048)
                                return S_ILLEGAL_MODE_TRACK;
                        bs = 2048;
                }
                if (done + bs > n)
                        return S_INVALID_FIELD_CDB;
                /* An unreadable sector: the drive's own retries failed (MMC-6 6.15, 3/11/00). */
                if (d->faults.read_error_lba == (int64_t) lba + i)
                        return S_UNRECOVERED_READ;
                if (medium_read(d, t, lba + i, out + done, 1, bs) < 0)
                        return S_UNRECOVERED_READ;
                done += bs;
        }
        *len = done;
        return 0;
}

/* ------------------------------------------------------------- the rest */

static int cmd_get_performance(Drive *d, const uint8_t *cdb, uint8_t *r, size_t *len) {
        int s[EMU_MAX_SPEEDS], n = default_speeds(d, s), max = get16(cdb + 8), type = cdb[10];
        uint8_t *p = r + 8;

        if (type == 0x03) {
                /* Write Speed descriptors (MMC-6 6.8.2.7), fastest first. */
                for (int i = n - 1; i >= 0 && (p - r - 8) / 16 < max; i--, p += 16) {
                        p[0] = 0x02;    /* Exact */
                        put32(p + 4, (uint32_t) (d->m.capacity > 0 ? d->m.capacity - 1 : 0));
                        put32(p + 8, (uint32_t) max_speed(d));
                        put32(p + 12, (uint32_t) s[i]);
                }
        } else if (type == 0x00) {
                if (max > 0) {
                        int sp = cdb[1] & 0x04 ? d->cur_write_speed : max_speed(d);

                        put32(p, 0);
                        put32(p + 4, (uint32_t) sp);
                        put32(p + 8, (uint32_t) (d->m.capacity > 0 ? d->m.capacity - 1 : 0));
                        put32(p + 12, (uint32_t) sp);
                        p += 16;
                }
                r[4] = cdb[1] & 0x04 ? 0x02 : 0;
        } else
                return S_INVALID_FIELD_CDB;
        put32(r, (uint32_t) (p - r - 4));
        *len = p - r;
        return 0;
}

static void choose_speed(Drive *d, int kbs) {
        int s[EMU_MAX_SPEEDS], n = default_speeds(d, s), best = 0;

        /* The drive picks the fastest supported speed not above the request. */
        for (int i = 0; i < n; i++)
                if (s[i] <= kbs && s[i] > best)
                        best = s[i];
        if (best == 0)
                for (int i = 0; i < n; i++)
                        if (best == 0 || s[i] < best)
                                best = s[i];
        d->cur_write_speed = best;
}

static int cmd_set_streaming(Drive *d, const uint8_t *cdb, const uint8_t *data, size_t n) {
        uint32_t size, time;

        if (cdb[8] != 0)
                return 0;
        if (n < 28)
                return S_INVALID_FIELD_PARAM;
        size = get32(data + 20);
        time = get32(data + 24);
        if (time == 0)
                return S_INVALID_FIELD_PARAM;
        choose_speed(d, (int) ((uint64_t) size * 1000 / time));
        return 0;
}

static int cmd_event_status(Drive *d, const uint8_t *cdb, uint8_t *r, size_t *len) {
        if (!(cdb[1] & 1))
                return S_INVALID_FIELD_CDB;     /* only polled operation (MMC-6 6.5) */
        r[3] = 0x10 | 0x02;     /* supported: media, operational change */
        if (!(cdb[4] & 0x10)) {
                put16(r, 2);
                r[2] = 0x80;    /* NEA */
                *len = 4;
                return 0;
        }
        put16(r, 6);
        r[2] = 0x04;
        r[4] = d->unit_attention ? 0x02 : 0x00;         /* NewMedia */
        r[5] = (drive_has_medium(d) ? 0x02 : 0) | (d->faults.tray_open || d->tray_open ? 0x01 : 0);
        *len = 8;
        return 0;
}

static void set_sense(MmcCommand *c, int s) {
        memset(c->sense, 0, sizeof c->sense);
        c->sense[0] = 0x70;     /* current error, fixed format */
        c->sense[2] = SENSE_KEY(s);
        c->sense[7] = 10;
        c->sense[12] = SENSE_ASC(s);
        c->sense[13] = SENSE_ASCQ(s);
        c->sense_len = 18;
}

static bool known_opcode(uint8_t op) {
        static const uint8_t ops[] = {
                0x00, 0x03, 0x04, 0x12, 0x1b, 0x1e, 0x23, 0x25, 0x28, 0x2a, 0x35, 0x43, 0x46, 0x4a, 0x51,
                0x52, 0x53, 0x54, 0x55, 0x5a, 0x5b, 0x5c, 0x5d, 0xa1, 0xa8, 0xaa, 0xac, 0xad, 0xb6, 0xbb,
                0xbe,
        };

        for (size_t i = 0; i < sizeof ops; i++)
                if (ops[i] == op)
                        return true;
        return false;
}

static int dispatch(Drive *d, MmcCommand *c, uint8_t *r, size_t *len) {
        const uint8_t *cdb = c->cdb;
        uint8_t op = cdb[0];
        bool need_medium;

        switch (op) {
        case 0x12: return cmd_inquiry(d, cdb, r, len);
        case 0x46: return cmd_get_configuration(d, cdb, r, len);
        case 0x4a: return cmd_event_status(d, cdb, r, len);
        case 0x03:
                /* REQUEST SENSE: the drive's present condition (SPC-4 6.29). */
                r[0] = 0x70;
                r[7] = 10;
                if (long_operation_progress(d) >= 0) {
                        int p = long_operation_progress(d);

                        r[2] = SK_NOT_READY;
                        r[12] = 0x04;
                        r[13] = 0x07;
                        r[15] = 0x80;   /* SKSV: progress indication */
                        r[16] = p >> 8;
                        r[17] = p;
                } else if (!drive_has_medium(d)) {
                        int s = no_medium_sense(d);

                        r[2] = SENSE_KEY(s);
                        r[12] = SENSE_ASC(s);
                        r[13] = SENSE_ASCQ(s);
                }
                *len = 18;
                return 0;
        }

        /* An opcode the drive does not implement is refused whatever its state (SPC-4 4.5.6). */
        if (!known_opcode(op))
                return S_INVALID_OPCODE;

        /* SPC-4 5.14: a pending UNIT ATTENTION is reported once, by the next command. */
        if (d->unit_attention) {
                d->unit_attention = false;
                return S_MEDIUM_CHANGED;
        }

        if (long_operation_progress(d) >= 0 && op != 0x5c && op != 0x4a)
                return S_OP_IN_PROGRESS;

        need_medium = !(op == 0x1b || op == 0x1e || op == 0x5a || op == 0x55 || op == 0x5c ||
                        op == 0xac || op == 0xb6 || op == 0xbb || op == 0x35 || op == 0x54);
        if (need_medium && !drive_has_medium(d))
                return no_medium_sense(d);

        switch (op) {
        case 0x00: return 0;
        case 0x1e:
                d->prevent = cdb[4] & 1;
                return 0;
        case 0x1b:
                if ((cdb[4] & 0x03) == 0x02) {          /* eject */
                        if (d->prevent)
                                return S_REMOVAL_PREVENTED;
                        d->tray_open = true;
                        return medium_save(d) < 0 ? S_WRITE_ERROR : 0;
                }
                if ((cdb[4] & 0x03) == 0x03 && d->tray_open) {  /* load */
                        d->tray_open = false;
                        return medium_save(d) < 0 ? S_WRITE_ERROR : 0;
                }
                return 0;
        case 0x5a: return cmd_mode_sense10(d, cdb, r, len);
        case 0x55: return cmd_mode_select10(d, cdb, c->data, c->dir == EMU_DIR_TO_DEV ? c->data_len : 0);
        case 0x51: return cmd_read_disc_info(d, cdb, r, len);
        case 0x52: return cmd_read_track_info(d, cdb, r, len);
        case 0x43: return cmd_read_toc(d, cdb, r, len);
        case 0x25: return cmd_read_capacity(d, r, len);
        case 0x23: return cmd_read_format_capacities(d, r, len);
        case 0xad: return cmd_read_disc_structure(d, cdb, r, len);
        case 0x04: return cmd_format_unit(d, cdb, c->data, c->dir == EMU_DIR_TO_DEV ? c->data_len : 0);
        case 0x53: return cmd_reserve_track(d, cdb);
        case 0x5d: return cmd_send_cue_sheet(d, c->data, c->dir == EMU_DIR_TO_DEV ? c->data_len : 0);
        case 0x2a:
        case 0xaa: return cmd_write(d, cdb, c->data, c->dir == EMU_DIR_TO_DEV ? c->data_len : 0);
        case 0x35: return cmd_sync_cache(d);
        case 0x5b: return cmd_close(d, cdb);
        case 0xa1: return cmd_blank(d, cdb);
        case 0x28:
        case 0xa8:
        case 0xbe: return cmd_read(d, cdb, c->data, c->dir == EMU_DIR_FROM_DEV ? c->data_len : 0, len);
        case 0x5c: {
                uint64_t cap = d->buf.capacity, fr = buffer_report(&d->buf, bufe(d));

                /* READ BUFFER CAPACITY (MMC-6 6.21) */
                put16(r, 10);
                put32(r + 4, (uint32_t) cap);
                put32(r + 8, (uint32_t) fr);
                *len = 12;
                return 0;
        }
        case 0xac: return cmd_get_performance(d, cdb, r, len);
        case 0xb6: return cmd_set_streaming(d, cdb, c->data, c->dir == EMU_DIR_TO_DEV ? c->data_len : 0);
        case 0xbb:
                choose_speed(d, get16(cdb + 4) == 0xffff ? max_speed(d) : get16(cdb + 4));
                return 0;
        case 0x54: return 0;    /* SEND OPC INFORMATION: calibration always succeeds */
        default:
                return S_INVALID_OPCODE;
        }
}

void mmc_execute(Drive *d, MmcCommand *c) {
        /* On the heap, not thread-local: the emulator runs inside the program under test, and
         * 36 KiB of TLS are zeroed, and so resident, in every thread that program starts (a
         * real drive costs it nothing), which counted in imapid's memory per recorder. */
        uint8_t *reply = NULL;
        size_t len = 0;
        int s;

        c->status = 0;
        c->sense_len = 0;
        c->resid = c->dir == EMU_DIR_NONE ? 0 : c->data_len;
        if (c->cdb_len < 6) {
                c->status = 0x02;
                set_sense(c, S_INVALID_OPCODE);
                return;
        }
        (void) drive_refresh_faults(d);
        if (drive_refresh_write_rate(d))
                buffer_set_rate(&d->buf, d->cfg.write_rate, bufe(d));
        if (medium_replaced(d)) {
                /* A disc was swapped from outside while we hold the drive: reload it and
                 * report the change once, as a drive does after a medium change (SPC-4 5.14). */
                (void) medium_load(d);
                d->sao_pending = false;
                drive_buffer_init(d);
                d->unit_attention = true;
        }

        reply = calloc(1, REPLY_MAX);
        s = reply ? dispatch(d, c, reply, &len) : S_INSUFFICIENT_RESOURCES;
        if (s) {
                c->status = 0x02;       /* CHECK CONDITION */
                set_sense(c, s);
                if (s == S_OP_IN_PROGRESS) {
                        int p = long_operation_progress(d);

                        c->sense[15] = 0x80;
                        c->sense[16] = (p < 0 ? 0xffff : p) >> 8;
                        c->sense[17] = p < 0 ? 0xff : p;
                }
                free(reply);
                return;
        }
        if (c->dir == EMU_DIR_FROM_DEV) {
                bool direct = c->cdb[0] == 0x28 || c->cdb[0] == 0xa8 || c->cdb[0] == 0xbe;
                size_t n = len < c->data_len ? len : c->data_len;

                if (!direct && n > 0)
                        memcpy(c->data, reply, n);
                c->resid = c->data_len - n;
        } else
                c->resid = 0;
        free(reply);
}
