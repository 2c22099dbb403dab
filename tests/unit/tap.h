/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A small TAP producer for the unit tests: CHECK() records, tap_done() prints the plan. */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static unsigned tap_count = 0, tap_failed = 0;

#define CHECK(cond, ...)                                                                \
        do {                                                                            \
                bool _ok_ = (cond);                                                     \
                tap_count++;                                                            \
                if (_ok_)                                                               \
                        printf("ok %u - ", tap_count);                                  \
                else {                                                                  \
                        printf("not ok %u - ", tap_count);                              \
                        tap_failed++;                                                   \
                }                                                                       \
                printf(__VA_ARGS__);                                                    \
                printf("%s\n", _ok_ ? "" : " (" #cond ") at " __FILE__);             \
        } while (0)

static inline int tap_done(void) {
        printf("1..%u\n", tap_count);
        return tap_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
