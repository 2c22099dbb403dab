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
        JOLIET_NAME_COMPONENT_TOO_LONG_FOR_DISC,
        JOLIET_NAME_PATH_TOO_LONG_FOR_DISC,
} JolietNameError;

/* Checks a path; on success writes the normalized path (no leading "/") to ret_normalized
 * (malloc'ed; may be NULL) and its depth (1 for a file in the root) to ret_depth (may be NULL). */
JolietNameError joliet_name_check(const char *path, char **ret_normalized, unsigned *ret_depth);
/* A sentence for the error, naming the rule ("component longer than 64 characters"). */
const char *joliet_name_error_to_string(JolietNameError e);

/*
 * Adapting names for the Joliet tree (IJolietDiscMaster's StrictJolietNames off).
 *
 * Rock Ridge (and so Linux) keeps a name exactly; the rules of every tree are disc_name_check()'s:
 *   - valid UTF-8, not empty, no empty component, no "." or ".."
 *   - a component of at most 255 bytes (Rock Ridge's NM entries and Linux' NAME_MAX)
 *   - a path of at most 4000 bytes, leaving room for a mount point within Linux' PATH_MAX
 * Depth and characters are free: Rock Ridge relocates directories deeper than ISO 9660's 8
 * levels (readers put them back), and Joliet has no depth limit.
 *
 * The Joliet tree (what Windows shows) gets a name that Windows can open:
 *   - at most 64 UTF-16 code units, the Joliet specification's limit (libisofs' 103-character
 *     "long names" are not used: not every reader takes them)
 *   - none of * / : ; ? \ " < > | (the first six are Joliet's, the last three Windows'), no
 *     control, bidirectional override or noncharacter (see joliet_name_check()): each becomes "_"
 *   - no trailing "." or space (Windows drops them, and then cannot find the file): "_"
 *   - not a DOS device name (CON, PRN, AUX, NUL, COM1..COM9, LPT1..LPT9, also with an
 *     extension): "_" is appended to the device part, "con.txt" -> "con_.txt"
 *   - unique in its folder case-insensitively, as Windows opens names: of "README" and
 *     "Readme", the second in byte order becomes "Readme~1"
 * A name that breaks none of these is kept as it is. A shortened or clashing name keeps its
 * extension (up to 16 characters) and gets "~N" before it, with the smallest N that makes it
 * unique: "a very long name ... .txt" -> "a very long n~1.txt". The result depends only on the set of
 * names in the folder, never on the order in which they were staged.
 */

#define DISC_MAX_COMPONENT_BYTES 255
#define DISC_MAX_PATH_BYTES 4000

/* The names no tree can hold, as JolietNameError: JOLIET_NAME_EMPTY, _BAD_UTF8,
 * _EMPTY_COMPONENT, _DOT_COMPONENT, _COMPONENT_TOO_LONG_FOR_DISC, _PATH_TOO_LONG_FOR_DISC. Outputs
 * as joliet_name_check()'s. */
JolietNameError disc_name_check(const char *path, char **ret_normalized, unsigned *ret_depth);

/* Whether one component (valid UTF-8, no "/") is kept as it is in an adapting Joliet tree,
 * leaving uniqueness aside. */
bool joliet_component_is_windows_legal(const char *name);

/* The Joliet names of one folder's children: names[0..n-1] (distinct, each passing
 * disc_name_check() as one component). ret_joliet[i] is NULL where names[i] is kept, else a
 * malloc'ed legal name unique in the folder. Returns 0 or -ENOMEM (ret_joliet then all NULL). */
int joliet_dir_adapt(const char *const *names, size_t n, char **ret_joliet);

typedef struct JolietAdaptation {
        char *path;             /* as staged (what Rock Ridge holds) */
        char *joliet_path;      /* what the Joliet tree holds, every component adapted */
} JolietAdaptation;

/* The adaptations of a whole tree: paths[0..n-1] are normalized image paths of files and
 * folders (folders implied by a path need not be listed; duplicates are ignored). Each path
 * whose own last component is adapted is listed once, sorted by path; its joliet_path has its
 * parents' adapted names too. Returns 0 or -ENOMEM. */
int joliet_tree_adapt(const char *const *paths, size_t n, JolietAdaptation **ret, size_t *ret_n);
void joliet_adaptations_free(JolietAdaptation *a, size_t n);
