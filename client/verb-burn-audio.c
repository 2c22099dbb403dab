/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * imapictl burn --audio: an audio CD, one track per file. IMAPI's Redbook sequence
 * (CreateDiscMaster, Open, SetActiveDiscMasterFormat redbook, SetActiveDiscRecorder, then per
 * track CreateAudioTrack, AddAudioTrackBlocksFromFd, CloseAudioTrack; RecordDisc, Close) from
 * one sd-event loop. CD-TEXT comes from the files' tags and the command line: SetAlbumText before
 * the first track, SetAudioTrackText after each CreateAudioTrack. Each file is decoded here, by the client, and streamed to imapid through a
 * pipe as CD-DA, so imapid never opens a path and nothing large sits in memory.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <imapi/imapi.h>
#include <systemd/sd-event.h>

#include "audio.h"
#include "burn-record.h"
#include "ctl.h"
#include "follow.h"
#include "macro.h"
#include "progress.h"
#include "verbs.h"

/* 64 blocks per write into the pipe. */
#define WRITE_BYTES (64 * AUDIO_CD_BLOCK)

typedef enum AudioStage {
        AUDIO_STAGING,
        AUDIO_RECORDING,
} AudioStage;

typedef struct AudioBurn {
        sd_bus *bus;
        sd_event *event;
        const char *master;
        Progress *progress;
        JobFollow *follow;
        BurnRecord *record;
        AudioStage stage;

        char **paths;
        size_t n, current;
        uint64_t *blocks;               /* per track, from the preflight */
        char *(*tags)[_AUDIO_TAG_MAX];  /* per track, from the preflight */
        uint64_t bytes_total, bytes_done;

        AudioFile *file;                /* the track being staged */
        int pipe_fd;                    /* our end of its pipe */
        sd_event_source *writer;
        uint8_t *buf;
        size_t buf_len, buf_pos;
        sd_bus_slot *add_call;
} AudioBurn;

static void audio_burn_fail(AudioBurn *b, int code) {
        ctl_event_exit(b->bus, code);
}

static void stop_writer(AudioBurn *b) {
        b->writer = sd_event_source_disable_unref(b->writer);
        b->pipe_fd = safe_close(b->pipe_fd);
        b->file = audio_file_free(b->file);
}

static int start_track(AudioBurn *b);
static int start_record(AudioBurn *b);

static int on_writable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        AudioBurn *b = userdata;
        ssize_t k;

        if (b->buf_pos == b->buf_len) {
                k = audio_file_read(b->file, b->buf, WRITE_BYTES);
                if (k < 0) {
                        fprintf(stderr, "imapictl: %s: decoding failed: %s\n", b->paths[b->current],
                                strerror((int) -k));
                        stop_writer(b);
                        audio_burn_fail(b, CTL_EXIT_FAILED);
                        return 0;
                }
                if (k == 0) {
                        /* The end of the track: imapid sees the pipe's end and replies. */
                        stop_writer(b);
                        return 0;
                }
                b->buf_len = (size_t) k;
                b->buf_pos = 0;
        }
        k = write(fd, b->buf + b->buf_pos, b->buf_len - b->buf_pos);
        if (k < 0) {
                if (errno == EAGAIN || errno == EINTR)
                        return 0;
                /* imapid stopped reading (it answers why); stop writing. */
                stop_writer(b);
                return 0;
        }
        b->buf_pos += (size_t) k;
        b->bytes_done += (uint64_t) k;
        progress_staging(b->progress, b->current, b->n, b->bytes_done, b->bytes_total, false);
        return 0;
}

static int on_add_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        AudioBurn *b = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        int r;

        b->add_call = sd_bus_slot_unref(b->add_call);
        stop_writer(b);
        if (e) {
                fprintf(stderr, "imapictl: %s:\n", b->paths[b->current]);
                audio_burn_fail(b, ctl_report_error("AddAudioTrackBlocksFromFd", e, -EIO));
                return 0;
        }
        r = ctl_call(b->bus, b->master, IMAPI_REDBOOK_INTERFACE, "CloseAudioTrack", NULL, "");
        if (r == 0) {
                b->current++;
                r = b->current < b->n ? start_track(b) : start_record(b);
        }
        if (r != 0)
                audio_burn_fail(b, r);
        return 0;
}

/* SetAlbumText (track 0) or SetAudioTrackText with the fields that are not NULL. */
static int set_text(AudioBurn *b, int32_t track, const char *const text[2], sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        if (!text[0] && !text[1])
                return 0;
        r = sd_bus_message_new_method_call(b->bus, &m, IMAPI_BUS_NAME, b->master, IMAPI_REDBOOK_INTERFACE,
                                           track == 0 ? "SetAlbumText" : "SetAudioTrackText");
        if (r >= 0 && track > 0)
                r = sd_bus_message_append(m, "i", track);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && text[0])
                r = sd_bus_message_append(m, "{sv}", "title", "s", text[0]);
        if (r >= 0 && text[1])
                r = sd_bus_message_append(m, "{sv}", "performer", "s", text[1]);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_call(b->bus, m, 0, error, NULL);
        return r;
}

/* The text from the tags first: what imapid refuses of it (characters outside ISO-8859-1, too much
 * text) is left out with a warning. Then the command line's, which must be accepted. */
static int apply_text(AudioBurn *b, int32_t track, const char *const tags[2], const char *const given[2]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *from_tags[2] = { given[0] ? NULL : tags[0], given[1] ? NULL : tags[1] };
        const char *method = track == 0 ? "SetAlbumText" : "SetAudioTrackText";
        int r;

        if (arg_burn.no_cdtext)
                return 0;
        r = set_text(b, track, from_tags, &error);
        if (r < 0 && sd_bus_error_has_name(&error, "org.imapid.Imapi1.Error.E_INVALIDARG")) {
                fprintf(stderr, "imapictl: warning: the CD-TEXT from the tags of %s is left out: %s\n",
                        track == 0 ? "the album" : b->paths[track - 1], ctl_error_message(error.message));
                sd_bus_error_free(&error);
        } else if (r < 0)
                return ctl_report_error(method, &error, r);
        r = set_text(b, track, given, &error);
        if (r < 0)
                return ctl_report_error(method, &error, r);
        return 0;
}

static int start_track(AudioBurn *b) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *error = NULL, *note = NULL;
        const char *name = strrchr(b->paths[b->current], '/');
        int fds[2], r;

        name = name ? name + 1 : b->paths[b->current];
        r = audio_file_open(b->paths[b->current], &b->file, &error);
        if (r < 0) {
                fprintf(stderr, "imapictl: %s\n", error ?: strerror(-r));
                return CTL_EXIT_FAILED;
        }
        if (asprintf(&note, "Track %zu/%zu: %s (%.1f s, %s)", b->current + 1, b->n, name,
                     audio_file_seconds(b->file), audio_file_describe(b->file)) >= 0)
                progress_note(b->progress, "track", note);
        r = ctl_call(b->bus, b->master, IMAPI_REDBOOK_INTERFACE, "CreateAudioTrack", NULL, "i",
                     (int32_t) MIN(b->blocks[b->current], (uint64_t) INT32_MAX));
        if (r == 0)
                r = apply_text(b, (int32_t) b->current + 1,
                               (const char *const[2]) { b->tags[b->current][AUDIO_TAG_TITLE],
                                                        b->tags[b->current][AUDIO_TAG_ARTIST] },
                               arg_burn.track_text[b->current]);
        if (r != 0)
                return r;

        if (pipe2(fds, O_CLOEXEC) < 0) {
                fprintf(stderr, "imapictl: pipe: %m\n");
                return CTL_EXIT_FAILED;
        }
        b->pipe_fd = fds[1];
        (void) fcntl(b->pipe_fd, F_SETFL, O_NONBLOCK);
        r = sd_bus_message_new_method_call(b->bus, &m, IMAPI_BUS_NAME, b->master, IMAPI_REDBOOK_INTERFACE,
                                           "AddAudioTrackBlocksFromFd");
        if (r >= 0)
                r = sd_bus_message_append(m, "ha{sv}", fds[0], 0);
        /* The message holds its own copy of the read end. */
        safe_close(fds[0]);
        /* The reply comes when the whole file has gone through the pipe into the stash. */
        if (r >= 0)
                r = sd_bus_call_async(b->bus, &b->add_call, m, on_add_reply, b, UINT64_MAX);
        if (r >= 0)
                r = sd_event_add_io(b->event, &b->writer, b->pipe_fd, EPOLLOUT, on_writable, b);
        if (r < 0) {
                fprintf(stderr, "imapictl: AddAudioTrackBlocksFromFd: %s\n", strerror(-r));
                return CTL_EXIT_FAILED;
        }
        b->buf_len = b->buf_pos = 0;
        return 0;
}

static int on_track_progress(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        AudioBurn *b = userdata;
        int32_t done, total;
        char text[64];

        if (sd_bus_message_read(m, "ii", &done, &total) < 0 || done < 0 || total <= 0)
                return 0;
        if (done < total)
                snprintf(text, sizeof text, "Writing track %d/%d", done + 1, total);
        else
                snprintf(text, sizeof text, "All %d tracks written", total);
        progress_note(b->progress, "track", text);
        return 0;
}

/* The options of an audio burn, into RecordDisc's a{sv}. */
static int append_record_options(sd_bus_message *m) {
        int r = 0;

        if (arg_burn.no_verify)
                r = sd_bus_message_append(m, "{sv}", "verify", "b", 0);
        if (r >= 0 && arg_burn.tao)
                r = sd_bus_message_append(m, "{sv}", "write_mode", "s", "tao");
        if (r >= 0 && arg_burn.speed > 0)
                r = sd_bus_message_append(m, "{sv}", "write_speed", "i", (int32_t) arg_burn.speed);
        if (r >= 0 && arg_burn.speed_kbps > 0)
                r = sd_bus_message_append(m, "{sv}", "write_speed_kbps", "u", (uint32_t) arg_burn.speed_kbps);
        return r;
}

static int start_record(AudioBurn *b) {
        progress_staging(b->progress, b->n, b->n, b->bytes_done, b->bytes_total, true);
        b->stage = AUDIO_RECORDING;
        return burn_record_start(b->record);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        AudioBurn *b = userdata;

        if (b->stage == AUDIO_STAGING) {
                /* Closing the master stops the copy in progress; imapid removes the stash. */
                progress_note(b->progress, "interrupted", "Interrupted; nothing was burned.");
                audio_burn_fail(b, CTL_EXIT_CANCELLED);
                return 0;
        }
        burn_record_interrupt(b->record);
        return 0;
}

/* Every file is opened and checked before anything is sent: a file that cannot be decoded or is
 * shorter than a CD track may be is reported with nothing staged (exit 2). */
static int preflight(AudioBurn *b) {
        for (size_t i = 0; i < b->n; i++) {
                _cleanup_(audio_file_freep) AudioFile *f = NULL;
                _cleanup_free_ char *error = NULL;
                int r = audio_file_open(b->paths[i], &f, &error);

                if (r < 0) {
                        fprintf(stderr, "imapictl: %s\n", error ?: strerror(-r));
                        return r == -ENOMEM ? CTL_EXIT_FAILED : CTL_EXIT_USAGE;
                }
                b->blocks[i] = audio_file_blocks(f);
                for (AudioTag t = 0; t < _AUDIO_TAG_MAX; t++)
                        b->tags[i][t] = audio_file_tag(f, t);
                if (b->blocks[i] < AUDIO_CD_MIN_BLOCKS) {
                        fprintf(stderr, "imapictl: %s: %.1f s long; a track of an audio CD lasts at least 4 s.\n",
                                b->paths[i], audio_file_seconds(f));
                        return CTL_EXIT_USAGE;
                }
                b->bytes_total += b->blocks[i] * AUDIO_CD_BLOCK;
        }
        return 0;
}

/* The album's text from the tags: the first file's album, and the artist if every file has the
 * same one. */
static void album_from_tags(const AudioBurn *b, const char *ret[2]) {
        ret[0] = ret[1] = NULL;
        for (size_t i = 0; i < b->n && !ret[0]; i++)
                ret[0] = b->tags[i][AUDIO_TAG_ALBUM];
        ret[1] = b->tags[0][AUDIO_TAG_ARTIST];
        for (size_t i = 1; i < b->n && ret[1]; i++)
                if (!b->tags[i][AUDIO_TAG_ARTIST] || !streq(b->tags[i][AUDIO_TAG_ARTIST], ret[1]))
                        ret[1] = NULL;
}

static void free_tags(AudioBurn *b) {
        for (size_t i = 0; b->tags && i < b->n; i++)
                for (AudioTag t = 0; t < _AUDIO_TAG_MAX; t++)
                        free(b->tags[i][t]);
        free(b->tags);
        b->tags = NULL;
}

static int check_text_args(int n_files) {
        bool given = arg_burn.album_text[0] || arg_burn.album_text[1];

        for (int i = 0; i < 99; i++) {
                if (!arg_burn.track_text[i][0] && !arg_burn.track_text[i][1])
                        continue;
                given = true;
                if (i >= n_files) {
                        fprintf(stderr, "imapictl: --title/--performer name track %d; there are %d files.\n", i + 1,
                                n_files);
                        return CTL_EXIT_USAGE;
                }
        }
        if (given && arg_burn.no_cdtext) {
                fprintf(stderr, "imapictl: --no-cdtext does not go with --album-title, --album-performer, --title "
                        "or --performer.\n");
                return CTL_EXIT_USAGE;
        }
        return 0;
}

int verb_burn_audio(int argc, char *argv[], sd_bus *bus) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *track_progress = NULL;
        _cleanup_(sd_event_source_unrefp) sd_event_source *sigint = NULL, *sigterm = NULL;
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(progress_freep) Progress *progress = NULL;
        _cleanup_(job_follow_freep) JobFollow *follow = NULL;
        _cleanup_(burn_record_done) BurnRecord record = {};
        _cleanup_free_ char *master = NULL;
        _cleanup_free_ uint64_t *blocks = NULL;
        _cleanup_free_ uint8_t *buf = NULL;
        const char *path;
        _cleanup_(free_tags) AudioBurn b = { .pipe_fd = -1 };
        const char *album_tags[2];
        int r, k;

        if (argc < 2) {
                fprintf(stderr, "imapictl: burn --audio needs the audio files to burn, one track each.\n");
                return CTL_EXIT_USAGE;
        }
        if (arg_burn.volume_name || arg_burn.iso_level > 0 || arg_burn.close_disc || arg_burn.replace) {
                /* An audio CD has no file system, and is always closed. */
                fprintf(stderr, "imapictl: --volume-name, --iso-level, --close and --replace are for data discs, "
                        "not --audio.\n");
                return CTL_EXIT_USAGE;
        }
        if (argc - 1 > 99) {
                fprintf(stderr, "imapictl: an audio CD holds at most 99 tracks, not %d.\n", argc - 1);
                return CTL_EXIT_USAGE;
        }
        r = check_text_args(argc - 1);
        if (r != 0)
                return r;
        blocks = calloc((size_t) argc, sizeof(uint64_t));
        buf = malloc(WRITE_BYTES);
        b.tags = calloc((size_t) argc, sizeof(*b.tags));
        if (!blocks || !buf || !b.tags) {
                fprintf(stderr, "imapictl: out of memory\n");
                return CTL_EXIT_FAILED;
        }
        b.paths = argv + 1;
        b.n = (size_t) argc - 1;
        b.blocks = blocks;
        r = preflight(&b);
        if (r != 0)
                return r;
        /* A write into a pipe imapid closed must fail with EPIPE, not end imapictl. */
        (void) signal(SIGPIPE, SIG_IGN);
        progress = progress_new(arg.json);
        r = progress ? sd_event_default(&event) : -ENOMEM;
        if (r >= 0)
                r = sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = job_follow_new(bus, progress, &follow);
        if (r < 0) {
                fprintf(stderr, "imapictl: %s\n", strerror(-r));
                return CTL_EXIT_FAILED;
        }
        r = burn_record_init(&record, bus, progress, follow, append_record_options);
        if (r != 0)
                return r;

        r = ctl_call(bus, IMAPI_MANAGER_PATH, IMAPI_MANAGER_INTERFACE, "CreateDiscMaster", &reply, "a{sv}", 0);
        if (r != 0)
                return r;
        if (sd_bus_message_read(reply, "o", &path) < 0 || !(master = strdup(path))) {
                fprintf(stderr, "imapictl: bad reply from imapid to CreateDiscMaster.\n");
                return CTL_EXIT_FAILED;
        }
        b.bus = bus;
        b.event = event;
        b.master = master;
        b.progress = progress;
        b.follow = follow;
        b.record = &record;
        b.buf = buf;

        r = ctl_call(bus, master, IMAPI_DISC_MASTER_INTERFACE, "Open", NULL, "a{sv}", 0);
        if (r == 0)
                r = ctl_call(bus, master, IMAPI_DISC_MASTER_INTERFACE, "SetActiveDiscMasterFormat", NULL,
                             "sa{sv}", "redbook", 0);
        if (r == 0)
                r = burn_record_prepare(&record, master, false, false);
        if (r == 0) {
                album_from_tags(&b, album_tags);
                r = apply_text(&b, 0, album_tags, arg_burn.album_text);
        }
        if (r != 0)
                goto close;

        /* From here Ctrl-C and SIGTERM stop the work cleanly instead of killing imapictl. */
        r = ctl_catch_signals(event, on_signal, &b, &sigint, &sigterm);
        if (r >= 0)
                r = sd_bus_match_signal_async(bus, &track_progress,
                                              sd_bus_is_bus_client(bus) > 0 ? IMAPI_BUS_NAME : NULL, master,
                                              IMAPI_DISC_MASTER_INTERFACE, "TrackProgress", on_track_progress,
                                              NULL, &b);
        if (r < 0) {
                fprintf(stderr, "imapictl: %s\n", strerror(-r));
                r = CTL_EXIT_FAILED;
                goto close;
        }

        progress_staging(progress, 0, b.n, 0, b.bytes_total, false);
        r = start_track(&b);
        if (r == 0) {
                r = sd_event_loop(event);
                if (r < 0) {
                        fprintf(stderr, "imapictl: event loop: %s\n", strerror(-r));
                        r = CTL_EXIT_FAILED;
                }
        }
        if (r == 0 && arg_burn.keep)
                r = burn_record_again(&record);

close:
        /* Always close: imapid removes the stash, or, while a job still runs, after it ends. */
        b.add_call = sd_bus_slot_unref(b.add_call);
        stop_writer(&b);
        /* imapid is gone, and with it what it held for us. */
        if (r == CTL_EXIT_UNAVAILABLE)
                return r;
        k = ctl_call(bus, master, IMAPI_DISC_MASTER_INTERFACE, "Close", NULL, "a{sv}", 0);
        return r != 0 ? r : k;
}
