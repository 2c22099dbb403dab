/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Rendering job progress for imapictl: a bar on a terminal, lines in a pipe, JSON lines (progress.h). */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "eta.h"
#include "hresult.h"
#include "json.h"
#include "macro.h"
#include "progress-line.h"
#include "progress.h"

#define LINE_INTERVAL_USEC (1000 * 1000)
#define LINE_STEP 0.05
#define JSON_INTERVAL_USEC (250 * 1000)
#define TTY_INTERVAL_USEC (100 * 1000)

struct Progress {
        ProgressMode mode;
        uint64_t last_usec;     /* when the last update was shown */
        double last_fraction;
        char *last_phase;
        bool bar_shown;         /* a bar is on the screen without its newline */
        Eta eta;
};

static uint64_t now_usec(clockid_t clock) {
        struct timespec ts;

        clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

Progress *progress_new(bool json) {
        Progress *p = calloc(1, sizeof(Progress));

        if (!p)
                return NULL;
        p->mode = json ? PROGRESS_JSON : isatty(STDOUT_FILENO) ? PROGRESS_TTY : PROGRESS_LINES;
        p->last_fraction = -1;
        eta_init(&p->eta);
        return p;
}

static void end_bar(Progress *p) {
        if (p->bar_shown) {
                fputc('\n', stdout);
                p->bar_shown = false;
        }
}

Progress *progress_free(Progress *p) {
        if (!p)
                return NULL;
        end_bar(p);
        fflush(stdout);
        free(p->last_phase);
        free(p);
        return NULL;
}

void job_state_done(JobState *s) {
        free(s->path);
        free(s->operation);
        free(s->phase);
        free(s->status);
        free(s->message);
        strv_free(s->objects);
        *s = (JobState) { .buffer_fill = -1, .drive_buffer_fill = -1 };
}

/* Asked at every redraw, so that the line follows a resized window. A terminal that does not
 * say (0 columns) is taken as 80 wide; a narrow one as it is (progress-line.h). */
static unsigned terminal_width(void) {
        struct winsize ws;

        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0)
                return 80;
        return MIN(ws.ws_col, 300);
}

/* Whether an update is worth showing now: phase changes and the end always are. */
static bool due(Progress *p, const char *phase, double fraction, bool force) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        bool phase_changed = !streq_ptr(phase, p->last_phase);
        bool show;

        switch (p->mode) {
        case PROGRESS_LINES:
                show = now - p->last_usec >= LINE_INTERVAL_USEC || fraction - p->last_fraction >= LINE_STEP;
                break;
        case PROGRESS_JSON:
                show = now - p->last_usec >= JSON_INTERVAL_USEC;
                break;
        default:
                show = now - p->last_usec >= TTY_INTERVAL_USEC;
                break;
        }
        if (!(show || force || phase_changed))
                return false;
        p->last_usec = now;
        p->last_fraction = fraction;
        if (phase_changed) {
                free(p->last_phase);
                p->last_phase = phase ? strdup(phase) : NULL;
        }
        return true;
}

/* The fields as a plain line (a pipe or a file has no width), or as the bar on a terminal, redrawn
 * in place and fitted to its width field by field. */
static void show_fields(Progress *p, const ProgressField *fields, size_t n, double fraction, bool valid,
                        bool final) {
        char line[512];

        if (p->mode == PROGRESS_TTY) {
                progress_line_layout(fields, n, fraction, valid, terminal_width(), line, sizeof line);
                printf("\r%s\033[K", line);
                p->bar_shown = true;
                if (final)
                        end_bar(p);
        } else {
                size_t pos = 0;

                line[0] = 0;
                for (size_t i = 0; i < n && pos < sizeof line; i++)
                        pos += snprintf(line + pos, sizeof line - pos, "%s%s", i > 0 ? "  " : "", fields[i].text);
                printf("%s\n", line);
        }
        fflush(stdout);
}

static void format_duration(uint64_t sec, char *buf, size_t size) {
        if (sec >= 3600)
                snprintf(buf, size, "%llu:%02llu:%02llu", (unsigned long long) (sec / 3600),
                         (unsigned long long) (sec / 60 % 60), (unsigned long long) (sec % 60));
        else
                snprintf(buf, size, "%llu:%02llu", (unsigned long long) (sec / 60),
                         (unsigned long long) (sec % 60));
}

void progress_staging(Progress *p, uint64_t files, uint64_t files_total, uint64_t bytes,
                      uint64_t bytes_total, bool final) {
        double fraction = bytes_total > 0 ? (double) bytes / (double) bytes_total :
                          files_total > 0 ? (double) files / (double) files_total : 1.0;
        char done[FORMAT_BYTES_MAX], total[FORMAT_BYTES_MAX], percent[16], files_text[64], bytes_text[80];

        /* The totals were counted before staging; files may have grown since. */
        fraction = MIN(fraction, 1.0);

        if (!due(p, "staging", fraction, final))
                return;
        if (p->mode == PROGRESS_JSON) {
                JsonWriter w = { .f = stdout };

                json_begin_object(&w, NULL);
                json_string(&w, "event", "staging");
                json_string(&w, "phase", "staging");
                json_double(&w, "progress", fraction);
                json_uint(&w, "files", files);
                json_uint(&w, "files_total", files_total);
                json_uint(&w, "bytes", bytes);
                json_uint(&w, "bytes_total", bytes_total);
                json_end_object(&w);
                json_finish(&w);
                return;
        }
        format_bytes(bytes, done, sizeof done);
        format_bytes(bytes_total, total, sizeof total);
        snprintf(percent, sizeof percent, "%5.1f%%", fraction * 100.0);
        snprintf(files_text, sizeof files_text, "%llu/%llu files", (unsigned long long) files,
                 (unsigned long long) files_total);
        snprintf(bytes_text, sizeof bytes_text, "%s/%s", done, total);
        show_fields(p, (const ProgressField[]) {
                            { "staging  ", 4 }, { percent, 0 }, { files_text, 1 }, { bytes_text, 3 },
                    }, 4, fraction, true, final);
}

void progress_job_started(Progress *p, const JobState *s) {
        char size[32];

        if (p->mode == PROGRESS_JSON) {
                JsonWriter w = { .f = stdout };

                json_begin_object(&w, NULL);
                json_string(&w, "event", "job");
                json_string(&w, "job", s->path);
                json_string(&w, "operation", s->operation);
                json_uint(&w, "bytes", s->bytes);
                json_end_object(&w);
                json_finish(&w);
                return;
        }
        end_bar(p);
        format_bytes(s->bytes, size, sizeof size);
        if (s->bytes > 0)
                printf("Job %s: %s, %s.\n", s->path, strna(s->operation), size);
        else
                printf("Job %s: %s.\n", s->path, strna(s->operation));
        fflush(stdout);
}

void progress_job(Progress *p, const JobState *s) {
        double eta = NAN;
        char phase[16], percent[16], rate[FORMAT_BYTES_MAX + 8], when[32], buffer[32], drive[32];
        ProgressField fields[6];
        size_t n = 0;
        bool ongoing = s->progress_valid && !s->completed && !streq_ptr(s->phase, "done");

        /* Every update counts for the estimate, shown or not. */
        if (ongoing)
                eta = eta_update(&p->eta, s->phase, s->progress, now_usec(CLOCK_MONOTONIC));
        if (!due(p, s->phase, s->progress, false))
                return;
        if (p->mode == PROGRESS_JSON) {
                JsonWriter w = { .f = stdout };

                json_begin_object(&w, NULL);
                json_string(&w, "event", "progress");
                json_string(&w, "job", s->path);
                json_string(&w, "phase", s->phase);
                json_double(&w, "progress", s->progress);
                json_bool(&w, "progress_valid", s->progress_valid);
                json_uint(&w, "bytes", s->bytes);
                json_uint(&w, "rate", s->rate);
                json_double(&w, "eta", eta);
                json_double(&w, "buffer_fill", s->buffer_fill >= 0 ? s->buffer_fill : NAN);
                json_double(&w, "drive_buffer_fill", s->drive_buffer_fill >= 0 ? s->drive_buffer_fill : NAN);
                json_end_object(&w);
                json_finish(&w);
                return;
        }

        snprintf(phase, sizeof phase, "%-9s", strna(s->phase));
        fields[n++] = (ProgressField) { phase, 4 };
        if (s->progress_valid)
                snprintf(percent, sizeof percent, "%5.1f%%", s->progress * 100.0);
        else
                snprintf(percent, sizeof percent, "   --");
        fields[n++] = (ProgressField) { percent, 0 };
        if (s->rate > 0) {
                char b[FORMAT_BYTES_MAX];

                snprintf(rate, sizeof rate, "%s/s", format_bytes(s->rate, b, sizeof b));
                fields[n++] = (ProgressField) { rate, 2 };
        }
        if (ongoing) {
                /* "--" until the current phase has shown its pace (eta.h). */
                if (isnan(eta))
                        snprintf(when, sizeof when, "ETA --");
                else {
                        char d[24];

                        format_duration((uint64_t) llround(eta), d, sizeof d);
                        snprintf(when, sizeof when, "ETA %s", d);
                }
                fields[n++] = (ProgressField) { when, 3 };
        }
        if (s->buffer_fill >= 0) {
                snprintf(buffer, sizeof buffer, "buffer %.0f%%", s->buffer_fill * 100.0);
                fields[n++] = (ProgressField) { buffer, 1 };
        }
        if (s->drive_buffer_fill >= 0) {
                snprintf(drive, sizeof drive, "drive %.0f%%", s->drive_buffer_fill * 100.0);
                fields[n++] = (ProgressField) { drive, 1 };
        }
        show_fields(p, fields, n, s->progress, s->progress_valid, false);
}

void progress_job_completed(Progress *p, const JobState *s) {
        const HResultInfo *info = hresult_lookup(s->hresult);
        /* A failure is named as a D-Bus error of the same HRESULT would be. */
        const char *error_name = !s->success && info ? info->dbus_name : NULL;
        const char *message = ctl_error_message(s->message);

        if (p->mode == PROGRESS_JSON) {
                JsonWriter w = { .f = stdout };

                json_begin_object(&w, NULL);
                json_string(&w, "event", "completed");
                json_string(&w, "job", s->path);
                json_string(&w, "phase", "done");
                json_double(&w, "progress", s->progress);
                json_bool(&w, "success", s->success);
                json_uint(&w, "hresult", s->hresult);
                json_string(&w, "hresult_name", info ? info->constant : "");
                if (error_name)
                        json_string(&w, "error_name", error_name);
                else
                        json_null(&w, "error_name");
                json_string(&w, "message", message);
                json_end_object(&w);
                json_finish(&w);
                return;
        }
        end_bar(p);
        fflush(stdout);
        if (s->success) {
                const char *note = message ? strchr(message, ' ') : NULL;

                printf("Done: %s finished.\n", s->operation ?: "job");
                /* Something to know beyond the success itself ("0x00000000: ..."). */
                if (note && info && !streq(note + 1, info->message))
                        printf("%s\n", note + 1);
        } else
                /* The message starts with the HRESULT already, as with ctl_report_error(). */
                fprintf(stderr, "imapictl: %s %s: %s%s%s\n", s->operation ?: "job",
                        s->hresult == IMAPI_E_USERABORT ? "cancelled" : "failed", strempty(error_name),
                        error_name ? ": " : "", strna(message));
        fflush(stdout);
}

void progress_note(Progress *p, const char *event, const char *text) {
        if (p->mode == PROGRESS_JSON) {
                JsonWriter w = { .f = stdout };

                json_begin_object(&w, NULL);
                json_string(&w, "event", event);
                json_string(&w, "message", text);
                json_end_object(&w);
                json_finish(&w);
                return;
        }
        end_bar(p);
        printf("%s\n", text);
        fflush(stdout);
}
