/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An audio CD read into a disc master's Redbook staging (disc-audio.h). */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cdtext.h"
#include "core/disc-audio.h"
#include "log.h"
#include "macro.h"
#include "media/stash.h"

/* READ CD transfers of 24 sectors: 56 KiB, within every drive's transfer length. */
#define READ_CHUNK_BLOCKS 24u

int disc_audio_probe(Drive *d, DiscAudio *ret) {
        DriveAudioDisc *disc = &ret->disc;
        int r;

        r = drive_read_audio_disc(d, disc);
        if (r < 0)
                return r;
        for (size_t i = 0; i < disc->n; i++) {
                /* A track reported longer than the room up to the next one ends there. */
                if (i + 1 < disc->n && disc->tracks[i].start + (int64_t) disc->tracks[i].blocks >
                    disc->tracks[i + 1].start)
                        disc->tracks[i].blocks = (uint32_t) MAX(disc->tracks[i + 1].start - disc->tracks[i].start, 0);
                ret->blocks += disc->tracks[i].blocks;
        }
        for (size_t i = 0; i < disc->n; i++)
                ret->fds[i] = -1;
        return 0;
}

uint32_t disc_audio_gap(const DiscAudio *a, size_t i) {
        const DriveAudioDiscTrack *t = a->disc.tracks;

        if (i == 0)
                return 150;     /* in the lead-in, the same on every disc */
        return (uint32_t) (t[i].start - (t[i - 1].start + (int64_t) t[i - 1].blocks));
}

uint64_t disc_audio_needed_blocks(const DiscAudio *a) {
        uint64_t b = a->blocks;

        for (size_t i = 1; i < a->disc.n; i++)
                b += disc_audio_gap(a, i);
        return b;
}

int disc_audio_create_files(DiscAudio *a, Stash *stash) {
        for (size_t i = 0; i < a->disc.n; i++) {
                char name[32];
                int r;

                snprintf(name, sizeof name, "track-%02zu.pcm", i + 1);
                r = stash_create_file(stash, name, &a->fds[i], &a->paths[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int write_all(int fd, const uint8_t *buf, size_t n, off_t at) {
        while (n > 0) {
                ssize_t k = pwrite(fd, buf, n, at);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return k < 0 ? -errno : -EIO;
                buf += k;
                n -= (size_t) k;
                at += k;
        }
        return 0;
}

int disc_audio_run(DiscAudio *a, Drive *d, const volatile bool *cancel, _Atomic uint32_t *blocks_done,
                   int32_t *ret_bad_lba) {
        _cleanup_free_ uint8_t *buf = malloc(READ_CHUNK_BLOCKS * REDBOOK_BLOCK_SIZE);
        int r;

        if (!buf)
                return -ENOMEM;
        for (size_t t = 0; t < a->disc.n; t++) {
                const DriveAudioDiscTrack *track = &a->disc.tracks[t];

                for (uint32_t i = 0; i < track->blocks; i += READ_CHUNK_BLOCKS) {
                        size_t n = MIN(READ_CHUNK_BLOCKS, track->blocks - i);

                        if (*cancel)
                                return -ECANCELED;
                        r = drive_read_audio_copy(d, track->start + (int32_t) i, buf, n, ret_bad_lba);
                        if (r < 0)
                                return r == -ENODEV ? -ENODEV : -EIO;
                        r = write_all(a->fds[t], buf, n * REDBOOK_BLOCK_SIZE, (off_t) i * REDBOOK_BLOCK_SIZE);
                        if (r < 0) {
                                *ret_bad_lba = INT32_MIN;
                                return r;
                        }
                        atomic_fetch_add(blocks_done, (uint32_t) n);
                }
                if (close(a->fds[t]) < 0) {
                        a->fds[t] = -1;
                        *ret_bad_lba = INT32_MIN;
                        return -errno;
                }
                a->fds[t] = -1;
        }
        return 0;
}

int disc_audio_commit(DiscAudio *a, Master *m) {
        Redbook *rb = &m->redbook;
        int r;

        for (size_t i = 0; i < a->disc.n; i++) {
                r = redbook_add_track(rb, a->paths[i], -1, 0);
                if (r < 0) {
                        master_clear_staging(m);
                        return r;
                }
                a->paths[i] = NULL;
                redbook_track_grew(rb, a->disc.tracks[i].blocks);
                rb->tracks[i].pregap = i == 0 ? -1 : (int32_t) disc_audio_gap(a, i);
                redbook_close_track(rb);
        }
        r = cdtext_decode(a->disc.text_packs, a->disc.n_text_packs, rb);
        if (r < 0) {
                master_clear_staging(m);
                return r;
        }
        m->format = MASTER_FORMAT_REDBOOK;
        /* The active recorder's disc was planned for an image: RecordDisc plans it again. */
        m->plan_known = false;
        if (m->recorder && !master_recorder_supports(m, m->recorder, MASTER_FORMAT_REDBOOK)) {
                m->recorder = NULL;
                manager_notify_event(m->manager, m, MASTER_EVENT_PNP_ACTIVITY, 0, 0, 0);
        }
        master_changed(m, MASTER_CHANGED_STATE | MASTER_CHANGED_AUDIO);
        return 0;
}

void disc_audio_done(DiscAudio *a, Stash *stash) {
        for (size_t i = 0; i < a->disc.n; i++) {
                a->fds[i] = safe_close(a->fds[i]);
                if (a->paths[i] && stash)
                        (void) stash_remove_file(stash, a->paths[i]);
                a->paths[i] = mfree(a->paths[i]);
        }
        drive_audio_disc_done(&a->disc);
}

void disc_audio_describe(const DiscAudio *a, char *buf, size_t size) {
        uint64_t seconds = a->blocks / 75;

        snprintf(buf, size, "%zu track%s, %llu:%02llu, %s CD-TEXT", a->disc.n, a->disc.n == 1 ? "" : "s",
                 (unsigned long long) (seconds / 60), (unsigned long long) (seconds % 60),
                 a->disc.n_text_packs > 0 ? "with" : "without");
}
