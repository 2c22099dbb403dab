/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the disc in a drive holds: libburn's status and table of contents, the areas a reader
 * can read, and the ISO 9660 volume of the last session (on overwriteable media and image files,
 * the head at block 0, isohead.h), with whether it was cut short.
 */

#include <errno.h>
#include <libburn/libburn.h>
#include <stdio.h>
#include <stdlib.h>

#include "media/drive-internal.h"
#include "media/isohead.h"
#include "macro.h"

bool drive_media_range_readable(const MediaInfo *m, uint32_t start, uint32_t blocks) {
        uint64_t end = (uint64_t) start + blocks;

        for (size_t i = 0; i < m->n_readable; i++)
                if (start >= m->readable[i].start &&
                    end <= (uint64_t) m->readable[i].start + m->readable[i].blocks)
                        return true;
        return false;
}

/* Adjacent areas are merged. Past MEDIA_RANGES_MAX areas (more tracks than a disc of any kind
 * holds in practice) the last one is widened over the gap. */
static void media_add_range(MediaInfo *m, uint32_t start, uint32_t blocks) {
        MediaRange *last = m->n_readable > 0 ? &m->readable[m->n_readable - 1] : NULL;

        if (blocks == 0)
                return;
        if (last && (start == last->start + last->blocks || m->n_readable == MEDIA_RANGES_MAX) &&
            start >= last->start) {
                last->blocks = MAX(last->blocks, start + blocks - last->start);
                return;
        }
        m->readable[m->n_readable++] = (MediaRange) { .start = start, .blocks = blocks };
}

static void media_set_content(MediaInfo *m, MediaContent c, const char *text) {
        m->content = c;
        snprintf(m->content_text, sizeof m->content_text, "%s", text ?: "");
}

/* Whether the directories an ISO 9660 volume starts from are on the medium. */
static bool volume_tree_readable(const MediaInfo *m, const IsoVolume *v) {
        return v->root_bytes > 0 &&
               drive_media_range_readable(m, v->root_extent, DIV_ROUND_UP(v->root_bytes, 2048)) &&
               drive_media_range_readable(m, v->path_table_extent, DIV_ROUND_UP(MAX(v->path_table_bytes, 1u), 2048));
}

/* Whether a volume whose session starts at start is larger than the blocks recorded from there.
 * Its volume space size counts from block 0 of the disc (libisofs, xorriso, growisofs) or from
 * the session's start: only one that is larger either way was cut short for sure. */
static bool volume_cut_short(const IsoVolume *v, uint32_t start, uint32_t recorded) {
        return v->blocks > (uint64_t) start + recorded;
}

static int head_read(uint32_t lba, uint8_t *buf, size_t n, void *userdata) {
        return drive_read_blocks(userdata, lba, buf, n);
}

/* Overwriteable media and image files: libburn sees them blank whatever they hold; what they
 * hold is what the head at block 0 says (isohead.h). */
static void query_random_access(Drive *d, MediaInfo *m) {
        _cleanup_free_ uint8_t *head = calloc(ISOHEAD_BLOCKS, 2048);
        IsoSession sessions[ISOHEAD_MAX_SESSIONS];
        struct burn_drive *bd = d->info.drive;
        int readable = 0, status = 0, n_formats = 0;
        unsigned bl_sas = 0;
        off_t size = 0;
        IsoVolume v = {};
        IsoHeadKind kind = ISOHEAD_BLANK;
        size_t n, n_head;

        if (!head) {
                media_set_content(m, MEDIA_CONTENT_UNREADABLE, "out of memory");
                m->status = MEDIA_STATUS_UNKNOWN;
                return;
        }
        if (!m->is_file && burn_disc_get_formats(bd, &status, &size, &bl_sas, &n_formats) > 0)
                m->unformatted = status == BURN_FORMAT_IS_UNFORMATTED;
        /* For an image file libburn counts the file's own size and its file system's free space. */
        m->capacity = m->free_blocks;
        if (!m->unformatted && burn_get_read_capacity(bd, &readable, 0) > 0 && readable > 0)
                media_add_range(m, 0, (uint32_t) readable);

        n_head = MIN((size_t) MAX(readable, 0), (size_t) ISOHEAD_BLOCKS);
        if (n_head > 0) {
                if (drive_read_blocks(d, 0, head, n_head) < 0) {
                        m->status = MEDIA_STATUS_CLOSED;
                        media_set_content(m, MEDIA_CONTENT_UNREADABLE, "the first blocks cannot be read");
                        m->free_blocks = 0;
                        return;
                }
                kind = isohead_classify(head, n_head, &v);
        }

        m->sessions = m->last_track = 0;
        m->start_address = 0;
        switch (kind) {
        case ISOHEAD_BLANK:
                m->status = MEDIA_STATUS_BLANK;
                m->next_writable = ISOHEAD_FIRST_SESSION;
                m->free_blocks = m->capacity;
                media_set_content(m, MEDIA_CONTENT_NONE, NULL);
                break;
        case ISOHEAD_ISO:
                m->status = MEDIA_STATUS_APPENDABLE;
                n = isohead_sessions(&v, (uint32_t) readable, head_read, d, sessions, ELEMENTSOF(sessions));
                m->sessions = m->last_track = (unsigned) n;
                m->start_address = sessions[n - 1].start;
                m->next_writable = isohead_next_writable(v.blocks);
                m->free_blocks = m->capacity > m->next_writable ? m->capacity - m->next_writable : 0;
                /* An image file ends where its writing stopped; an overwriteable disc reads to the end
                 * of its formatted area, written or not, and cannot tell. */
                m->incomplete_session = m->is_file && volume_cut_short(&v, 0, (uint32_t) readable);
                if (volume_tree_readable(m, &v))
                        media_set_content(m, MEDIA_CONTENT_ISO9660, v.volume_id);
                else
                        media_set_content(m, MEDIA_CONTENT_DAMAGED, "an ISO 9660 volume whose directories "
                                          "are not on the medium");
                break;
        case ISOHEAD_FOREIGN:
                m->status = MEDIA_STATUS_CLOSED;
                m->next_writable = ISOHEAD_FIRST_SESSION;
                m->free_blocks = 0;
                media_set_content(m, MEDIA_CONTENT_FOREIGN, "data that is not an ISO 9660 file system");
                break;
        }
}

/* A track's first block and length, from the TOC. */
static void track_extent(struct burn_track *t, uint32_t next_start, uint32_t *ret_start, uint32_t *ret_blocks,
                         bool *ret_data) {
        struct burn_toc_entry toc;
        int32_t start;

        burn_track_get_entry(t, &toc);
        /* DVD/BD entries carry the LBA; CD entries an MSF. */
        start = toc.extensions_valid & 1 ? toc.start_lba : burn_msf_to_lba(toc.pmin, toc.psec, toc.pframe);
        *ret_start = (uint32_t) MAX(start, 0);
        if (toc.extensions_valid & 1)
                *ret_blocks = (uint32_t) MAX(toc.track_blocks, 0);
        else
                *ret_blocks = next_start > *ret_start ? next_start - *ret_start : 0;
        /* TOC CONTROL bit 2 (MMC-6 6.26.3.2.3): a data track. */
        *ret_data = toc.control & 4;
}

static uint32_t leadout_lba(struct burn_session *s) {
        struct burn_toc_entry toc;

        burn_session_get_leadout_entry(s, &toc);
        return (uint32_t) MAX(toc.extensions_valid & 1 ? toc.start_lba :
                              burn_msf_to_lba(toc.pmin, toc.psec, toc.pframe), 0);
}

/* Sessions and tracks from the disc's TOC, and what the last session holds. */
static void query_sequential(Drive *d, MediaInfo *m) {
        struct burn_disc *disc = burn_drive_get_disc(d->info.drive);
        bool last_is_data = false;
        uint32_t last_blocks = 0;
        IsoVolume v;
        uint8_t block[2048];
        int r;

        if (disc) {
                int n_sessions = 0, n_tracks = 0;
                struct burn_session **sessions = burn_disc_get_sessions(disc, &n_sessions);

                m->sessions = (unsigned) MAX(n_sessions, 0);
                for (int i = 0; i < n_sessions; i++) {
                        struct burn_track **tracks = burn_session_get_tracks(sessions[i], &n_tracks);
                        uint32_t leadout = leadout_lba(sessions[i]);

                        m->last_track += (unsigned) MAX(n_tracks, 0);
                        for (int j = 0; j < n_tracks; j++) {
                                uint32_t start, blocks, next = leadout;
                                bool data;

                                if (j + 1 < n_tracks) {
                                        bool ignored;
                                        uint32_t b;

                                        track_extent(tracks[j + 1], 0, &next, &b, &ignored);
                                }
                                track_extent(tracks[j], next, &start, &blocks, &data);
                                media_add_range(m, start, blocks);
                                if (i == n_sessions - 1 && j == n_tracks - 1) {
                                        m->start_address = start;
                                        last_blocks = blocks;
                                        last_is_data = data;
                                }
                        }
                }
                burn_disc_free(disc);
        }
        m->capacity = m->status == MEDIA_STATUS_BLANK ? m->free_blocks : 0;

        if (m->sessions == 0 || !last_is_data) {
                if (m->status == MEDIA_STATUS_APPENDABLE && m->sessions > 0)
                        /* Only an ISO 9660 volume can be grown by a new session that imports it. */
                        media_set_content(m, MEDIA_CONTENT_FOREIGN, "audio tracks");
                return;
        }
        /* A closed disc can hold a session cut short too (a disc-at-once burn is closed by the drive). */
        if (drive_read_blocks(d, m->start_address + 16, block, 1) < 0)
                r = -EIO;
        else
                r = isohead_parse_pvd(block, &v);
        if (r > 0)
                m->incomplete_session = volume_cut_short(&v, m->start_address, last_blocks);
        if (m->status != MEDIA_STATUS_APPENDABLE)
                return;
        if (r < 0)
                media_set_content(m, MEDIA_CONTENT_UNREADABLE, "the last session cannot be read");
        else if (r == 0)
                media_set_content(m, MEDIA_CONTENT_FOREIGN, "data that is not an ISO 9660 file system");
        else if (!volume_tree_readable(m, &v))
                media_set_content(m, MEDIA_CONTENT_DAMAGED, "an ISO 9660 volume whose directories are not "
                                  "on the disc");
        else
                media_set_content(m, MEDIA_CONTENT_ISO9660, v.volume_id);
}

static bool profile_is_rewritable(unsigned profile) {
        return IN_SET(profile, 0x0Au, 0x12u, 0x13u, 0x14u, 0x1Au, 0x2Au, 0x43u);
}

int drive_query_media(Drive *d, MediaInfo *ret) {
        struct burn_drive *bd = d->info.drive;
        _cleanup_free_ MediaInfo *m = NULL;
        struct burn_multi_caps *caps = NULL;
        enum burn_disc_status status;
        int profile = 0, lba = 0, nwa = 0;

        if (!d->grabbed || d->lost)
                return -EBADFD;
        m = calloc(1, sizeof(MediaInfo));
        if (!m)
                return -ENOMEM;

        status = burn_disc_get_status(bd);
        m->is_file = drive_is_file(d);
        switch (status) {
        case BURN_DISC_EMPTY:
                m->status = MEDIA_STATUS_NONE;
                break;
        case BURN_DISC_BLANK:
                m->status = MEDIA_STATUS_BLANK;
                break;
        case BURN_DISC_APPENDABLE:
                m->status = MEDIA_STATUS_APPENDABLE;
                break;
        case BURN_DISC_FULL:
                m->status = MEDIA_STATUS_CLOSED;
                break;
        case BURN_DISC_UNSUITABLE:
                m->status = MEDIA_STATUS_UNSUITABLE;
                break;
        case BURN_DISC_UNGRABBED:
                (void) drive_drain_messages(NULL, NULL);
                return -EBADFD;
        default:
                m->status = MEDIA_STATUS_UNKNOWN;
                break;
        }

        if (m->status != MEDIA_STATUS_NONE) {
                if (burn_disc_get_profile(bd, &profile, m->profile_name) > 0)
                        m->profile = (unsigned) profile;
                m->erasable = burn_disc_erasable(bd) > 0 || profile_is_rewritable(m->profile) || m->is_file;
                if (burn_disc_get_multi_caps(bd, BURN_WRITE_NONE, &caps, 0) >= 0 && caps) {
                        /* libburn places a session anywhere only on overwriteable media and files. */
                        m->random_access = caps->start_adr && m->status != MEDIA_STATUS_UNSUITABLE;
                        m->can_simulate = caps->might_simulate;
                        burn_disc_free_multi_caps(&caps);
                }
        }

        if (IN_SET(m->status, MEDIA_STATUS_BLANK, MEDIA_STATUS_APPENDABLE) || m->random_access) {
                off_t space = burn_disc_available_space(bd, NULL);
                m->free_blocks = (uint32_t) MIN((uint64_t) MAX(space, 0) / 2048, (uint64_t) UINT32_MAX);
                if (burn_disc_track_lba_nwa(bd, NULL, 0, &lba, &nwa) > 0)
                        m->next_writable = (uint32_t) MAX(nwa, 0);
        }

        if (m->random_access)
                query_random_access(d, m);
        else if (IN_SET(m->status, MEDIA_STATUS_APPENDABLE, MEDIA_STATUS_CLOSED))
                query_sequential(d, m);
        else
                m->capacity = m->free_blocks;

        (void) drive_drain_messages(NULL, NULL);
        *ret = *m;
        return 0;
}
