/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the emulator's MMC answers: CDBs go straight into
 * mmc_execute() on a drive whose state directory is a fresh temporary
 * directory.  Output is TAP.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emu.h"

static int n_test, n_fail;

static void ok(bool cond, const char *fmt, ...) {
        va_list ap;

        printf("%s %d - ", cond ? "ok" : "not ok", ++n_test);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        if (!cond)
                n_fail++;
}

static uint8_t buf[256 * 1024];

/* Issues a CDB; returns status; *sense gets key<<16|asc<<8|ascq. */
static int cmd(Drive *d, int dir, size_t len, int *sense, int n, ...) {
        uint8_t cdb[16] = { 0 };
        MmcCommand c = { 0 };
        va_list ap;

        va_start(ap, n);
        for (int i = 0; i < n; i++)
                cdb[i] = va_arg(ap, int);
        va_end(ap);
        c.cdb = cdb;
        c.cdb_len = n <= 6 ? 6 : n <= 10 ? 10 : 12;
        c.dir = dir;
        c.data = buf;
        c.data_len = len;
        if (dir == EMU_DIR_FROM_DEV)
                memset(buf, 0, len);
        mmc_execute(d, &c);
        if (sense)
                *sense = c.sense_len ? (c.sense[2] & 0xf) << 16 | c.sense[12] << 8 | c.sense[13] : 0;
        return c.status;
}

static uint32_t be32(const uint8_t *p) { return (uint32_t) p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
static uint16_t be16(const uint8_t *p) { return p[0] << 8 | p[1]; }

static void write_file(const char *dir, const char *name, const char *text) {
        char path[PATH_MAX];
        FILE *f;

        snprintf(path, sizeof path, "%s/%s", dir, name);
        f = fopen(path, "we");
        if (!f) {
                perror(path);
                exit(1);
        }
        fputs(text, f);
        fclose(f);
}

static char *make_drive(const char *root, int n, const char *medium) {
        static char dir[PATH_MAX];

        snprintf(dir, sizeof dir, "%s/sr%d", root, n);
        if (mkdir(dir, 0755) < 0) {
                perror(dir);
                exit(1);
        }
        write_file(dir, "medium", medium);
        return dir;
}

/* Finds a feature descriptor in a GET CONFIGURATION reply. */
static const uint8_t *find_feature(const uint8_t *r, int code) {
        size_t len = be32(r) + 4;

        for (size_t i = 8; i + 4 <= len; i += 4 + r[i + 3])
                if (be16(r + i) == code)
                        return r + i;
        return NULL;
}

/* Finds a Formattable Capacity Descriptor of a format type in a READ FORMAT CAPACITIES reply. */
static const uint8_t *find_format(const uint8_t *r, int type) {
        for (size_t i = 12; i + 8 <= 4 + (size_t) r[3]; i += 8)
                if (r[i + 4] >> 2 == type)
                        return r + i;
        return NULL;
}

/* FORMAT UNIT with FmtData and one format descriptor, Immed in the list header (as libburn sends it). */
static int format_unit(Drive *d, int type, uint32_t blocks, uint32_t tdp, int *sense) {
        memset(buf, 0, 12);
        buf[1] = 0x02;
        buf[3] = 8;
        buf[4] = blocks >> 24;
        buf[5] = blocks >> 16;
        buf[6] = blocks >> 8;
        buf[7] = blocks;
        buf[8] = type << 2;
        buf[9] = tdp >> 16;
        buf[10] = tdp >> 8;
        buf[11] = tdp;
        return cmd(d, EMU_DIR_TO_DEV, 12, sense, 6, 0x04, 0x11, 0, 0, 0, 0);
}

static int write10(Drive *d, uint32_t lba, int blocks, uint8_t fill, int *sense) {
        memset(buf, fill, (size_t) blocks * 2048);
        return cmd(d, EMU_DIR_TO_DEV, (size_t) blocks * 2048, sense, 10, 0x2a, 0, lba >> 24,
                   (lba >> 16) & 0xff, (lba >> 8) & 0xff, lba & 0xff, 0, blocks >> 8, blocks & 0xff, 0);
}

static int read10(Drive *d, uint32_t lba, int blocks, int *sense) {
        return cmd(d, EMU_DIR_FROM_DEV, (size_t) blocks * 2048, sense, 10, 0x28, 0, lba >> 24,
                   (lba >> 16) & 0xff, (lba >> 8) & 0xff, lba & 0xff, 0, blocks >> 8, blocks & 0xff, 0);
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v) {
        for (size_t i = 0; i < n; i++)
                if (p[i] != v)
                        return false;
        return true;
}

static int32_t read_capacity(Drive *d) {
        int s;

        if (cmd(d, EMU_DIR_FROM_DEV, 8, &s, 10, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0) != 0)
                return -2;
        return (int32_t) be32(buf) + 1;
}

static bool feature_current(Drive *d, int code) {
        const uint8_t *f;
        int s;

        cmd(d, EMU_DIR_FROM_DEV, 4096, &s, 10, 0x46, 0, 0, 0, 0, 0, 0, 0x10, 0, 0);
        f = find_feature(buf, code);
        return f && (f[2] & 1);
}

static void page05_multi(Drive *d, int write_type) {
        uint8_t p[8 + 52] = { 0 };
        int s;

        p[8] = 0x05;
        p[9] = 0x32;
        p[10] = write_type;
        p[11] = 0xc0 | 0x04;    /* multi-session 11b, track mode 4 */
        p[12] = 0x08;
        memcpy(buf, p, sizeof p);
        cmd(d, EMU_DIR_TO_DEV, sizeof p, &s, 10, 0x55, 0x10, 0, 0, 0, 0, 0, 0, sizeof p, 0);
}

/* drive_init() takes zeroed memory; the tests set drives up again in the same variables. */
static void drive_fresh(Drive *d, const char *dir, int index) {
        memset(d, 0, sizeof *d);
        drive_init(d, dir, index);
}

int main(void) {
        char root[] = "/tmp/test-mmc.XXXXXX", *dir;
        Drive d, d2;
        int s, st;
        const uint8_t *f;

        if (!mkdtemp(root)) {
                perror("mkdtemp");
                return 1;
        }

        /* ---- CD-R, blank ---- */
        dir = make_drive(root, 0, "medium cd-r\n");
        write_file(dir, "drive", "vendor=ACME\nproduct=Burner 9000\nrevision=2.5\nspeeds=1764,7056\n");
        drive_fresh(&d, dir, 0);

        st = cmd(&d, EMU_DIR_FROM_DEV, 96, &s, 6, 0x12, 0, 0, 0, 96, 0);
        ok(st == 0 && buf[0] == 0x05 && (buf[1] & 0x80), "INQUIRY: MMC device, removable");
        ok(memcmp(buf + 8, "ACME    ", 8) == 0 && memcmp(buf + 16, "Burner 9000     ", 16) == 0 &&
           memcmp(buf + 32, "2.5 ", 4) == 0, "INQUIRY: vendor/product/revision from the drive file");

        st = cmd(&d, EMU_DIR_NONE, 0, &s, 6, 0x00, 0, 0, 0, 0, 0);
        ok(st == 0 && s == 0, "TEST UNIT READY with a medium: GOOD");

        st = cmd(&d, EMU_DIR_FROM_DEV, 8, &s, 10, 0x46, 0, 0, 0, 0, 0, 0, 0, 8, 0);
        ok(st == 0 && be16(buf + 6) == 0x0009, "GET CONFIGURATION (alloc 8): current profile CD-R");
        ok(be32(buf) + 4 > 8, "GET CONFIGURATION announces the full length (%u)", be32(buf) + 4);
        st = cmd(&d, EMU_DIR_FROM_DEV, 4096, &s, 10, 0x46, 0, 0, 0, 0, 0, 0, 0x10, 0, 0);
        f = find_feature(buf, 0x0000);
        {
                bool cdr_current = false, dvdrw_listed = false, dvdrw_current = false;

                for (int i = 0; f && i < f[3]; i += 4) {
                        int p = be16(f + 4 + i);

                        if (p == 0x09 && (f[6 + i] & 1))
                                cdr_current = true;
                        if (p == 0x1a) {
                                dvdrw_listed = true;
                                dvdrw_current = f[6 + i] & 1;
                        }
                }
                ok(st == 0 && f && cdr_current && dvdrw_listed && !dvdrw_current,
                   "profile list: CD-R current, DVD+RW listed but not current");
        }
        f = find_feature(buf, 0x0021);
        ok(f && (f[2] & 1), "feature 0021h (incremental streaming) current on CD-R");
        f = find_feature(buf, 0x002d);
        ok(f && (f[2] & 1), "feature 002Dh (CD TAO) current on CD-R");
        ok(find_feature(buf, 0x0107) != NULL, "feature 0107h (real-time streaming) present");
        st = cmd(&d, EMU_DIR_FROM_DEV, 4096, &s, 10, 0x46, 2, 0x00, 0x2e, 0, 0, 0, 0x10, 0, 0);
        ok(st == 0 && be32(buf) + 4 == 8 + 8 && be16(buf + 8) == 0x002e, "GET CONFIGURATION RT=2 returns one feature");

        st = cmd(&d, EMU_DIR_FROM_DEV, 34, &s, 10, 0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0);
        ok(st == 0 && (buf[2] & 3) == 0 && !(buf[2] & 0x10), "READ DISC INFORMATION: blank, not erasable");
        ok(buf[4] == 1 && buf[6] == 1, "blank disc: 1 session, last track 1 (the invisible one)");
        ok(buf[17] == 97 && buf[18] == 26 && buf[19] == 66 && buf[21] == 79 && buf[22] == 59 && buf[23] == 74,
           "blank CD: lead-in 97:26:66, last possible lead-out 79:59:74");

        st = cmd(&d, EMU_DIR_FROM_DEV, 36, &s, 10, 0x52, 1, 0, 0, 0, 0xff, 0, 0, 36, 0);
        ok(st == 0 && be32(buf + 12) == 0 && (buf[7] & 1) && be32(buf + 16) == 359849,
           "READ TRACK INFORMATION 0xFF: NWA 0 valid, 359849 blocks free");

        st = cmd(&d, EMU_DIR_FROM_DEV, 28, &s, 10, 0x43, 0, 4, 0, 0, 0, 0, 0, 28, 0);
        ok(st == 0 && buf[8] == 97 && buf[9] == 26 && buf[10] == 66, "READ TOC format 4 (ATIP) on CD-R");

        st = cmd(&d, EMU_DIR_FROM_DEV, 30, &s, 10, 0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 30, 0);
        ok(st == 0 && buf[8] == 0x2a && (buf[11] & 0x01) && (buf[12] & 0x80), "MODE SENSE 2Ah: writes CD-R, BUF");
        {
                int plen = buf[9] + 2, n = (plen - 32) / 4;

                st = cmd(&d, EMU_DIR_FROM_DEV, 8 + plen, &s, 10, 0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 8 + plen, 0);
                ok(st == 0 && n == 2 && be16(buf + 8 + 30) == 2 && be16(buf + 8 + 32 + 2) == 1764 && be16(buf + 8 + 36 + 2) == 7056 &&
                   32 + 4 * n <= buf[9] + 2, "page 2Ah write speed descriptors from the drive file");
        }

        st = cmd(&d, EMU_DIR_FROM_DEV, 18, &s, 10, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        ok(st == 2 && s == 0x052000, "unknown opcode: CHECK CONDITION 5/20/00");
        {
                MmcCommand c = { 0 };
                uint8_t cdb[10] = { 0xd7 };

                c.cdb = cdb;
                c.cdb_len = 10;
                mmc_execute(&d, &c);
                ok(c.sense_len == 18 && c.sense[0] == 0x70 && c.sense[7] == 10, "sense data is fixed format, 18 bytes");
        }

        /* Write a 3-block track TAO, leave the disc appendable. */
        page05_multi(&d, 0x01);
        for (int i = 0; i < 3 * 2048; i++)
                buf[i] = (uint8_t) (i * 7 + 3);
        st = cmd(&d, EMU_DIR_TO_DEV, 3 * 2048, &s, 10, 0x2a, 0, 0, 0, 0, 0, 0, 0, 3, 0);
        ok(st == 0, "WRITE(10) 3 blocks at NWA 0");
        st = cmd(&d, EMU_DIR_TO_DEV, 2048, &s, 10, 0x2a, 0, 0, 0, 0, 9, 0, 0, 1, 0);
        ok(st == 2 && s == 0x052102, "WRITE away from the NWA: 5/21/02");
        st = cmd(&d, EMU_DIR_NONE, 0, &s, 10, 0x35, 0x02, 0, 0, 0, 0, 0, 0, 0, 0);
        ok(st == 0, "SYNCHRONIZE CACHE ends the TAO track");
        st = cmd(&d, EMU_DIR_NONE, 0, &s, 10, 0x5b, 0x01, 0x02, 0, 0, 0, 0, 0, 0, 0);
        ok(st == 0, "CLOSE SESSION");
        st = cmd(&d, EMU_DIR_FROM_DEV, 34, &s, 10, 0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0);
        ok(st == 0 && (buf[2] & 3) == 1 && ((buf[2] >> 2) & 3) == 0 && buf[4] == 2 && buf[5] == 2 && buf[6] == 2,
           "READ DISC INFORMATION: appendable, 2 sessions (one empty), next track 2");
        st = cmd(&d, EMU_DIR_FROM_DEV, 36, &s, 10, 0x52, 1, 0, 0, 0, 0xff, 0, 0, 36, 0);
        ok(st == 0 && be32(buf + 12) == 3 + 11400 && buf[2] == 2 && buf[3] == 2,
           "next session's NWA after lead-out, lead-in and pre-gap (%u)", be32(buf + 12));
        st = cmd(&d, EMU_DIR_FROM_DEV, 36, &s, 10, 0x52, 1, 0, 0, 0, 1, 0, 0, 36, 0);
        ok(st == 0 && be32(buf + 8) == 0 && be32(buf + 24) == 3 && !(buf[7] & 1), "track 1: start 0, 3 blocks, closed");

        st = cmd(&d, EMU_DIR_FROM_DEV, 100, &s, 10, 0x43, 0, 0, 0, 0, 0, 1, 0, 100, 0);
        ok(st == 0 && buf[2] == 1 && buf[3] == 1 && buf[6] == 1 && buf[14] == 0xaa && be32(buf + 16) == 3,
           "READ TOC format 0: track 1, lead-out at LBA 3");
        st = cmd(&d, EMU_DIR_FROM_DEV, 100, &s, 10, 0x43, 2, 0, 0, 0, 0, 1, 0, 100, 0);
        ok(st == 0 && buf[6] == 1 && buf[9] == 0 && buf[10] == 2 && buf[11] == 0,
           "READ TOC format 0 MSF: track 1 at 00:02:00");
        st = cmd(&d, EMU_DIR_FROM_DEV, 200, &s, 10, 0x43, 2, 2, 0, 0, 0, 0, 0, 200, 0);
        ok(st == 0 && be16(buf) == 2 + 4 * 11 && buf[3] == 1 && buf[4 + 3] == 0xa0 && buf[4 + 22 + 3] == 0xa2 &&
           buf[4 + 33 + 3] == 1, "READ TOC format 2: A0, A1, A2 and track 1 of session 1");
        st = cmd(&d, EMU_DIR_FROM_DEV, 8, &s, 10, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        ok(st == 0 && be32(buf) == 2 && be32(buf + 4) == 2048, "READ CAPACITY: last LBA 2");
        st = cmd(&d, EMU_DIR_FROM_DEV, 2 * 2048, &s, 10, 0x28, 0, 0, 0, 0, 1, 0, 0, 2, 0);
        {
                bool same = st == 0;

                for (int i = 0; i < 2 * 2048 && same; i++)
                        same = buf[i] == (uint8_t) ((i + 2048) * 7 + 3);
                ok(same, "READ(10) returns the written blocks");
        }
        st = cmd(&d, EMU_DIR_FROM_DEV, 2048, &s, 10, 0x28, 0, 0, 0, 0, 3, 0, 0, 1, 0);
        ok(st == 2 && s == 0x052100, "READ(10) beyond the recorded area: 5/21/00");
        st = cmd(&d, EMU_DIR_FROM_DEV, 2048, &s, 12, 0xbe, 0x04, 0, 0, 0, 0, 0, 0, 1, 0x10, 0, 0);
        ok(st == 2 && s == 0x056400, "READ CD expecting CD-DA of a data sector: 5/64/00");
        st = cmd(&d, EMU_DIR_FROM_DEV, 2048, &s, 12, 0xbe, 0x00, 0, 0, 0, 0, 0, 0, 1, 0x10, 0, 0);
        ok(st == 0 && buf[0] == (uint8_t) 3, "READ CD of any sector type: the data sector's user data");

        /* Persistence: another "process" sees the same disc. */
        drive_fresh(&d2, dir, 0);
        ok(d2.m.n_tracks == 1 && d2.m.tracks[0].size == 3 && !d2.m.closed, "medium state persists in the state directory");

        /* Faults */
        write_file(dir, "faults", "write-protect\n");
        st = cmd(&d, EMU_DIR_TO_DEV, 2048, &s, 10, 0x2a, 0, 0, 0, 0x2d, 0x9b, 0, 0, 1, 0);
        ok(st == 2 && s == 0x072700, "write-protect fault: WRITE gives 7/27/00");
        write_file(dir, "faults", "loss-of-streaming=11405\n");
        st = cmd(&d, EMU_DIR_TO_DEV, 2 * 2048, &s, 10, 0x2a, 0, 0, 0, 0x2c, 0x8b, 0, 0, 2, 0);
        ok(st == 0, "WRITE before the loss-of-streaming LBA succeeds");
        st = cmd(&d, EMU_DIR_TO_DEV, 4 * 2048, &s, 10, 0x2a, 0, 0, 0, 0x2c, 0x8d, 0, 0, 4, 0);
        ok(st == 2 && s == 0x030c09, "WRITE covering the loss-of-streaming LBA: 3/0C/09");
        write_file(dir, "faults", "no-medium\n");
        st = cmd(&d, EMU_DIR_NONE, 0, &s, 6, 0x00, 0, 0, 0, 0, 0);
        ok(st == 2 && s == 0x023a01, "no-medium fault: TUR 2/3A/01");
        st = cmd(&d, EMU_DIR_FROM_DEV, 18, &s, 6, 0x03, 0, 0, 0, 18, 0);
        ok(st == 0 && buf[0] == 0x70 && buf[2] == 2 && buf[12] == 0x3a, "REQUEST SENSE reports the missing medium");
        st = cmd(&d, EMU_DIR_NONE, 0, &s, 10, 0xe5, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        ok(st == 2 && s == 0x052000, "unknown opcode without a medium: still 5/20/00");
        st = cmd(&d, EMU_DIR_FROM_DEV, 8, &s, 10, 0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8, 0);
        ok(st == 0 && buf[2] == 4 && !(buf[5] & 2), "GET EVENT STATUS NOTIFICATION: media class, no medium");
        write_file(dir, "faults", "medium-changed\n");
        st = cmd(&d, EMU_DIR_NONE, 0, &s, 6, 0x00, 0, 0, 0, 0, 0);
        ok(st == 2 && s == 0x062800, "medium-changed: one UNIT ATTENTION 6/28/00");
        st = cmd(&d, EMU_DIR_NONE, 0, &s, 6, 0x00, 0, 0, 0, 0, 0);
        ok(st == 0, "... and GOOD afterwards");
        write_file(dir, "faults", "");

        st = cmd(&d, EMU_DIR_FROM_DEV, 12, &s, 10, 0x5c, 0, 0, 0, 0, 0, 0, 0, 12, 0);
        ok(st == 0 && be32(buf + 4) == 2048 * 1024 && be32(buf + 8) <= be32(buf + 4),
           "READ BUFFER CAPACITY: 2 MiB buffer");
        st = cmd(&d, EMU_DIR_FROM_DEV, 8 + 16 * 4, &s, 12, 0xac, 0, 0, 0, 0, 0, 0, 0, 0, 4, 3, 0);
        ok(st == 0 && be32(buf) == 4 + 2 * 16 && be32(buf + 8 + 12) == 7056, "GET PERFORMANCE type 3: 2 write speeds");

        /* Close the disc: closed status. */
        page05_multi(&d, 0x01);
        d.page05[3] &= 0x3f;
        st = cmd(&d, EMU_DIR_NONE, 0, &s, 10, 0x5b, 0x01, 0x02, 0, 0, 0, 0, 0, 0, 0);
        st = cmd(&d, EMU_DIR_FROM_DEV, 34, &s, 10, 0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0);
        ok(st == 0 && (buf[2] & 3) == 2 && ((buf[2] >> 2) & 3) == 3 && buf[4] == 2 && buf[6] == 2,
           "READ DISC INFORMATION: closed after the final CLOSE SESSION, 2 sessions");
        st = cmd(&d, EMU_DIR_TO_DEV, 2048, &s, 10, 0x2a, 0, 0, 0, 0x40, 0, 0, 0, 1, 0);
        ok(st == 2, "WRITE on a closed disc fails");

        /* ---- DVD+RW ---- */
        dir = make_drive(root, 1, "medium dvd+rw\n");
        drive_fresh(&d, dir, 1);
        st = cmd(&d, EMU_DIR_FROM_DEV, 8, &s, 10, 0x46, 0, 0, 0, 0, 0, 0, 0, 8, 0);
        ok(st == 0 && be16(buf + 6) == 0x1a, "DVD+RW: current profile 001Ah");
        st = cmd(&d, EMU_DIR_FROM_DEV, 252, &s, 10, 0x23, 0, 0, 0, 0, 0, 0, 0, 252, 0);
        ok(st == 0 && buf[3] == 16 && (buf[8] & 3) == 1 && (buf[16] >> 2) == 0x26,
           "READ FORMAT CAPACITIES: unformatted, format type 26h offered");
        buf[0] = 0;
        buf[1] = 0x02;
        buf[2] = 0;
        buf[3] = 8;
        memset(buf + 4, 0xff, 4);
        buf[8] = 0x26 << 2;
        buf[9] = buf[10] = buf[11] = 0;
        st = cmd(&d, EMU_DIR_TO_DEV, 12, &s, 6, 0x04, 0x11, 0, 0, 0, 0);
        ok(st == 0 && d.m.formatted, "FORMAT UNIT 26h formats the DVD+RW");
        st = cmd(&d, EMU_DIR_FROM_DEV, 34, &s, 10, 0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0);
        ok(st == 0 && (buf[2] & 0x10) && (buf[7] & 3) == 3, "DVD+RW: erasable, background format complete");
        st = cmd(&d, EMU_DIR_FROM_DEV, 2048, &s, 10, 0xa1, 0x01, 0, 0, 0, 0, 0, 0, 0, 0);
        ok(st == 2 && s == 0x053005, "BLANK is refused on DVD+RW");
        st = write10(&d, 64, 16, 0x5a, &s);
        ok(st == 0 && read_capacity(&d) == 2295104,
           "DVD+RW: READ CAPACITY is the whole formatted disc, not what was written (%d)",
           read_capacity(&d));
        st = read10(&d, 2295103, 1, &s);
        ok(st == 0 && all_bytes(buf, 2048, 0), "DVD+RW: a never-written block reads as zeros");
        st = read10(&d, 2295104, 1, &s);
        ok(st == 2 && s == 0x052100, "DVD+RW: READ past the formatted area: 5/21/00");
        dir = make_drive(root, 6, "medium bd-re\nformatted 1\ncapacity 100000\n");
        drive_fresh(&d, dir, 6);
        st = write10(&d, 0, 32, 0x77, &s);
        ok(st == 0 && read_capacity(&d) == 100000,
           "BD-RE: READ CAPACITY is the formatted capacity after a small write");

        /* ---- DVD-RW: Sequential recording <-> Restricted Overwrite ---- */
        dir = make_drive(root, 5, "medium dvd-rw\n");
        drive_fresh(&d, dir, 5);
        st = cmd(&d, EMU_DIR_FROM_DEV, 8, &s, 10, 0x46, 0, 0, 0, 0, 0, 0, 0, 8, 0);
        ok(st == 0 && be16(buf + 6) == 0x14, "blank DVD-RW: profile 0014h (sequential)");
        ok(feature_current(&d, 0x0023) && feature_current(&d, 0x0021) && !feature_current(&d, 0x0026),
           "sequential DVD-RW: Formattable and Incremental Streaming current, Restricted Overwrite not");
        st = cmd(&d, EMU_DIR_FROM_DEV, 252, &s, 10, 0x23, 0, 0, 0, 0, 0, 0, 0, 252, 0);
        ok(st == 0 && buf[3] == 4 * 8 && (buf[8] & 3) == 1 && be32(buf + 4) == 2295104,
           "READ FORMAT CAPACITIES on sequential DVD-RW: unformatted, 3 format descriptors");
        f = find_format(buf, 0x00);
        ok(f && be32(f) == 2295104 && f[7] == 0x00 && f[6] == 0x08,
           "... 00h full format, full size, block length");
        f = find_format(buf, 0x15);
        ok(f && be32(f) == 2295104 && f[7] == 16 && find_format(buf, 0x10) && !find_format(buf, 0x13),
           "... 10h and 15h (quick, ECC block 16), no 13h grow");
        st = format_unit(&d, 0x13, 0, 16, &s);
        ok(st == 2 && s == 0x052600, "FORMAT UNIT 13h on sequential DVD-RW: 5/26/00");
        st = format_unit(&d, 0x00, 2295104 + 16, 0x800, &s);
        ok(st == 2 && s == 0x052600, "FORMAT UNIT 00h beyond the offered size: 5/26/00");
        st = format_unit(&d, 0x00, 2295104, 0x800, &s);
        ok(st == 0 && d.m.type == MEDIUM_DVD_RW_RO && d.m.formatted_blocks == 2295104 && !d.m.intermediate,
           "FORMAT UNIT 00h (xorriso -format as_needed): fully formatted Restricted Overwrite");
        st = cmd(&d, EMU_DIR_FROM_DEV, 4096, &s, 10, 0x46, 0, 0, 0, 0, 0, 0, 0x10, 0, 0);
        f = find_feature(buf, 0x0000);
        {
                bool listed = false;

                for (int i = 0; f && i < f[3]; i += 4)
                        listed |= be16(f + 4 + i) == 0x13 && (f[6 + i] & 1);
                ok(st == 0 && be16(buf + 6) == 0x13 && listed,
                   "profile 0013h current and in the profile list");
        }
        ok(feature_current(&d, 0x0026) && feature_current(&d, 0x002c) && feature_current(&d, 0x0023),
           "Restricted Overwrite, Rigid Restricted Overwrite, Formattable current");
        ok(!feature_current(&d, 0x0021) && !feature_current(&d, 0x002f) && !feature_current(&d, 0x0020),
           "no Incremental Streaming, DVD-R/-RW Write or Random Writable in Restricted Overwrite");
        st = cmd(&d, EMU_DIR_FROM_DEV, 252, &s, 10, 0x23, 0, 0, 0, 0, 0, 0, 0, 252, 0);
        f = find_format(buf, 0x13);
        ok(st == 0 && (buf[8] & 3) == 2 && be32(buf + 4) == 2295104 && f && be32(f) == 0 &&
           find_format(buf, 0x11), "READ FORMAT CAPACITIES: formatted, 13h/11h offer 0 blocks when full");
        st = cmd(&d, EMU_DIR_FROM_DEV, 34, &s, 10, 0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0);
        ok(st == 0 && (buf[2] & 3) == 2 && ((buf[2] >> 2) & 3) == 3 && (buf[2] & 0x10) && buf[4] == 1,
           "READ DISC INFORMATION: one complete session, erasable");
        st = cmd(&d, EMU_DIR_FROM_DEV, 36, &s, 10, 0x52, 1, 0, 0, 0, 1, 0, 0, 36, 0);
        ok(st == 0 && be32(buf + 8) == 0 && be32(buf + 24) == 2295104,
           "READ TRACK INFORMATION: track 1 over the disc");
        ok(read_capacity(&d) == 2295104, "READ CAPACITY: the formatted area");
        st = write10(&d, 32, 16, 0xa5, &s);
        ok(st == 0, "WRITE of one ECC block at LBA 32");
        st = write10(&d, 40, 16, 0, &s);
        ok(st == 2 && s == 0x052102, "WRITE off an ECC block boundary: 5/21/02");
        st = write10(&d, 48, 8, 0, &s);
        ok(st == 2 && s == 0x052400, "WRITE of half an ECC block: 5/24/00");
        st = write10(&d, 2295104 - 16, 16, 0x3c, &s);
        ok(st == 0, "WRITE of the last ECC block");
        st = read10(&d, 32, 16, &s);
        ok(st == 0 && all_bytes(buf, 16 * 2048, 0xa5), "READ returns the written blocks");
        st = read10(&d, 1000, 1, &s);
        ok(st == 0 && all_bytes(buf, 2048, 0), "a never-written block of the formatted area reads as zeros");
        drive_fresh(&d2, dir, 5);
        ok(d2.m.type == MEDIUM_DVD_RW_RO && d2.m.formatted_blocks == 2295104 && !d2.m.intermediate &&
           d2.m.tracks[0].written == 2295104, "Restricted Overwrite persists in the medium file");

        /* Quick format: intermediate, grows from LBA 0, CLOSE SESSION ends it. */
        st = format_unit(&d, 0x15, 0, 16, &s);
        ok(st == 0 && d.m.intermediate && d.m.formatted_blocks == 0,
           "FORMAT UNIT 15h, 0 blocks: intermediate");
        st = cmd(&d, EMU_DIR_FROM_DEV, 252, &s, 10, 0x23, 0, 0, 0, 0, 0, 0, 0, 252, 0);
        ok(st == 0 && (buf[8] & 3) == 3 && !find_format(buf, 0x13) && !find_format(buf, 0x11) &&
           find_format(buf, 0x15), "READ FORMAT CAPACITIES in intermediate state: 11b, no 11h/13h");
        st = cmd(&d, EMU_DIR_FROM_DEV, 34, &s, 10, 0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0);
        ok(st == 0 && (buf[2] & 3) == 0, "READ DISC INFORMATION: the empty intermediate session is blank");
        st = read10(&d, 32, 1, &s);
        ok(st == 2 && s == 0x052100, "the quick format discarded the old data");
        st = write10(&d, 16, 16, 0, &s);
        ok(st == 2 && s == 0x052102, "intermediate: WRITE past the end of the session: 5/21/02");
        st = write10(&d, 0, 32, 0x11, &s);
        ok(st == 0 && d.m.formatted_blocks == 32 && read_capacity(&d) == 32,
           "intermediate: sequential WRITE from LBA 0 grows the session");
        st = cmd(&d, EMU_DIR_FROM_DEV, 34, &s, 10, 0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0);
        ok(st == 0 && (buf[2] & 3) == 1 && ((buf[2] >> 2) & 3) == 1,
           "READ DISC INFORMATION: incomplete session");
        st = cmd(&d, EMU_DIR_NONE, 0, &s, 10, 0x5b, 0x01, 0x02, 0, 0, 0, 0, 0, 0, 0);
        ok(st == 0 && !d.m.intermediate && d.m.formatted_blocks == 32,
           "CLOSE SESSION ends the intermediate state");
        st = cmd(&d, EMU_DIR_FROM_DEV, 252, &s, 10, 0x23, 0, 0, 0, 0, 0, 0, 0, 252, 0);
        f = find_format(buf, 0x13);
        ok(st == 0 && (buf[8] & 3) == 2 && be32(buf + 4) == 32 && f && be32(f) == 2295104 - 32,
           "partly formatted: 32 blocks, 13h offers the rest");
        st = write10(&d, 32, 16, 0, &s);
        ok(st == 2 && s == 0x052100, "WRITE beyond the formatted area of a closed session: 5/21/00");
        st = format_unit(&d, 0x13, 0, 16, &s);
        ok(st == 0 && d.m.intermediate && d.m.formatted_blocks == 32,
           "FORMAT UNIT 13h, 0 blocks: intermediate again");
        st = write10(&d, 32, 16, 0x22, &s);
        ok(st == 0 && d.m.formatted_blocks == 48, "... and the session grows again");
        st = read10(&d, 0, 1, &s);
        ok(st == 0 && all_bytes(buf, 2048, 0x11), "growing kept the data");
        st = format_unit(&d, 0x11, 1000, 16, &s);
        ok(st == 0 && !d.m.intermediate && d.m.formatted_blocks == 1056 && read_capacity(&d) == 1056,
           "FORMAT UNIT 11h grows the formatted area by whole ECC blocks");

        /* BLANK back to Sequential recording. */
        st = cmd(&d, EMU_DIR_NONE, 0, &s, 12, 0xa1, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        ok(st == 0 && d.m.type == MEDIUM_DVD_RW && d.m.n_tracks == 0,
           "BLANK makes it a blank sequential DVD-RW");
        st = cmd(&d, EMU_DIR_FROM_DEV, 8, &s, 10, 0x46, 0, 0, 0, 0, 0, 0, 0, 8, 0);
        ok(st == 0 && be16(buf + 6) == 0x14 && read10(&d, 0, 1, &s) == 2,
           "... profile 0014h, nothing to read");
        drive_fresh(&d2, dir, 5);
        ok(d2.m.type == MEDIUM_DVD_RW && d2.m.n_tracks == 0, "... also for the next process");

        /* A formatted one inserted directly, and a quick-formatted one. */
        dir = make_drive(root, 7, "medium dvd-rw-ro\ncapacity 50010\n");
        drive_fresh(&d, dir, 7);
        ok(d.m.formatted_blocks == 50000 && read_capacity(&d) == 50000,
           "medium dvd-rw-ro: formatted over its capacity in whole ECC blocks");
        dir = make_drive(root, 8, "medium dvd-rw-ro\nformatted-blocks 0\nintermediate 1\n");
        drive_fresh(&d, dir, 8);
        st = cmd(&d, EMU_DIR_FROM_DEV, 12, &s, 10, 0x23, 0, 0, 0, 0, 0, 0, 0, 12, 0);
        ok(st == 0 && d.m.intermediate && (buf[8] & 3) == 3,
           "medium dvd-rw-ro, intermediate 1: quick-formatted");

        /* ---- CD-ROM ---- */
        dir = make_drive(root, 2, "medium cd-rom\nclosed 1\ntrack 1 1 0 10 2048 4\n");
        drive_fresh(&d, dir, 2);
        st = cmd(&d, EMU_DIR_FROM_DEV, 8, &s, 10, 0x46, 0, 0, 0, 0, 0, 0, 0, 8, 0);
        ok(st == 0 && be16(buf + 6) == 0x08, "CD-ROM: current profile 0008h");
        st = cmd(&d, EMU_DIR_TO_DEV, 2048, &s, 10, 0x2a, 0, 0, 0, 0, 10, 0, 0, 1, 0);
        ok(st == 2, "CD-ROM: WRITE refused");

        /* ---- CD-R: audio TAO, READ CD, capacity limit ---- */
        dir = make_drive(root, 3, "medium cd-r\ncapacity 20\n");
        drive_fresh(&d, dir, 3);
        {
                uint8_t p[8 + 52] = { 0 };

                p[8] = 0x05;
                p[9] = 0x32;
                p[10] = 0x01;   /* TAO */
                p[11] = 0x00;   /* audio track mode */
                p[12] = 0x00;   /* raw 2352 */
                memcpy(buf, p, sizeof p);
                st = cmd(&d, EMU_DIR_TO_DEV, sizeof p, &s, 10, 0x55, 0x10, 0, 0, 0, 0, 0, 0, sizeof p, 0);
        }
        for (int i = 0; i < 2 * 2352; i++)
                buf[i] = (uint8_t) (i * 13 + 1);
        st = cmd(&d, EMU_DIR_TO_DEV, 2 * 2352, &s, 10, 0x2a, 0, 0, 0, 0, 0, 0, 0, 2, 0);
        ok(st == 0 && d.m.tracks[0].block_size == 2352 && d.m.tracks[0].control == 0,
           "WRITE of 2352-byte blocks makes an audio track");
        st = cmd(&d, EMU_DIR_NONE, 0, &s, 10, 0x35, 0x02, 0, 0, 0, 0, 0, 0, 0, 0);
        st = cmd(&d, EMU_DIR_FROM_DEV, 2048, &s, 10, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0);
        ok(st == 2 && s == 0x056400, "READ(10) of an audio track: 5/64/00");
        st = cmd(&d, EMU_DIR_FROM_DEV, 2 * 2352, &s, 12, 0xbe, 0x04, 0, 0, 0, 0, 0, 0, 2, 0x10, 0, 0);
        {
                bool same = st == 0;

                for (int i = 0; i < 2 * 2352 && same; i++)
                        same = buf[i] == (uint8_t) (i * 13 + 1);
                ok(same, "READ CD returns the raw audio sectors");
        }
        /* Expected Sector Type Mode 1 (byte 1 = 2 << 2) on an audio sector */
        st = cmd(&d, EMU_DIR_FROM_DEV, 2352, &s, 12, 0xbe, 0x08, 0, 0, 0, 0, 0, 0, 1, 0x10, 0, 0);
        ok(st == 2 && s == 0x056400, "READ CD expecting Mode 1 of an audio sector: 5/64/00");
        for (int i = 0; i < 2048 * 19; i++)
                buf[i] = 0;
        st = cmd(&d, EMU_DIR_TO_DEV, 19 * 2048, &s, 10, 0x2a, 0, 0, 0, 0, 2, 0, 0, 19, 0);
        ok(st == 2 && s == 0x052100, "WRITE past the capacity: 5/21/00");

        /* Another process inserts a different disc while we hold the drive. */
        write_file(dir, "medium.new", "medium dvd+r\n");
        {
                char a[PATH_MAX + 16], b[PATH_MAX + 16];

                snprintf(a, sizeof a, "%s/medium.new", dir);
                snprintf(b, sizeof b, "%s/medium", dir);
                rename(a, b);
        }
        st = cmd(&d, EMU_DIR_NONE, 0, &s, 6, 0x00, 0, 0, 0, 0, 0);
        ok(st == 2 && s == 0x062800, "replaced medium file: UNIT ATTENTION 6/28/00");
        st = cmd(&d, EMU_DIR_FROM_DEV, 8, &s, 10, 0x46, 0, 0, 0, 0, 0, 0, 0, 8, 0);
        ok(st == 0 && be16(buf + 6) == 0x1b, "... and the new disc's profile (DVD+R)");

        write_file(dir, "faults", "tray-open\n");
        st = cmd(&d, EMU_DIR_FROM_DEV, 8, &s, 10, 0x46, 0, 0, 0, 0, 0, 0, 0, 8, 0);
        ok(st == 0 && be16(buf + 6) == 0, "tray open: GET CONFIGURATION current profile 0");
        st = cmd(&d, EMU_DIR_NONE, 0, &s, 6, 0x00, 0, 0, 0, 0, 0);
        ok(st == 2 && s == 0x023a02, "tray open: TUR 2/3A/02");

        /* ---- BLANK with Immed on a slow drive: progress in the sense bytes ---- */
        dir = make_drive(root, 4, "medium cd-rw\nclosed 1\ntrack 1 1 0 10 2048 4\n");
        write_file(dir, "drive", "erase-seconds=30\n");
        drive_fresh(&d, dir, 4);
        st = cmd(&d, EMU_DIR_NONE, 0, &s, 12, 0xa1, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        ok(st == 0 && d.m.n_tracks == 0, "BLANK (Immed) returns at once");
        {
                MmcCommand c = { 0 };
                uint8_t cdb[6] = { 0x00 };

                c.cdb = cdb;
                c.cdb_len = 6;
                mmc_execute(&d, &c);
                ok(c.status == 2 && (c.sense[2] & 0xf) == 2 && c.sense[12] == 0x04 && c.sense[13] == 0x07 &&
                   (c.sense[15] & 0x80), "TUR while blanking: 2/04/07 with a progress indication");
        }
        st = cmd(&d, EMU_DIR_FROM_DEV, 18, &s, 6, 0x03, 0, 0, 0, 18, 0);
        ok(st == 0 && buf[12] == 0x04 && buf[13] == 0x07 && (buf[15] & 0x80), "REQUEST SENSE shows the progress");

        printf("1..%d\n", n_test);
        {
                char cmdline[PATH_MAX + 16];

                snprintf(cmdline, sizeof cmdline, "rm -rf '%s'", root);
                if (system(cmdline) != 0)
                        fprintf(stderr, "could not remove %s\n", root);
        }
        return n_fail ? 1 : 0;
}
