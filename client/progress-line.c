/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Laying out the terminal's progress line (progress-line.h). */

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "progress-line.h"

/* The width of the fields not dropped at rank, with two spaces between them. */
static size_t fields_width(const ProgressField *fields, size_t n, unsigned dropped) {
        size_t w = 0, shown = 0;

        for (size_t i = 0; i < n; i++)
                if (fields[i].rank == 0 || fields[i].rank > dropped) {
                        w += strlen(fields[i].text);
                        shown++;
                }
        return w + (shown > 1 ? 2 * (shown - 1) : 0);
}

static void append(char *buf, size_t size, size_t *pos, const char *s) {
        int k = snprintf(buf + *pos, *pos < size ? size - *pos : 0, "%s", s);

        if (k > 0)
                *pos = MIN(*pos + (size_t) k, size > 0 ? size - 1 : 0);
}

void progress_line_layout(const ProgressField *fields, size_t n, double fraction, bool valid, unsigned width,
                          char *buf, size_t size) {
        /* The layouts to try, mildest first: the full bar while ranks 1 and 2 go; then a bar of
         * at least PROGRESS_BAR_CELLS_MIN cells, with rank 2 and then rank 3 gone; then no bar,
         * and the remaining ranks go one by one. */
        static const struct {
                unsigned dropped;
                size_t min_cells;       /* 0: no bar */
        } steps[] = {
                { 0, PROGRESS_BAR_CELLS_MAX }, { 1, PROGRESS_BAR_CELLS_MAX }, { 2, PROGRESS_BAR_CELLS_MAX },
                { 2, PROGRESS_BAR_CELLS_MIN }, { 3, PROGRESS_BAR_CELLS_MIN }, { 3, 0 },
        };
        /* One column short of the terminal: writing the last column makes some terminals wrap. */
        size_t room = width > 1 ? width - 1 : 0, pos = 0, cells = 0;
        unsigned dropped = 0, max_rank = 0;
        bool fits = false;

        for (size_t i = 0; i < n; i++)
                max_rank = MAX(max_rank, fields[i].rank);

        for (size_t i = 0; i < ELEMENTSOF(steps) && !fits; i++) {
                size_t text = fields_width(fields, n, steps[i].dropped);

                dropped = steps[i].dropped;
                /* "[" cells "] " takes cells + 3 columns */
                if (steps[i].min_cells == 0) {
                        cells = 0;
                        fits = text <= room;
                } else if (text + 3 + steps[i].min_cells <= room) {
                        cells = MIN((size_t) PROGRESS_BAR_CELLS_MAX, room - text - 3);
                        fits = true;
                }
        }
        while (!fits && dropped < max_rank) {
                dropped++;
                cells = 0;
                fits = fields_width(fields, n, dropped) <= room;
        }

        if (size > 0)
                buf[0] = 0;
        if (cells > 0) {
                char bar[PROGRESS_BAR_CELLS_MAX + 1];
                size_t filled = valid ? (size_t) lround(MIN(MAX(fraction, 0.0), 1.0) * (double) cells) : 0;

                for (size_t i = 0; i < cells; i++)
                        bar[i] = i < filled ? '#' : valid ? '-' : '.';
                bar[cells] = 0;
                append(buf, size, &pos, "[");
                append(buf, size, &pos, bar);
                append(buf, size, &pos, "] ");
        }
        for (size_t i = 0, shown = 0; i < n; i++) {
                if (fields[i].rank != 0 && fields[i].rank <= dropped)
                        continue;
                if (shown++ > 0)
                        append(buf, size, &pos, "  ");
                append(buf, size, &pos, fields[i].text);
        }
        /* Only what is never dropped is left, and even that does not fit: cut at the edge. */
        if (!fits && room < size)
                buf[room] = 0;
}
