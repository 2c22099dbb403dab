/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The virtual medium: its type, capacity, sessions and tracks, and the
 * files that hold what was recorded.  State lives in <state>/srN/medium
 * (text, see README.md), each track's blocks in <state>/srN/track-NN.bin
 * (2048 bytes per block for data, 2352 for audio), so one process can burn
 * and another read, and a test can compare the files with what it burned.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emu.h"

bool medium_is_cd(MediumType t) {
        return t == MEDIUM_CD_ROM || t == MEDIUM_CD_R || t == MEDIUM_CD_RW;
}

bool medium_is_dvd(MediumType t) {
        return t == MEDIUM_DVD_R || t == MEDIUM_DVD_RW || t == MEDIUM_DVD_RW_RO || t == MEDIUM_DVD_PLUS_R ||
               t == MEDIUM_DVD_PLUS_RW;
}

bool medium_is_bd(MediumType t) {
        return t == MEDIUM_BD_R || t == MEDIUM_BD_RE;
}

bool medium_is_overwritable(MediumType t) {
        return t == MEDIUM_DVD_PLUS_RW || t == MEDIUM_DVD_RW_RO || t == MEDIUM_BD_RE;
}

bool medium_is_erasable(MediumType t) {
        return t == MEDIUM_CD_RW || t == MEDIUM_DVD_RW || t == MEDIUM_DVD_RW_RO || t == MEDIUM_DVD_PLUS_RW ||
               t == MEDIUM_BD_RE;
}

bool medium_is_writable(MediumType t) {
        return t != MEDIUM_NONE && t != MEDIUM_CD_ROM;
}

/* MMC-6 Table 91 profile numbers; a DVD-RW's depends on its recording mode. */
int medium_profile(MediumType t) {
        static const int p[_MEDIUM_MAX] = {
                [MEDIUM_CD_ROM] = 0x08, [MEDIUM_CD_R] = 0x09, [MEDIUM_CD_RW] = 0x0a,
                [MEDIUM_DVD_R] = 0x11, [MEDIUM_DVD_RW] = 0x14, [MEDIUM_DVD_RW_RO] = 0x13,
                [MEDIUM_DVD_PLUS_RW] = 0x1a,
                [MEDIUM_DVD_PLUS_R] = 0x1b, [MEDIUM_BD_R] = 0x41, [MEDIUM_BD_RE] = 0x43,
        };
        return t > 0 && t < _MEDIUM_MAX ? p[t] : 0;
}

int32_t medium_default_capacity(MediumType t) {
        if (medium_is_cd(t))
                return 359849;          /* 80 min: lead-out at 79:59:74 */
        if (medium_is_dvd(t))
                return 2295104;         /* 4.7 GB single layer */
        if (medium_is_bd(t))
                return 12219392;        /* 25 GB single layer */
        return 0;
}

void track_path(const Drive *d, int number, char *buf, size_t len) {
        snprintf(buf, len, "%s/track-%02d.bin", d->dir, number);
}

static void closep(FILE **f) {
        if (*f)
                fclose(*f);
}

static void closefdp(int *fd) {
        if (*fd >= 0)
                close(*fd);
}

static void medium_reset(Medium *m, MediumType type, int32_t capacity) {
        memset(m, 0, sizeof *m);
        m->type = type;
        m->capacity = capacity > 0 ? capacity : medium_default_capacity(type);
        m->formatted_blocks = -1;       /* not given: the whole disc */
}

/* DVD-RW is formatted in whole ECC blocks of 16 sectors (MMC-5 6.5.4.2.5, 6.5.4.2.10). */
static int32_t ecc_round_up(int64_t blocks) {
        return (int32_t) ((blocks + 15) / 16 * 16);
}

/* The largest formatted area a DVD-RW offers: its capacity in whole ECC blocks. */
int32_t medium_max_format_blocks(const Medium *m) {
        return m->capacity / 16 * 16;
}

/* The area that can be written at random and read back: the formatted part of the disc. */
int32_t medium_formatted_blocks(const Medium *m) {
        if (!medium_is_overwritable(m->type) || !m->formatted)
                return 0;
        if (m->type == MEDIUM_DVD_RW_RO)
                return m->formatted_blocks;
        return m->capacity;
}

/*
 * An overwritable medium is one track over its formatted area (MMC-6 4.3.6):
 * the whole capacity of a DVD+RW or BD-RE, the formatted part of a DVD-RW in
 * Restricted Overwrite.
 */
static void medium_fix_overwritable(Medium *m) {
        if (!medium_is_overwritable(m->type))
                return;
        if (m->type == MEDIUM_DVD_RW_RO) {
                m->formatted = true;
                if (m->formatted_blocks < 0 || m->formatted_blocks > medium_max_format_blocks(m))
                        m->formatted_blocks = medium_max_format_blocks(m);
                m->formatted_blocks = ecc_round_up(m->formatted_blocks);
        }
        m->n_tracks = 1;
        m->n_sessions = 1;
        m->closed = false;
        m->last_session_open = false;
        m->tracks[0] = (Track) {
                .number = 1, .session = 1, .start = 0,
                .size = m->type == MEDIUM_DVD_RW_RO ? m->formatted_blocks : m->capacity,
                .written = m->tracks[0].written, .block_size = 2048, .control = 4,
        };
}

/*
 * A DVD-RW in intermediate state (after FORMAT UNIT 13h or 15h) grows as it is
 * written on sequentially from the end of its formatted area (MMC-5 6.5.4.2.10):
 * the session then covers what was written.
 */
void medium_grow_formatted(Medium *m, int32_t end) {
        if (m->type != MEDIUM_DVD_RW_RO || end <= m->formatted_blocks)
                return;
        m->formatted_blocks = ecc_round_up(end);
        m->tracks[0].size = m->formatted_blocks;
}

static void remember_stamp(Drive *d, const char *path) {
        struct stat st;

        if (stat(path, &st) < 0) {
                d->medium_ino = 0;
                return;
        }
        d->medium_ino = st.st_ino;
        d->medium_size = st.st_size;
        d->medium_mtime = st.st_mtim;
}

/* True when someone else (the wrapper, a test) replaced the medium file since we read or wrote it. */
bool medium_replaced(Drive *d) {
        char path[PATH_MAX + 16];
        struct stat st;

        snprintf(path, sizeof path, "%s/medium", d->dir);
        if (stat(path, &st) < 0)
                return d->medium_ino != 0;
        return st.st_ino != d->medium_ino || st.st_size != d->medium_size ||
               st.st_mtim.tv_sec != d->medium_mtime.tv_sec || st.st_mtim.tv_nsec != d->medium_mtime.tv_nsec;
}

static void text_path(const Drive *d, char *buf, size_t len) {
        snprintf(buf, len, "%s/cdtext.bin", d->dir);
}

/* The lead-in's CD-TEXT packs, as READ TOC/PMA/ATIP format 5 returns them. */
static int text_load(Drive *d) {
        _cleanup_(closep) FILE *f = NULL;
        char path[PATH_MAX + 16];

        text_path(d, path, sizeof path);
        f = fopen(path, "re");
        if (!f)
                return -errno;
        if (fread(d->m.text, EMU_TEXT_PACK, (size_t) d->m.n_text, f) != (size_t) d->m.n_text)
                return -EIO;
        return 0;
}

static int text_save(Drive *d) {
        _cleanup_(closep) FILE *f = NULL;
        char path[PATH_MAX + 16];

        text_path(d, path, sizeof path);
        if (d->m.n_text == 0)
                return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
        f = fopen(path, "we");
        if (!f)
                return -errno;
        if (fwrite(d->m.text, EMU_TEXT_PACK, (size_t) d->m.n_text, f) != (size_t) d->m.n_text || fflush(f) != 0)
                return -EIO;
        return 0;
}

/*
 * The drive records in the lead-in what the host sent for it: the packs repeat from the lead-in's
 * start to its end (libburn cycles them), so one period of them is the disc's CD-TEXT. A host that
 * sent less than two periods gets what it sent.
 */
void medium_take_leadin_text(Drive *d) {
        int n = d->n_leadin, p;

        for (p = 1; p < n; p++) {
                int i;

                for (i = p; i < n; i++)
                        if (memcmp(d->leadin[i], d->leadin[i % p], EMU_TEXT_PACK) != 0)
                                break;
                if (i == n)
                        break;
        }
        if (p > EMU_MAX_TEXT_PACKS)
                p = EMU_MAX_TEXT_PACKS;
        d->m.n_text = n > 0 ? p : 0;
        memcpy(d->m.text, d->leadin, (size_t) d->m.n_text * EMU_TEXT_PACK);
        d->n_leadin = 0;
}

int medium_load(Drive *d) {
        _cleanup_(closep) FILE *f = NULL;
        char path[PATH_MAX + 16], line[256];
        Medium *m = &d->m;
        char word[32];

        medium_reset(m, MEDIUM_NONE, 0);
        d->tray_open = false;
        d->dirty = false;
        snprintf(path, sizeof path, "%s/medium", d->dir);
        remember_stamp(d, path);
        f = fopen(path, "re");
        if (!f)
                return errno == ENOENT ? 0 : -errno;

        while (fgets(line, sizeof line, f)) {
                long a, b, c, e, g, h;
                char open_flag[16] = "";

                if (sscanf(line, "medium %31s", word) == 1) {
                        MediumType t = medium_type_from_name(word);
                        medium_reset(m, t == (MediumType) -1 ? MEDIUM_NONE : t, 0);
                } else if (sscanf(line, "capacity %ld", &a) == 1 && a > 0)
                        m->capacity = a;
                else if (sscanf(line, "formatted %ld", &a) == 1)
                        m->formatted = a;
                else if (sscanf(line, "formatted-blocks %ld", &a) == 1 && a >= 0)
                        m->formatted_blocks = a;
                else if (sscanf(line, "intermediate %ld", &a) == 1)
                        m->intermediate = a;
                else if (sscanf(line, "closed %ld", &a) == 1)
                        m->closed = a;
                else if (sscanf(line, "session-open %ld", &a) == 1)
                        m->last_session_open = a;
                else if (sscanf(line, "cdtext %ld", &a) == 1 && a > 0 && a <= EMU_MAX_TEXT_PACKS)
                        m->n_text = (int) a;
                else if (sscanf(line, "tray %31s", word) == 1)
                        d->tray_open = strcmp(word, "open") == 0;
                else if (sscanf(line, "track %ld %ld %ld %ld %ld %ld %15s", &a, &b, &c, &e, &g, &h, open_flag) >= 6 &&
                         m->n_tracks < EMU_MAX_TRACKS) {
                        Track *t = &m->tracks[m->n_tracks++];

                        *t = (Track) {
                                .number = m->n_tracks, .session = b, .start = c, .size = e,
                                .written = e, .block_size = g == 2352 ? 2352 : 2048, .control = h,
                                .open = strcmp(open_flag, "open") == 0 || strcmp(open_flag, "reserved") == 0,
                                .reserved = strcmp(open_flag, "reserved") == 0,
                        };
                        if (t->session > m->n_sessions)
                                m->n_sessions = t->session;
                }
        }
        if (m->type != MEDIUM_DVD_RW_RO)
                m->intermediate = false;
        if (m->n_text > 0 && text_load(d) < 0)
                m->n_text = 0;
        medium_fix_overwritable(m);
        /* The written extent of an overwritable or reserved track is its file size. */
        for (int i = 0; i < m->n_tracks; i++) {
                Track *t = &m->tracks[i];
                char tp[PATH_MAX + 32];
                struct stat st;

                if (!t->reserved && !medium_is_overwritable(m->type))
                        continue;
                track_path(d, t->number, tp, sizeof tp);
                t->written = stat(tp, &st) == 0 ? st.st_size / t->block_size : 0;
        }
        if (m->intermediate)
                medium_grow_formatted(m, m->tracks[0].written);
        return 0;
}

int medium_save(Drive *d) {
        _cleanup_(closep) FILE *f = NULL;
        char path[PATH_MAX + 16], tmp[PATH_MAX + 16];
        Medium *m = &d->m;

        snprintf(path, sizeof path, "%s/medium", d->dir);
        snprintf(tmp, sizeof tmp, "%s/medium.%d.tmp", d->dir, (int) getpid());
        f = fopen(tmp, "we");
        if (!f)
                return -errno;
        fprintf(f, "medium %s\n", medium_type_name(m->type));
        fprintf(f, "capacity %ld\n", (long) m->capacity);
        fprintf(f, "formatted %d\n", m->formatted);
        if (m->type == MEDIUM_DVD_RW_RO) {
                fprintf(f, "formatted-blocks %ld\n", (long) m->formatted_blocks);
                fprintf(f, "intermediate %d\n", m->intermediate);
        }
        fprintf(f, "closed %d\n", m->closed);
        fprintf(f, "session-open %d\n", m->last_session_open);
        fprintf(f, "tray %s\n", d->tray_open ? "open" : "closed");
        if (m->n_text > 0)
                fprintf(f, "cdtext %d\n", m->n_text);
        if (!medium_is_overwritable(m->type))
                for (int i = 0; i < m->n_tracks; i++) {
                        const Track *t = &m->tracks[i];

                        fprintf(f, "track %d %d %ld %ld %d %d%s\n", t->number, t->session, (long) t->start,
                                (long) (t->open && !t->reserved ? t->written : t->size), t->block_size,
                                t->control, t->reserved && t->open ? " reserved" : t->open ? " open" : "");
                }
        if (fflush(f) != 0 || ferror(f))
                return -EIO;
        fclose(f);
        f = NULL;
        if (text_save(d) < 0)
                return -EIO;
        if (rename(tmp, path) < 0)
                return -errno;
        remember_stamp(d, path);
        d->dirty = false;
        return 0;
}

Track *medium_open_track(Medium *m) {
        if (m->n_tracks > 0 && m->tracks[m->n_tracks - 1].open)
                return &m->tracks[m->n_tracks - 1];
        return NULL;
}

int medium_current_session(const Medium *m) {
        return m->last_session_open ? m->n_sessions : m->n_sessions + 1;
}

/*
 * Start of the next track.  A new CD session begins after the previous
 * session's lead-out (6750 blocks for the first, 2250 later), the new
 * lead-in (4500) and the pre-gap (150), as MMC-6 4.2.3.6 lays it out.
 * DVD and BD tracks start on an ECC block / cluster boundary.
 */
int32_t medium_nwa(const Medium *m) {
        const Track *t;
        int32_t end;

        if (medium_is_overwritable(m->type))
                return 0;
        if (m->n_tracks == 0)
                return 0;
        t = &m->tracks[m->n_tracks - 1];
        if (t->open && !t->reserved)
                return t->start + t->written;
        end = t->start + t->size;
        if (medium_is_cd(m->type)) {
                if (!m->last_session_open)
                        end += (m->n_sessions == 1 ? 6750 : 2250) + 4500 + 150;
        } else {
                int align = medium_is_bd(m->type) ? 32 : 16;

                end = (end + align - 1) / align * align;
        }
        return end;
}

Track *medium_find_track(Medium *m, int32_t lba) {
        for (int i = m->n_tracks - 1; i >= 0; i--) {
                Track *t = &m->tracks[i];
                int32_t len = t->open && !t->reserved ? t->written : t->size;

                if (lba >= t->start && lba < t->start + len)
                        return t;
        }
        return NULL;
}

int medium_write(Drive *d, Track *t, int32_t lba, const uint8_t *data, int32_t blocks, int bs) {
        _cleanup_(closefdp) int fd = -1;
        char path[PATH_MAX + 32];
        size_t len = (size_t) blocks * bs;
        off_t off = (off_t) (lba - t->start) * bs;
        ssize_t n;

        track_path(d, t->number, path, sizeof path);
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        n = pwrite(fd, data, len, off);
        if (n < 0)
                return -errno;
        if ((size_t) n != len)
                return -EIO;
        if (lba - t->start + blocks > t->written)
                t->written = lba - t->start + blocks;
        t->block_size = bs;
        return 0;
}

int medium_read(Drive *d, Track *t, int32_t lba, uint8_t *data, int32_t blocks, int bs) {
        _cleanup_(closefdp) int fd = -1;
        char path[PATH_MAX + 32];
        size_t len = (size_t) blocks * bs;
        ssize_t n;

        memset(data, 0, len);
        track_path(d, t->number, path, sizeof path);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        n = pread(fd, data, len, (off_t) (lba - t->start) * bs);
        return n < 0 ? -errno : 0;
}

void medium_close_track(Medium *m, Track *t) {
        if (!t || !t->open)
                return;
        if (!t->reserved)
                t->size = t->written;
        t->open = false;
        t->reserved = false;
}

void medium_close_session(Medium *m, bool final) {
        for (int i = 0; i < m->n_tracks; i++)
                medium_close_track(m, &m->tracks[i]);
        /* An empty session cannot be closed into existence (MMC-6 6.3.3.2). */
        m->last_session_open = false;
        if (m->n_tracks > 0 && final)
                m->closed = true;
}

static void medium_remove_tracks(Drive *d) {
        char path[PATH_MAX + 32];

        for (int i = 1; i <= EMU_MAX_TRACKS; i++) {
                track_path(d, i, path, sizeof path);
                (void) unlink(path);
        }
}

/* BLANK also takes a DVD-RW out of Restricted Overwrite, back to Sequential recording (MMC-5 6.2). */
int medium_blank(Drive *d) {
        Medium *m = &d->m;

        medium_remove_tracks(d);
        medium_reset(m, m->type == MEDIUM_DVD_RW_RO ? MEDIUM_DVD_RW : m->type, m->capacity);
        medium_fix_overwritable(m);
        return 0;
}

/*
 * FORMAT UNIT of a DVD-RW: Restricted Overwrite with a formatted area of
 * `blocks`, intermediate after a quick format or grow (types 13h, 15h).
 * A full or quick (re-)format starts from an empty disc; growing keeps the data.
 */
void medium_format_restricted_overwrite(Drive *d, int32_t blocks, bool intermediate, bool erase) {
        Medium *m = &d->m;

        if (erase) {
                medium_remove_tracks(d);
                medium_reset(m, MEDIUM_DVD_RW_RO, m->capacity);
        }
        m->type = MEDIUM_DVD_RW_RO;
        m->formatted_blocks = ecc_round_up(blocks);
        m->intermediate = intermediate;
        medium_fix_overwritable(m);
}

/*
 * What READ CAPACITY reports + 1: the readable extent of the disc in blocks.
 * On formatted overwritable media that is the whole formatted area, written
 * or not, as a drive reports it; never-written blocks there read as zeros.
 */
int32_t medium_readable_blocks(const Medium *m) {
        int32_t end = 0;

        if (medium_is_overwritable(m->type))
                return medium_formatted_blocks(m);
        for (int i = 0; i < m->n_tracks; i++)
                if (!m->tracks[i].open)
                        end = m->tracks[i].start + m->tracks[i].size;
        return end;
}

/*
 * read(2) on the block device: 2048-byte sectors at offset LBA * 2048, as
 * the sr driver serves them.  Stops at the end of the readable area (0 is
 * EOF); sectors of audio tracks cannot be read this way (EIO, as on Linux).
 */
ssize_t medium_pread(Drive *d, void *data, size_t n, off_t off) {
        Medium *m = &d->m;
        off_t end = (off_t) medium_readable_blocks(m) * 2048;
        uint8_t block[2048];
        size_t done = 0;

        if (off < 0)
                return -EINVAL;
        while (done < n && off + (off_t) done < end) {
                off_t pos = off + done;
                int32_t lba = pos / 2048;
                size_t skip = pos % 2048, len = 2048 - skip;
                Track *t = medium_find_track(m, lba);

                if (len > n - done)
                        len = n - done;
                if (!t)
                        memset(block, 0, sizeof block);  /* gap between sessions, unwritten area */
                else if (t->block_size != 2048)
                        return done > 0 ? (ssize_t) done : -EIO;
                else if (medium_read(d, t, lba, block, 1, 2048) < 0)
                        return done > 0 ? (ssize_t) done : -EIO;
                memcpy((uint8_t *) data + done, block + skip, len);
                done += len;
        }
        return done;
}
