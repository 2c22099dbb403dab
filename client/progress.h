/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How imapictl shows a job as it runs: one updating line (a bar) on a terminal, a plain line per
 * update when stdout is a file or pipe (at most once a second or every 5 %, and on every phase
 * change), or one JSON object per line with --json. Only rendering lives here; the numbers come
 * from the job's properties and signals (follow.c) and from staging (verb-burn.c).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef enum ProgressMode {
        PROGRESS_TTY,
        PROGRESS_LINES,
        PROGRESS_JSON,
} ProgressMode;

typedef struct JobState {
        char *path;
        char *operation;
        char *phase;
        char *status;           /* what the job waits for (Job.Status), "" when it does not */
        bool status_changed;    /* since it was last shown */
        double progress;        /* of the whole job, 0..1 */
        bool progress_valid;
        uint64_t bytes;         /* the size of the work (Job.Bytes) */
        uint64_t rate;          /* bytes per second, 0 if unknown */
        uint64_t expected_end;  /* µs, CLOCK_REALTIME; 0 if unknown */
        double buffer_fill;     /* 0..1, -1 when not writing */
        double drive_buffer_fill; /* the drive's own buffer, 0..1, -1 when not writing or unknown */
        uint32_t hresult;
        bool completed, success;
        char *message;
        char **objects;         /* Job.Objects */
} JobState;

typedef struct Progress Progress;

/* PROGRESS_JSON with --json, else TTY or LINES after stdout. */
Progress *progress_new(bool json);
Progress *progress_free(Progress *p);

void progress_staging(Progress *p, uint64_t files, uint64_t files_total, uint64_t bytes,
                      uint64_t bytes_total, bool final);
void progress_job_started(Progress *p, const JobState *s);
void progress_job(Progress *p, const JobState *s);
/* The end of a job: its outcome, with the IMAPI constant of a failure. */
void progress_job_completed(Progress *p, const JobState *s);
/* A line of text (or a JSON "message" event) that does not disturb the bar. */
void progress_note(Progress *p, const char *event, const char *text);

/* Several jobs at once, a row for each, named (a recorder's id): on a terminal the rows are
 * redrawn in place, below the notes; otherwise each update is a line starting with the row's name;
 * with --json each object carries "recorder". */
int progress_rows_begin(Progress *p, char *const *names, size_t n);
void progress_row(Progress *p, size_t i, const JobState *s);
void progress_row_completed(Progress *p, size_t i, const JobState *s);
/* The rows stay as they are; what is printed next goes below them. */
void progress_rows_end(Progress *p);

void job_state_done(JobState *s);

static inline void progress_freep(Progress **p) {
        progress_free(*p);
}
