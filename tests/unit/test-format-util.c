/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* common/format-util.c: sizes as people read them. */

#include <string.h>

#include "format-util.h"
#include "macro.h"
#include "tap.h"

int main(void) {
        static const struct {
                uint64_t bytes;
                const char *text;
        } cases[] = {
                { 0, "0 B" },
                { 1023, "1023 B" },
                { 1024, "1.0 KiB" },
                { 1536, "1.5 KiB" },
                { 1048575, "1.0 MiB" },
                /* 2 MiB less one block: rounded, not truncated to "1 MiB" */
                { 2 * 1048576 - 2048, "2.0 MiB" },
                { 700ULL * 1048576, "700.0 MiB" },
                { 4700000000ULL, "4.4 GiB" },
                { 25ULL << 40, "25.0 TiB" },
                { UINT64_MAX, "16777216.0 TiB" },
        };
        char buf[FORMAT_BYTES_MAX];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                format_bytes(cases[i].bytes, buf, sizeof buf);
                CHECK(streq(buf, cases[i].text), "%llu bytes: '%s', expected '%s'",
                      (unsigned long long) cases[i].bytes, buf, cases[i].text);
        }
        return tap_done();
}
