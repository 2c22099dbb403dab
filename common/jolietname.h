/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Names inside a Joliet image, and the rules behind IMAPI_E_BADJOLIETNAME (see
 * shared/reference/imapi-v1.md §4.2). Pure functions, no I/O: unit-tested and fuzzed.
 *
 * A client names each staged file by its path in the image, UTF-8, components separated by
 * "/", e.g. "photos/2024/img 01.jpg" (a leading "/" is allowed and ignored). Refused:
 *   - invalid UTF-8 (overlong forms, surrogates, beyond U+10FFFF)
 *   - an empty path, an empty component ("a//b", trailing "/"), "." or ".."
 *   - characters U+0000..U+001F, and * / : ; ? \ inside a component (Joliet spec)
 *   - a component longer than 64 UTF-16 code units (Joliet's 128 bytes; a character beyond
 *     U+FFFF, such as an emoji, takes two)
 *   - a whole path longer than 240 UTF-16 code units
 *   - more than 8 directory levels below the root (the ISO 9660 tree IMAPI also writes):
 *     a file at depth 8, i.e. "d1/d2/d3/d4/d5/d6/d7/file" is the deepest allowed
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define JOLIET_MAX_COMPONENT 64
#define JOLIET_MAX_PATH 240
#define JOLIET_MAX_DEPTH 8

typedef enum JolietNameError {
        JOLIET_NAME_OK = 0,
        JOLIET_NAME_EMPTY,
        JOLIET_NAME_BAD_UTF8,
        JOLIET_NAME_EMPTY_COMPONENT,
        JOLIET_NAME_DOT_COMPONENT,
        JOLIET_NAME_BAD_CHARACTER,
        JOLIET_NAME_COMPONENT_TOO_LONG,
        JOLIET_NAME_PATH_TOO_LONG,
        JOLIET_NAME_TOO_DEEP,
} JolietNameError;

/* Checks a path; on success writes the normalized path (no leading "/") to ret_normalized
 * (malloc'ed; may be NULL) and its depth (1 for a file in the root) to ret_depth (may be NULL). */
JolietNameError joliet_name_check(const char *path, char **ret_normalized, unsigned *ret_depth);
/* A sentence for the error, naming the rule ("component longer than 64 characters"). */
const char *joliet_name_error_to_string(JolietNameError e);
