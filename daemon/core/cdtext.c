/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CD-TEXT of a Redbook disc master (see cdtext.h). */

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/cdtext.h"
#include "core/redbook.h"
#include "macro.h"

CdTextField cdtext_field_from_string(const char *s) {
        if (streq(s, "title"))
                return CDTEXT_TITLE;
        if (streq(s, "performer"))
                return CDTEXT_PERFORMER;
        return (CdTextField) -1;
}

const char *cdtext_field_to_string(CdTextField f) {
        return f == CDTEXT_TITLE ? "title" : f == CDTEXT_PERFORMER ? "performer" : NULL;
}

/* The next code point of valid UTF-8. */
static uint32_t next_code_point(const unsigned char **p) {
        const unsigned char *s = *p;
        uint32_t c = s[0];
        int n = c < 0x80 ? 0 : c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;

        if (n > 0)
                c &= 0x3f >> n;
        for (int i = 1; i <= n && s[i]; i++)
                c = c << 6 | (s[i] & 0x3f);
        *p = s + 1 + n;
        return c;
}

int cdtext_check(const char *utf8, uint32_t *ret_bad) {
        for (const unsigned char *p = (const unsigned char *) utf8; *p;) {
                uint32_t c = next_code_point(&p);

                /* Players show the text as it is: no control characters (C0, DEL, C1). */
                if (c > 0xff || c < 0x20 || (c >= 0x7f && c < 0xa0)) {
                        *ret_bad = c;
                        return -ERANGE;
                }
        }
        return 0;
}

char *cdtext_to_latin1(const char *utf8) {
        char *s = malloc(strlen(utf8) + 1), *q = s;

        if (!s)
                return NULL;
        for (const unsigned char *p = (const unsigned char *) utf8; *p;)
                *q++ = (char) (unsigned char) next_code_point(&p);
        *q = 0;
        return s;
}

/* ISO-8859-1 bytes of a string cdtext_check() accepted, with its NUL. */
static size_t latin1_size(const char *utf8) {
        size_t n = 1;

        for (const unsigned char *p = (const unsigned char *) utf8; p && *p;) {
                (void) next_code_point(&p);
                n++;
        }
        return n;
}

static bool isempty(const char *s) {
        return !s || !*s;
}

unsigned cdtext_text_packs(const Redbook *rb) {
        unsigned packs = 0;

        for (CdTextField f = 0; f < _CDTEXT_FIELD_MAX; f++) {
                size_t bytes = latin1_size(rb->album[f]);
                int used = !isempty(rb->album[f]);

                for (size_t i = 0; i < rb->n; i++) {
                        bytes += latin1_size(rb->tracks[i].text[f]);
                        used |= !isempty(rb->tracks[i].text[f]);
                }
                if (used)
                        packs += (unsigned) DIV_ROUND_UP(bytes, CDTEXT_PACK_TEXT_BYTES);
        }
        return packs;
}

int cdtext_any(const Redbook *rb) {
        for (CdTextField f = 0; f < _CDTEXT_FIELD_MAX; f++) {
                if (!isempty(rb->album[f]))
                        return 1;
                for (size_t i = 0; i < rb->n; i++)
                        if (!isempty(rb->tracks[i].text[f]))
                                return 1;
        }
        return 0;
}
