/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Rendering job progress for imapictl: a bar on a terminal, lines in a pipe, JSON lines (progress.h). */

#include <errno.h>
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
#include "time-util.h"

#define LINE_INTERVAL_USEC (1000 * 1000)
#define LINE_STEP 0.05
#define JSON_INTERVAL_USEC (250 * 1000)
#define TTY_INTERVAL_USEC (100 * 1000)

/* What was shown last, to decide whether an update is worth showing. */
typedef struct Shown {
        uint64_t usec;
        double fraction;
        char *phase;
} Shown;

/* One job of several (progress_rows_begin()). */
typedef struct ProgressRow {
        char *name;
        char line[256];         /* the row as last drawn on a terminal */
        Shown shown;
} ProgressRow;

struct Progress {
        ProgressMode mode;
        Shown shown;
        bool bar_shown;         /* a bar is on the screen without its newline */
        Eta eta;
        ProgressRow *rows;
        size_t n_rows, name_width;
        bool rows_drawn;        /* the rows are on the screen, the cursor below them */
        uint64_t rows_usec;     /* when they were last redrawn */
};

Progress *progress_new(bool json) {
        Progress *p = calloc(1, sizeof(Progress));

        if (!p)
                return NULL;
        p->mode = json ? PROGRESS_JSON : isatty(STDOUT_FILENO) ? PROGRESS_TTY : PROGRESS_LINES;
        p->shown.fraction = -1;
        eta_init(&p->eta);
        return p;
}

static void free_rows(Progress *p);

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
        free(p->shown.phase);
        free_rows(p);
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
static bool due_since(ProgressMode mode, Shown *last, const char *phase, double fraction, bool force) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        bool phase_changed = !streq_ptr(phase, last->phase);
        bool show;

        switch (mode) {
        case PROGRESS_LINES:
                show = now - last->usec >= LINE_INTERVAL_USEC || fraction - last->fraction >= LINE_STEP;
                break;
        case PROGRESS_JSON:
                show = now - last->usec >= JSON_INTERVAL_USEC;
                break;
        default:
                show = now - last->usec >= TTY_INTERVAL_USEC;
                break;
        }
        if (!(show || force || phase_changed))
                return false;
        last->usec = now;
        last->fraction = fraction;
        if (phase_changed) {
                free(last->phase);
                last->phase = phase ? strdup(phase) : NULL;
        }
        return true;
}

static bool due(Progress *p, const char *phase, double fraction, bool force) {
        return due_since(p->mode, &p->shown, phase, fraction, force);
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

/* The texts of a job's fields, for its line or its row. */
typedef struct JobTexts {
        char phase[16], percent[16], rate[FORMAT_BYTES_MAX + 8], when[32], buffer[32], drive[32];
} JobTexts;

/* The fields of a job: phase, percentage, rate, the estimate (unless with_eta is false), the buffers. */
static size_t job_fields(const JobState *s, bool with_eta, double eta, JobTexts *t, ProgressField fields[6]) {
        size_t n = 0;

        snprintf(t->phase, sizeof t->phase, "%-9s", strna(s->phase));
        fields[n++] = (ProgressField) { t->phase, 4 };
        if (s->progress_valid)
                snprintf(t->percent, sizeof t->percent, "%5.1f%%", s->progress * 100.0);
        else
                snprintf(t->percent, sizeof t->percent, "   --");
        fields[n++] = (ProgressField) { t->percent, 0 };
        if (s->rate > 0) {
                char b[FORMAT_BYTES_MAX];

                snprintf(t->rate, sizeof t->rate, "%s/s", format_bytes(s->rate, b, sizeof b));
                fields[n++] = (ProgressField) { t->rate, 2 };
        }
        if (with_eta) {
                /* "--" until the current phase has shown its pace (eta.h). */
                if (isnan(eta))
                        snprintf(t->when, sizeof t->when, "ETA --");
                else {
                        char d[24];

                        format_duration((uint64_t) llround(eta), d, sizeof d);
                        snprintf(t->when, sizeof t->when, "ETA %s", d);
                }
                fields[n++] = (ProgressField) { t->when, 3 };
        }
        if (s->buffer_fill >= 0) {
                snprintf(t->buffer, sizeof t->buffer, "buffer %.0f%%", s->buffer_fill * 100.0);
                fields[n++] = (ProgressField) { t->buffer, 1 };
        }
        if (s->drive_buffer_fill >= 0) {
                snprintf(t->drive, sizeof t->drive, "drive %.0f%%", s->drive_buffer_fill * 100.0);
                fields[n++] = (ProgressField) { t->drive, 1 };
        }
        return n;
}

/* The "progress" JSON object; recorder names the row of several jobs (NULL for one job). */
static void json_progress(const JobState *s, const char *recorder, double eta) {
        JsonWriter w = { .f = stdout };

        json_begin_object(&w, NULL);
        json_string(&w, "event", "progress");
        if (recorder)
                json_string(&w, "recorder", recorder);
        json_string(&w, "job", s->path);
        json_string(&w, "phase", s->phase);
        json_double(&w, "progress", s->progress);
        json_bool(&w, "progress_valid", s->progress_valid);
        json_uint(&w, "bytes", s->bytes);
        json_uint(&w, "rate", s->rate);
        if (!recorder)
                json_double(&w, "eta", eta);
        json_double(&w, "buffer_fill", s->buffer_fill >= 0 ? s->buffer_fill : NAN);
        json_double(&w, "drive_buffer_fill", s->drive_buffer_fill >= 0 ? s->drive_buffer_fill : NAN);
        json_end_object(&w);
        json_finish(&w);
}

void progress_job(Progress *p, const JobState *s) {
        double eta = NAN;
        ProgressField fields[6];
        JobTexts t;
        size_t n;
        bool ongoing = s->progress_valid && !s->completed && !streq_ptr(s->phase, "done");

        /* Every update counts for the estimate, shown or not. */
        if (ongoing)
                eta = eta_update(&p->eta, s->phase, s->progress, now_usec(CLOCK_MONOTONIC));
        if (!due(p, s->phase, s->progress, false))
                return;
        if (p->mode == PROGRESS_JSON) {
                json_progress(s, NULL, eta);
                return;
        }
        n = job_fields(s, ongoing, eta, &t, fields);
        show_fields(p, fields, n, s->progress, s->progress_valid, false);
}

/* The "completed" JSON object; recorder as with json_progress(). */
static void json_completed(const JobState *s, const char *recorder) {
        const HResultInfo *info = hresult_lookup(s->hresult);
        const char *error_name = !s->success && info ? info->dbus_name : NULL;
        JsonWriter w = { .f = stdout };

        json_begin_object(&w, NULL);
        json_string(&w, "event", "completed");
        if (recorder)
                json_string(&w, "recorder", recorder);
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
        json_string(&w, "message", ctl_error_message(s->message));
        json_end_object(&w);
        json_finish(&w);
}

void progress_job_completed(Progress *p, const JobState *s) {
        const HResultInfo *info = hresult_lookup(s->hresult);
        /* A failure is named as a D-Bus error of the same HRESULT would be. */
        const char *error_name = !s->success && info ? info->dbus_name : NULL;
        const char *message = ctl_error_message(s->message);

        if (p->mode == PROGRESS_JSON) {
                json_completed(s, NULL);
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

static void draw_rows(Progress *p);

void progress_note(Progress *p, const char *event, const char *text) {
        if (p->mode == PROGRESS_TTY && p->rows_drawn) {
                /* Over the first row; the rows come again below the note. */
                printf("\033[%zuA\r%s\033[K\n", p->n_rows, text);
                p->rows_drawn = false;
                draw_rows(p);
                return;
        }
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

/* Several jobs, one row each: on a terminal the rows are redrawn together in place, below
 * whatever notes came; elsewhere each update is a line of its own that starts with the row's name. */
static void free_rows(Progress *p) {
        for (size_t i = 0; i < p->n_rows; i++) {
                free(p->rows[i].name);
                free(p->rows[i].shown.phase);
        }
        p->rows = mfree(p->rows);
        p->n_rows = p->name_width = 0;
        p->rows_drawn = false;
}

int progress_rows_begin(Progress *p, char *const *names, size_t n) {
        free_rows(p);
        p->rows = calloc(n, sizeof(ProgressRow));
        if (!p->rows)
                return -ENOMEM;
        end_bar(p);
        p->n_rows = n;
        for (size_t i = 0; i < n; i++) {
                p->rows[i].name = strdup(names[i]);
                if (!p->rows[i].name)
                        return -ENOMEM;
                p->rows[i].shown.fraction = -1;
                snprintf(p->rows[i].line, sizeof p->rows[i].line, "%s", "waiting");
                p->name_width = MAX(p->name_width, strlen(names[i]));
        }
        return 0;
}

static void draw_rows(Progress *p) {
        if (p->rows_drawn)
                printf("\033[%zuA", p->n_rows);
        for (size_t i = 0; i < p->n_rows; i++)
                printf("\r%-*s  %s\033[K\n", (int) p->name_width, p->rows[i].name, p->rows[i].line);
        p->rows_drawn = true;
        p->rows_usec = now_usec(CLOCK_MONOTONIC);
        fflush(stdout);
}

/* A row's new text: on a terminal all rows are drawn again (not more often than a line would
 * be, unless forced); elsewhere the text is a line of its own. */
static void show_row(Progress *p, size_t i, const ProgressField *fields, size_t n, double fraction, bool valid,
                     bool force) {
        ProgressRow *row = &p->rows[i];
        unsigned width = terminal_width();

        if (p->mode == PROGRESS_TTY) {
                progress_line_layout(fields, n, fraction, valid,
                                     width > p->name_width + 2 ? width - (unsigned) p->name_width - 2 : 1,
                                     row->line, sizeof row->line);
                if (force || !p->rows_drawn || now_usec(CLOCK_MONOTONIC) - p->rows_usec >= TTY_INTERVAL_USEC)
                        draw_rows(p);
                return;
        }
        printf("%-*s", (int) p->name_width, row->name);
        for (size_t k = 0; k < n; k++)
                printf("  %s", fields[k].text);
        printf("\n");
        fflush(stdout);
}

void progress_row(Progress *p, size_t i, const JobState *s) {
        ProgressField fields[6];
        JobTexts t;
        size_t n;
        bool phase_changed = !streq_ptr(s->phase, p->rows[i].shown.phase);

        /* The end is progress_row_completed()'s to show. */
        if (i >= p->n_rows || streq_ptr(s->phase, "done") ||
            !due_since(p->mode, &p->rows[i].shown, s->phase, s->progress, false))
                return;
        if (p->mode == PROGRESS_JSON) {
                json_progress(s, p->rows[i].name, NAN);
                return;
        }
        n = job_fields(s, false, NAN, &t, fields);
        show_row(p, i, fields, n, s->progress, s->progress_valid, phase_changed);
}

void progress_row_completed(Progress *p, size_t i, const JobState *s) {
        const HResultInfo *info = hresult_lookup(s->hresult);
        char text[200];

        if (i >= p->n_rows)
                return;
        if (p->mode == PROGRESS_JSON) {
                json_completed(s, p->rows[i].name);
                return;
        }
        if (s->success)
                snprintf(text, sizeof text, "done");
        else
                snprintf(text, sizeof text, "%s  %s", s->hresult == IMAPI_E_USERABORT ? "cancelled" : "failed",
                         info ? info->constant : "");
        show_row(p, i, (const ProgressField[]) { { text, 0 } }, 1, s->success ? 1.0 : s->progress, true, true);
}

void progress_rows_end(Progress *p) {
        if (p->mode == PROGRESS_TTY && p->n_rows > 0)
                draw_rows(p);
        /* What comes next goes below the rows, which stay as they are. */
        p->rows_drawn = false;
}
