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

#define PACK_BYTES 18
#define PACK_TYPE_TITLE 0x80
#define PACK_TYPE_PERFORMER 0x81
#define PACK_TYPE_SIZE 0x8f

/* Block 0 of the pack, in single-byte characters. */
static bool pack_in_block0(const uint8_t *p) {
        return (p[3] & 0x70) == 0 && !(p[3] & 0x80);
}

/* Block 0's character code, from the first of its size information packs (0x00 ISO-8859-1,
 * 0x01 ASCII; without one, ISO-8859-1 as libburn writes by default). */
static int block0_char_code(const uint8_t *packs, size_t n) {
        for (size_t i = 0; i < n; i++) {
                const uint8_t *p = packs + i * PACK_BYTES;

                if (p[0] == PACK_TYPE_SIZE && p[1] == 0 && (p[3] & 0x70) == 0)
                        return p[4];
        }
        return 0x00;
}

/* ISO-8859-1 into UTF-8, without control characters (cdtext_check() refuses them). */
static char *latin1_to_utf8(const char *s, size_t len) {
        char *u = malloc(len * 2 + 1), *q = u;

        if (!u)
                return NULL;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) s[i];

                if (c < 0x20 || (c >= 0x7f && c < 0xa0))
                        continue;
                if (c < 0x80)
                        *q++ = (char) c;
                else {
                        *q++ = (char) (0xc0 | c >> 6);
                        *q++ = (char) (0x80 | (c & 0x3f));
                }
        }
        *q = 0;
        return u;
}

/* The strings of one pack type: the texts of its packs run together, NUL-separated, the first
 * belonging to the track the first pack names. */
static int decode_field(const uint8_t *packs, size_t n, uint8_t type, CdTextField f, Redbook *rb) {
        _cleanup_free_ char *text = malloc(n * CDTEXT_PACK_TEXT_BYTES + 1);
        size_t len = 0, track = SIZE_MAX, start = 0;
        const char *prev = NULL;
        int set = 0, r;

        if (!text)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const uint8_t *p = packs + i * PACK_BYTES;

                if (p[0] != type || !pack_in_block0(p))
                        continue;
                if (track == SIZE_MAX)
                        track = p[1] & 0x7f;
                memcpy(text + len, p + 4, CDTEXT_PACK_TEXT_BYTES);
                len += CDTEXT_PACK_TEXT_BYTES;
        }
        text[len] = 0;
        for (size_t i = 0; track != SIZE_MAX && i < len && track <= rb->n; i++) {
                _cleanup_free_ char *u = NULL;

                if (text[i] != 0)
                        continue;
                if (i - start == 1 && text[start] == '\t')
                        u = prev ? strdup(prev) : NULL;
                else
                        u = latin1_to_utf8(text + start, i - start);
                if (!u && !(i - start == 1 && text[start] == '\t'))
                        return -ENOMEM;
                if (u && *u) {
                        r = redbook_set_text(rb, track, f, u);
                        if (r < 0)
                                return r;
                        set++;
                }
                prev = redbook_get_text(rb, track, f);
                track++;
                start = i + 1;
        }
        return set;
}

int cdtext_decode(const uint8_t *packs, size_t n, Redbook *rb) {
        int set = 0, r;

        if (!packs || n == 0 || !IN_SET(block0_char_code(packs, n), 0x00, 0x01))
                return 0;
        for (CdTextField f = 0; f < _CDTEXT_FIELD_MAX; f++) {
                r = decode_field(packs, n, f == CDTEXT_TITLE ? PACK_TYPE_TITLE : PACK_TYPE_PERFORMER, f, rb);
                if (r < 0)
                        return r;
                set += r;
        }
        return set;
}
