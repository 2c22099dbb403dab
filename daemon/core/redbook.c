/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The track bookkeeping of a Redbook disc master (see redbook.h). */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "core/redbook.h"

void redbook_init(Redbook *rb) {
        *rb = (Redbook) { .open_fd = -1 };
}

void redbook_clear(Redbook *rb, void (*remove_file)(const char *path, void *userdata), void *userdata) {
        rb->open_fd = safe_close(rb->open_fd);
        for (size_t i = 0; i < rb->n; i++) {
                if (remove_file && rb->tracks[i].stash_path)
                        remove_file(rb->tracks[i].stash_path, userdata);
                free(rb->tracks[i].stash_path);
                for (CdTextField f = 0; f < _CDTEXT_FIELD_MAX; f++)
                        free(rb->tracks[i].text[f]);
        }
        for (CdTextField f = 0; f < _CDTEXT_FIELD_MAX; f++)
                free(rb->album[f]);
        free(rb->tracks);
        redbook_init(rb);
}

uint64_t redbook_used_blocks(const Redbook *rb) {
        uint64_t b = 0;

        for (size_t i = 0; i < rb->n; i++)
                b += rb->tracks[i].blocks;
        return b;
}

unsigned redbook_track_gap(const Redbook *rb, size_t i, unsigned gap) {
        if (i == 0 || i >= rb->n)
                return 0;
        return rb->tracks[i].pregap >= 0 ? (unsigned) rb->tracks[i].pregap : gap;
}

uint64_t redbook_gap_blocks(const Redbook *rb, unsigned gap) {
        uint64_t b = 0;

        for (size_t i = 1; i < rb->n; i++)
                b += redbook_track_gap(rb, i, gap);
        return b;
}

uint64_t redbook_needed_blocks(const Redbook *rb, unsigned gap) {
        return redbook_used_blocks(rb) + redbook_gap_blocks(rb, gap);
}

uint64_t redbook_available_blocks(const Redbook *rb, uint64_t total, unsigned gap) {
        uint64_t need = redbook_needed_blocks(rb, gap);

        /* A new track would bring its gap with it. */
        if (!rb->track_open && rb->n > 0)
                need += gap;
        if (!rb->track_open && rb->n >= REDBOOK_MAX_TRACKS)
                return 0;
        return total > need ? total - need : 0;
}

int redbook_check_create(const Redbook *rb) {
        if (rb->track_open)
                return -EBUSY;
        if (rb->n >= REDBOOK_MAX_TRACKS)
                return -E2BIG;
        return 0;
}

int redbook_add_track(Redbook *rb, char *stash_path, int fd, int32_t hint) {
        RedbookTrack *t;
        int r = redbook_check_create(rb);

        if (r < 0)
                return r;
        t = realloc(rb->tracks, (rb->n + 1) * sizeof(RedbookTrack));
        if (!t)
                return -ENOMEM;
        rb->tracks = t;
        rb->tracks[rb->n++] = (RedbookTrack) { .stash_path = stash_path, .hint = hint, .pregap = -1 };
        rb->track_open = true;
        rb->open_fd = fd;
        return 0;
}

void redbook_track_grew(Redbook *rb, uint64_t blocks) {
        if (rb->track_open)
                rb->tracks[rb->n - 1].blocks += blocks;
}

int redbook_check_close(const Redbook *rb) {
        if (!rb->track_open)
                return -ENOENT;
        if (rb->tracks[rb->n - 1].blocks < REDBOOK_MIN_TRACK_BLOCKS)
                return -EMSGSIZE;
        return 0;
}

void redbook_close_track(Redbook *rb) {
        rb->track_open = false;
        rb->open_fd = safe_close(rb->open_fd);
}

static char **text_slot(Redbook *rb, size_t track, CdTextField f) {
        if (f < 0 || f >= _CDTEXT_FIELD_MAX || track > rb->n)
                return NULL;
        return track == 0 ? &rb->album[f] : &rb->tracks[track - 1].text[f];
}

int redbook_set_text(Redbook *rb, size_t track, CdTextField f, const char *text) {
        char **slot = text_slot(rb, track, f), *copy = NULL;

        if (!slot)
                return -ERANGE;
        if (text && *text) {
                copy = strdup(text);
                if (!copy)
                        return -ENOMEM;
        }
        free(*slot);
        *slot = copy;
        return 0;
}

const char *redbook_get_text(const Redbook *rb, size_t track, CdTextField f) {
        char **slot = text_slot((Redbook *) rb, track, f);

        return slot ? *slot : NULL;
}
