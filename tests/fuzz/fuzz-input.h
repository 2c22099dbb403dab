/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The input of a target read a byte at a time; past its end, zeros. */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct Input {
        const uint8_t *data;
        size_t size;
} Input;

static inline uint8_t next(Input *in) {
        uint8_t b = 0;

        if (in->size > 0) {
                b = in->data[0];
                in->data++;
                in->size--;
        }
        return b;
}
