/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sizes as people read them (format-util.h). */

#include <stdio.h>

#include "format-util.h"
#include "macro.h"

char *format_bytes(uint64_t bytes, char *buf, size_t size) {
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
        double v = (double) bytes;
        size_t u = 0;

        /* Go up a unit where one decimal would show 1024.0. */
        while (v >= 1023.95 && u < ELEMENTSOF(units) - 1) {
                v /= 1024.0;
                u++;
        }
        if (u == 0)
                snprintf(buf, size, "%llu B", (unsigned long long) bytes);
        else
                snprintf(buf, size, "%.1f %s", v, units[u]);
        return buf;
}
