/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CD-TEXT of a Redbook disc master: the album's and each track's title and performer, as they go
 * into the lead-in of a disc-at-once audio CD. Pure logic (no I/O): the character set (block 0,
 * ISO-8859-1, English) and the room that the packs of one language block leave.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct Redbook Redbook;

/* One block holds at most 255 packs (libburn numbers them 0 to 254); three of them are the
 * size information (pack type 8Fh), which leaves 252 packs of 12 text bytes. */
#define CDTEXT_MAX_TEXT_PACKS 252
#define CDTEXT_PACK_TEXT_BYTES 12

typedef enum CdTextField {
        CDTEXT_TITLE,           /* pack type 80h */
        CDTEXT_PERFORMER,       /* pack type 81h */
        _CDTEXT_FIELD_MAX,
} CdTextField;

/* "title", "performer"; -1 for anything else. */
CdTextField cdtext_field_from_string(const char *s);
const char *cdtext_field_to_string(CdTextField f);

/* Whether utf8 (valid UTF-8, as D-Bus strings are) can be written in ISO-8859-1: -ERANGE with the
 * first code point that cannot (above U+00FF, or a control character) in *ret_bad. */
int cdtext_check(const char *utf8, uint32_t *ret_bad);
/* The ISO-8859-1 form of a string that cdtext_check() accepted; NULL on allocation failure. */
char *cdtext_to_latin1(const char *utf8);

/* The text packs (without the size information) that the Redbook's text needs in block 0: for each
 * field that any text uses, the album's and every track's strings, each with its terminating NUL,
 * run on through packs of 12 bytes. */
unsigned cdtext_text_packs(const Redbook *rb);
/* Whether the Redbook has any text. */
int cdtext_any(const Redbook *rb);

/* A disc's CD-TEXT (n packs of 18 bytes, as READ TOC format 5 returns them) into the Redbook,
 * whose tracks exist already: the titles and performers of block 0 when it is in ISO-8859-1 or
 * ASCII (other blocks and character sets are left out), as UTF-8; control characters are dropped,
 * a TAB (Red Book: "as the track before") is the previous track's string. Returns how many
 * strings were set, or -ENOMEM. */
int cdtext_decode(const uint8_t *packs, size_t n, Redbook *rb);
