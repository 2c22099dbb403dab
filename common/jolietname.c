/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The IMAPI_E_BADJOLIETNAME rules (see jolietname.h). Lengths are counted in UTF-16 code units
 * because that is what a Joliet directory record stores (libisofs writes UTF-16BE, so a
 * character beyond U+FFFF takes a surrogate pair). The UTF-8 decoder is strict on purpose: an
 * overlong form could smuggle "/" or NUL past the component checks, and a UTF-8-encoded
 * surrogate has no UTF-16 form at all.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jolietname.h"
#include "macro.h"

/* Decodes one strictly valid UTF-8 sequence at s; returns its length in bytes and the code point,
 * or 0 if the bytes are not valid UTF-8 (RFC 3629: shortest form only, no surrogates, at most
 * U+10FFFF). */
static size_t utf8_decode(const unsigned char *s, uint32_t *ret_cp) {
        uint32_t cp, min;
        size_t len;

        if (s[0] < 0x80) {
                *ret_cp = s[0];
                return 1;
        }
        if (s[0] >= 0xC2 && s[0] <= 0xDF) {
                cp = s[0] & 0x1F;
                len = 2;
                min = 0x80;
        } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
                cp = s[0] & 0x0F;
                len = 3;
                min = 0x800;
        } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
                cp = s[0] & 0x07;
                len = 4;
                min = 0x10000;
        } else
                return 0; /* continuation byte, C0/C1 (always overlong) or F5..FF */

        for (size_t i = 1; i < len; i++) {
                /* A NUL terminator is not a continuation byte, so this never reads past it. */
                if ((s[i] & 0xC0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                return 0;

        *ret_cp = cp;
        return len;
}

static bool joliet_char_forbidden(uint32_t cp) {
        /* Joliet specification, section 3.3; "/" never gets here, it separates components. */
        if (cp < 0x20 || IN_SET(cp, (uint32_t) '*', (uint32_t) ':', (uint32_t) ';', (uint32_t) '?',
                                (uint32_t) '\\'))
                return true;
        /* What a name on a disc must not hide: DEL and the C1 controls, the bidirectional
         * embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069), with which
         * "gpj.exe" shows as "exe.jpg", and noncharacters (U+FDD0..U+FDEF, U+xFFFE, U+xFFFF),
         * which no reader is meant to get. */
        return (cp >= 0x7F && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
               (cp >= 0x2066 && cp <= 0x2069) || (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE;
}

JolietNameError joliet_name_check(const char *path, char **ret_normalized, unsigned *ret_depth) {
        const unsigned char *p, *component;
        size_t path_units = 0, component_units = 0;
        unsigned depth = 0;

        if (!path)
                return JOLIET_NAME_EMPTY;
        if (path[0] == '/')
                path++;
        if (path[0] == '\0')
                return JOLIET_NAME_EMPTY;

        /* Validate the encoding first, so that every later rule looks at real characters. */
        for (p = (const unsigned char *) path; *p;) {
                uint32_t cp;
                size_t n = utf8_decode(p, &cp);

                if (n == 0)
                        return JOLIET_NAME_BAD_UTF8;
                p += n;
        }

        component = (const unsigned char *) path;
        for (p = component;; ) {
                uint32_t cp = 0;
                size_t n = *p ? utf8_decode(p, &cp) : 0;

                if (*p == '\0' || cp == '/') {
                        size_t len = (size_t) (p - component);

                        if (len == 0)
                                return JOLIET_NAME_EMPTY_COMPONENT;
                        if ((len == 1 && component[0] == '.') ||
                            (len == 2 && component[0] == '.' && component[1] == '.'))
                                return JOLIET_NAME_DOT_COMPONENT;
                        if (component_units > JOLIET_MAX_COMPONENT)
                                return JOLIET_NAME_COMPONENT_TOO_LONG;
                        depth++;
                        if (*p == '\0')
                                break;
                        path_units++; /* the separator */
                        p++;
                        component = p;
                        component_units = 0;
                        continue;
                }

                if (joliet_char_forbidden(cp))
                        return JOLIET_NAME_BAD_CHARACTER;
                component_units += cp > 0xFFFF ? 2 : 1;
                path_units += cp > 0xFFFF ? 2 : 1;
                p += n;
        }

        if (depth > JOLIET_MAX_DEPTH)
                return JOLIET_NAME_TOO_DEEP;
        if (path_units > JOLIET_MAX_PATH)
                return JOLIET_NAME_PATH_TOO_LONG;

        if (ret_normalized) {
                /* Out of memory is not a verdict on the name: the caller sees NULL and handles it
                 * like any failed allocation. */
                *ret_normalized = strdup(path);
        }
        if (ret_depth)
                *ret_depth = depth;
        return JOLIET_NAME_OK;
}

const char *joliet_name_error_to_string(JolietNameError e) {
        static const char *const table[] = {
                [JOLIET_NAME_OK] = "valid Joliet name",
                [JOLIET_NAME_EMPTY] = "empty path",
                [JOLIET_NAME_BAD_UTF8] = "path is not valid UTF-8",
                [JOLIET_NAME_EMPTY_COMPONENT] = "empty path component (\"//\" or a trailing \"/\")",
                [JOLIET_NAME_DOT_COMPONENT] = "path component \".\" or \"..\"",
                [JOLIET_NAME_BAD_CHARACTER] =
                        "path contains a control character (C0, DEL, C1 or a bidirectional override), "
                        "a noncharacter, or one of * : ; ? \\",
                [JOLIET_NAME_COMPONENT_TOO_LONG] = "path component longer than 64 characters",
                [JOLIET_NAME_PATH_TOO_LONG] = "path longer than 240 characters",
                [JOLIET_NAME_TOO_DEEP] = "path deeper than 8 levels",
        };

        if ((size_t) e >= ELEMENTSOF(table) || !table[e])
                return "unknown Joliet name error";
        return table[e];
}
