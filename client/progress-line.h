/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one-line progress display on a terminal: a bar and fields ("writing  42.1%  4.2 MiB/s
 * ETA 1:23  buffer 97%") laid out to the terminal's width. When they do not all fit, whole
 * fields go, least useful first, and the bar shrinks and then goes too, so that nothing is ever
 * cut in the middle of a number; the percentage stays to the end.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct ProgressField {
        const char *text;
        /* 0: never dropped. Otherwise the order of dropping: rank 1 goes first. Ranks 1 and 2
         * go before the bar shrinks, 3 before the bar goes, 4 and above after it. */
        unsigned rank;
} ProgressField;

#define PROGRESS_BAR_CELLS_MAX 24
#define PROGRESS_BAR_CELLS_MIN 10

/* Writes the line for fields (in display order) into buf: at most width - 1 columns, so that the
 * terminal never wraps it. fraction is 0..1; with valid false the bar shows no fill. Field texts
 * are ASCII. */
void progress_line_layout(const ProgressField *fields, size_t n, double fraction, bool valid, unsigned width,
                          char *buf, size_t size);
