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
#include "hresult.h"
#include "json.h"
#include "macro.h"
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
        free(s->message);
        strv_free(s->objects);
        *s = (JobState) { .buffer_fill = -1 };
}

static unsigned terminal_width(void) {
        struct winsize ws;

        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_col < 20)
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

/* The bar: redraws one line in place, cut to the terminal's width. */
static void draw_bar(Progress *p, double fraction, bool valid, const char *text) {
        unsigned width = terminal_width(), cells = 24, filled;
        char bar[32];

        filled = valid ? (unsigned) lround(MIN(MAX(fraction, 0.0), 1.0) * cells) : 0;
        for (unsigned i = 0; i < cells; i++)
                bar[i] = i < filled ? '#' : valid ? '-' : '.';
        bar[cells] = 0;
        printf("\r[%s] %.*s\033[K", bar, (int) (width > cells + 4 ? width - cells - 4 : 0), text);
        fflush(stdout);
        p->bar_shown = true;
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
        char done[32], total[32], text[160];

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
        snprintf(text, sizeof text, "staging %5.1f%%  %llu/%llu files  %s/%s", fraction * 100.0,
                 (unsigned long long) files, (unsigned long long) files_total, done, total);
        if (p->mode == PROGRESS_TTY) {
                draw_bar(p, fraction, true, text);
                if (final)
                        end_bar(p);
        } else {
                printf("%s\n", text);
                fflush(stdout);
        }
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

static double eta_seconds(const JobState *s) {
        uint64_t now = now_usec(CLOCK_REALTIME);

        if (s->expected_end == 0 || !s->progress_valid || s->completed || streq_ptr(s->phase, "done"))
                return NAN;
        return s->expected_end > now ? (double) ((s->expected_end - now + 500000) / 1000000) : 0.0;
}

void progress_job(Progress *p, const JobState *s) {
        double eta = eta_seconds(s);
        char text[256], rate[32], when[32], buf[32];
        size_t n = 0;

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
                json_end_object(&w);
                json_finish(&w);
                return;
        }

        n += snprintf(text + n, sizeof text - n, "%-9s", strna(s->phase));
        if (s->progress_valid)
                n += snprintf(text + n, sizeof text - n, " %5.1f%%", s->progress * 100.0);
        else
                n += snprintf(text + n, sizeof text - n, "     --");
        if (s->rate > 0 && n < sizeof text) {
                format_bytes(s->rate, rate, sizeof rate);
                n += snprintf(text + n, sizeof text - n, "  %s/s", rate);
        }
        if (!isnan(eta) && n < sizeof text) {
                format_duration((uint64_t) eta, when, sizeof when);
                n += snprintf(text + n, sizeof text - n, "  ETA %s", when);
        }
        if (s->buffer_fill >= 0 && n < sizeof text) {
                snprintf(buf, sizeof buf, "%.0f%%", s->buffer_fill * 100.0);
                n += snprintf(text + n, sizeof text - n, "  buffer %s", buf);
        }
        if (p->mode == PROGRESS_TTY)
                draw_bar(p, s->progress, s->progress_valid, text);
        else {
                printf("%s\n", text);
                fflush(stdout);
        }
}

void progress_job_completed(Progress *p, const JobState *s) {
        const HResultInfo *info = hresult_lookup(s->hresult);

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
                json_string(&w, "message", s->message);
                json_end_object(&w);
                json_finish(&w);
                return;
        }
        end_bar(p);
        fflush(stdout);
        if (s->success) {
                const char *note = s->message ? strchr(s->message, ' ') : NULL;

                printf("Done: %s finished.\n", s->operation ?: "job");
                /* Something to know beyond the success itself ("0x00000000: ..."). */
                if (note && info && !streq(note + 1, info->message))
                        printf("%s\n", note + 1);
        }
        else if (s->hresult == IMAPI_E_USERABORT)
                fprintf(stderr, "imapictl: %s cancelled: %s\n", s->operation ?: "job", strna(s->message));
        else
                /* The message starts with the hex value already, as with ctl_report_error. */
                fprintf(stderr, "imapictl: %s failed: %s: %s\n", s->operation ?: "job",
                        info ? info->constant : "E_FAIL", strna(s->message));
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
