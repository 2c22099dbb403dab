/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* client/progress-line.c: the terminal's progress line at every width, field by field. */

#include <string.h>

#include "macro.h"
#include "progress-line.h"
#include "tap.h"

static const ProgressField job[] = {
        { "writing  ", 4 }, { " 42.0%", 0 }, { "4.2 MiB/s", 2 }, { "ETA 1:23", 3 }, { "buffer 97%", 1 },
};

static const char *layout(unsigned width) {
        static char buf[256];

        progress_line_layout(job, 5, 0.42, true, width, buf, sizeof buf);
        return buf;
}

/* Whether each field is in the line whole or not at all. */
static bool fields_whole(const char *line) {
        for (size_t i = 0; i < 5; i++) {
                const char *t = job[i].text;
                size_t len = strlen(t);

                for (size_t k = 1; k < len; k++) {
                        /* a cut field would leave its first k characters at the end of the line */
                        size_t n = strlen(line);
                        if (n >= k && strncmp(line + n - k, t, k) == 0 && !strstr(line, t))
                                return false;
                }
        }
        return true;
}

int main(void) {
        const char *l;

        l = layout(200);
        CHECK(streq(l, "[##########--------------] writing     42.0%  4.2 MiB/s  ETA 1:23  buffer 97%"),
              "wide: bar and every field: '%s'", l);

        /* Never longer than width - 1, and no field cut, at any width. */
        for (unsigned w = 2; w <= 120; w++) {
                l = layout(w);
                if (strlen(l) > w - 1 || (w >= 8 && !fields_whole(l))) {
                        CHECK(false, "width %u: '%s'", w, l);
                        break;
                }
                if (w == 120)
                        CHECK(true, "widths 2 to 120 fit without cutting a field");
        }

        l = layout(70);
        CHECK(!strstr(l, "buffer") && strstr(l, "4.2 MiB/s") && strstr(l, "ETA 1:23") && l[0] == '[',
              "70 columns: the buffer goes first: '%s'", l);
        l = layout(60);
        CHECK(!strstr(l, "MiB/s") && strstr(l, "ETA 1:23") && strncmp(l, "[##########", 11) == 0,
              "60 columns: then the rate, with the full bar: '%s'", l);
        l = layout(45);
        CHECK(strstr(l, "ETA 1:23") && l[0] == '[' && strlen(l) <= 44 && !strstr(l, "[##########----------"
              "----]"), "45 columns: the bar shrinks before the ETA goes: '%s'", l);
        l = layout(33);
        CHECK(!strstr(l, "ETA") && l[0] == '[' && strstr(l, "writing"), "33 columns: no ETA, a short bar: '%s'", l);
        l = layout(20);
        CHECK(streq(l, "writing     42.0%"), "20 columns: no bar: '%s'", l);
        l = layout(10);
        CHECK(streq(l, " 42.0%"), "10 columns: the percentage alone: '%s'", l);
        l = layout(4);
        CHECK(strlen(l) == 3, "4 columns: cut at the edge, nothing wraps: '%s'", l);

        /* No fill while the progress is not known. */
        char buf[128];
        progress_line_layout(job, 2, 0.5, false, 80, buf, sizeof buf);
        CHECK(strncmp(buf, "[........................] ", 27) == 0, "unknown progress: '%s'", buf);
        progress_line_layout(job, 2, 1.0, true, 80, buf, sizeof buf);
        CHECK(strncmp(buf, "[########################] ", 27) == 0, "done: '%s'", buf);

        return tap_done();
}
