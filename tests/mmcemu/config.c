/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parsing of a drive's configuration (<state>/srN/drive) and of its fault
 * set (<state>/srN/faults).  Both are plain "key=value" lines so that a
 * test can write them with echo; the syntax is documented in README.md.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "emu.h"

static const char *const medium_names[_MEDIUM_MAX] = {
        [MEDIUM_NONE] = "none",
        [MEDIUM_CD_ROM] = "cd-rom",
        [MEDIUM_CD_R] = "cd-r",
        [MEDIUM_CD_RW] = "cd-rw",
        [MEDIUM_DVD_R] = "dvd-r",
        [MEDIUM_DVD_RW] = "dvd-rw",
        [MEDIUM_DVD_RW_RO] = "dvd-rw-ro",
        [MEDIUM_DVD_PLUS_R] = "dvd+r",
        [MEDIUM_DVD_PLUS_RW] = "dvd+rw",
        [MEDIUM_BD_R] = "bd-r",
        [MEDIUM_BD_RE] = "bd-re",
};

MediumType medium_type_from_name(const char *name) {
        for (int i = 0; i < _MEDIUM_MAX; i++)
                if (strcasecmp(name, medium_names[i]) == 0)
                        return i;
        return -1;
}

const char *medium_type_name(MediumType t) {
        if (t < 0 || t >= _MEDIUM_MAX)
                return "none";
        return medium_names[t];
}

static void closep(FILE **f) {
        if (*f)
                fclose(*f);
}

static char *strip(char *s) {
        char *e;

        while (isspace((unsigned char) *s))
                s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char) e[-1]))
                *--e = 0;
        return s;
}

/* Space-padded copy, as INQUIRY wants (SPC-4 6.4.2). */
static void copy_padded(char *dst, size_t size, const char *src) {
        size_t n = strlen(src);

        if (n > size - 1)
                n = size - 1;
        memset(dst, ' ', size - 1);
        memcpy(dst, src, n);
        dst[size - 1] = 0;
}

int drive_config_load(Drive *d) {
        _cleanup_(closep) FILE *f = NULL;
        char path[PATH_MAX + 16], line[512];
        DriveConfig *c = &d->cfg;
        struct stat st;

        copy_padded(c->vendor, sizeof c->vendor, "MMCEMU");
        snprintf(line, sizeof line, "VIRTUAL BD-RE %d", d->index);
        copy_padded(c->product, sizeof c->product, line);
        copy_padded(c->revision, sizeof c->revision, "1.00");
        c->n_speeds = 0;
        c->buffer_kib = 2048;
        c->write_rate = 0;
        c->burnfree = true;
        c->cdtext = true;
        c->erase_seconds = 0;

        snprintf(path, sizeof path, "%s/drive", d->dir);
        f = fopen(path, "re");
        if (!f)
                return errno == ENOENT ? 0 : -errno;
        if (fstat(fileno(f), &st) == 0) {
                d->config_ino = st.st_ino;
                d->config_size = st.st_size;
                d->config_mtime = st.st_mtim;
        }

        while (fgets(line, sizeof line, f)) {
                char *s = strip(line), *v;

                if (*s == 0 || *s == '#')
                        continue;
                v = strchr(s, '=');
                if (!v)
                        continue;
                *v++ = 0;
                s = strip(s);
                v = strip(v);
                if (strcmp(s, "vendor") == 0)
                        copy_padded(c->vendor, sizeof c->vendor, v);
                else if (strcmp(s, "product") == 0)
                        copy_padded(c->product, sizeof c->product, v);
                else if (strcmp(s, "revision") == 0)
                        copy_padded(c->revision, sizeof c->revision, v);
                else if (strcmp(s, "speeds") == 0) {
                        char *tok, *save = NULL;

                        c->n_speeds = 0;
                        for (tok = strtok_r(v, ",", &save); tok && c->n_speeds < EMU_MAX_SPEEDS;
                             tok = strtok_r(NULL, ",", &save))
                                if (atoi(tok) > 0)
                                        c->speeds[c->n_speeds++] = atoi(tok);
                } else if (strcmp(s, "buffer-kib") == 0)
                        c->buffer_kib = atoi(v) > 0 ? atoi(v) : 2048;
                else if (strcmp(s, "write-rate") == 0)
                        c->write_rate = atoi(v) > 0 ? atoi(v) : 0;
                else if (strcmp(s, "burnfree") == 0)
                        c->burnfree = atoi(v) != 0;
                else if (strcmp(s, "cdtext") == 0)
                        c->cdtext = atoi(v) != 0;
                else if (strcmp(s, "buffer-record") == 0)
                        c->buffer_record = atoi(v) != 0;
                else if (strcmp(s, "erase-seconds") == 0)
                        c->erase_seconds = strtod(v, NULL) > 0 ? strtod(v, NULL) : 0;
        }
        return 0;
}

void faults_reset(Faults *f) {
        *f = (Faults) {
                .loss_of_streaming_lba = FAULT_LBA_OFF,
                .write_error_lba = FAULT_LBA_OFF,
                .corrupt_lba = FAULT_LBA_OFF,
                .read_error_lba = FAULT_LBA_OFF,
                .slow_op = -1,
        };
}

/* One fault per line: "name" or "name=LBA".  Returns -EINVAL for unknown names. */
int faults_parse_line(Faults *f, const char *line) {
        char buf[128], *s, *v;

        snprintf(buf, sizeof buf, "%s", line);
        s = strip(buf);
        if (*s == 0 || *s == '#')
                return 0;
        v = strchr(s, '=');
        if (v)
                *v++ = 0;
        if (strcmp(s, "no-medium") == 0)
                f->no_medium = true;
        else if (strcmp(s, "tray-open") == 0)
                f->tray_open = true;
        else if (strcmp(s, "medium-changed") == 0)
                f->medium_changed = true;
        else if (strcmp(s, "busy") == 0)
                f->busy = true;
        else if (strcmp(s, "removed") == 0)
                f->removed = true;
        else if (strcmp(s, "write-protect") == 0)
                f->write_protect = true;
        else if (strcmp(s, "loss-of-streaming") == 0 && v)
                f->loss_of_streaming_lba = strtoll(v, NULL, 0);
        else if (strcmp(s, "write-error") == 0 && v)
                f->write_error_lba = strtoll(v, NULL, 0);
        else if (strcmp(s, "corrupt") == 0 && v)
                f->corrupt_lba = strtoll(v, NULL, 0);
        else if (strcmp(s, "read-error") == 0 && v)
                f->read_error_lba = strtoll(v, NULL, 0);
        else if (strcmp(s, "slow") == 0 && v && atoi(v) > 0)
                f->slow_ms = atoi(v);
        else if (strcmp(s, "slow-op") == 0 && v && strtol(v, NULL, 16) >= 0 && strtol(v, NULL, 16) <= 0xff)
                f->slow_op = (int) strtol(v, NULL, 16);
        else
                return -EINVAL;
        return 0;
}

/*
 * Re-reads the fault file when it changed (inode, size or mtime), so a test
 * can inject a fault into a running burn with "echo ... > faults".
 * Returns true when the set changed.
 */
bool drive_refresh_faults(Drive *d) {
        _cleanup_(closep) FILE *f = NULL;
        char path[PATH_MAX + 16], line[256];
        struct stat st;
        bool had_changed = d->faults.medium_changed;
        Faults nf;

        snprintf(path, sizeof path, "%s/faults", d->dir);
        if (stat(path, &st) < 0) {
                /* A drive whose directory was deleted (run --drives with fewer) is unplugged. */
                bool gone = stat(d->dir, &st) < 0;

                if (d->faults_ino == 0 && d->faults.removed == gone)
                        return false;
                faults_reset(&d->faults);
                d->faults.removed = gone;
                d->faults_ino = 0;
                return true;
        }
        if (st.st_ino == d->faults_ino && st.st_size == d->faults_size &&
            st.st_mtim.tv_sec == d->faults_mtime.tv_sec && st.st_mtim.tv_nsec == d->faults_mtime.tv_nsec)
                return false;

        f = fopen(path, "re");
        if (!f)
                return false;
        faults_reset(&nf);
        while (fgets(line, sizeof line, f))
                if (faults_parse_line(&nf, line) < 0)
                        fprintf(stderr, "mmcemu: %s: unknown fault '%s', ignoring\n", path, strip(line));
        d->faults = nf;
        d->faults_ino = st.st_ino;
        d->faults_size = st.st_size;
        d->faults_mtime = st.st_mtim;

        /* "medium-changed" is an event: it raises one UNIT ATTENTION when it appears. */
        if (nf.medium_changed && !had_changed)
                d->unit_attention = true;
        return true;
}

/* The write rate from a drive file changed while the program runs (run --write-rate): it models
 * the drive's mechanics, as faults do, and takes effect at the next command. The drive's identity,
 * speeds and buffer stay as the program first saw them. Returns whether the rate changed. */
bool drive_refresh_write_rate(Drive *d) {
        char path[PATH_MAX + 16];
        DriveConfig kept = d->cfg;
        struct stat st;

        snprintf(path, sizeof path, "%s/drive", d->dir);
        if (stat(path, &st) < 0 ||
            (st.st_ino == d->config_ino && st.st_size == d->config_size &&
             st.st_mtim.tv_sec == d->config_mtime.tv_sec && st.st_mtim.tv_nsec == d->config_mtime.tv_nsec))
                return false;
        if (drive_config_load(d) < 0) {
                d->cfg = kept;
                return false;
        }
        kept.write_rate = d->cfg.write_rate;
        d->cfg = kept;
        return true;
}

/* Cheap check used by stat()/open() hooks for the "removed" fault. */
bool drive_dir_removed(const char *dir) {
        _cleanup_(closep) FILE *f = NULL;
        char path[PATH_MAX + 16], line[256];
        Faults nf;

        snprintf(path, sizeof path, "%s/faults", dir);
        f = fopen(path, "re");
        if (!f) {
                struct stat st;

                return stat(dir, &st) < 0;
        }
        faults_reset(&nf);
        while (fgets(line, sizeof line, f))
                (void) faults_parse_line(&nf, line);
        return nf.removed;
}
