/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sizes as people read them, for messages of the daemon and the client alike. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Longest result of format_bytes(), with its NUL. */
#define FORMAT_BYTES_MAX 32

/* "512 B", "1.5 KiB", "700.0 MiB", "4.4 GiB": binary units, one decimal, rounded to the nearest
 * tenth, so that 2 MiB less a block is "2.0 MiB" rather than a truncated "1 MiB". */
char *format_bytes(uint64_t bytes, char *buf, size_t size);
