/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The IMAPI_E_BADJOLIETNAME rules (see jolietname.h). Lengths are counted in UTF-16 code units
 * because that is what a Joliet directory record stores (libisofs writes UTF-16BE, so a
 * character beyond U+FFFF takes a surrogate pair). The UTF-8 decoder is strict on purpose: an
 * overlong form could smuggle "/" or NUL past the component checks, and a UTF-8-encoded
 * surrogate has no UTF-16 form at all.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jolietname.h"
#include "macro.h"
#include "strmap.h"

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

/* What both sets of rules check first: a path at all, without its leading "/", and its encoding,
 * so that every later rule looks at real characters. */
static JolietNameError path_begin(const char **path) {
        const char *s = *path;

        if (!s)
                return JOLIET_NAME_EMPTY;
        if (s[0] == '/')
                s++;
        if (s[0] == '\0')
                return JOLIET_NAME_EMPTY;
        for (const unsigned char *p = (const unsigned char *) s; *p;) {
                uint32_t cp;
                size_t n = utf8_decode(p, &cp);

                if (n == 0)
                        return JOLIET_NAME_BAD_UTF8;
                p += n;
        }
        *path = s;
        return JOLIET_NAME_OK;
}

JolietNameError joliet_name_check(const char *path, char **ret_normalized, unsigned *ret_depth) {
        const unsigned char *p, *component;
        size_t path_units = 0, component_units = 0;
        unsigned depth = 0;
        JolietNameError e;

        e = path_begin(&path);
        if (e != JOLIET_NAME_OK)
                return e;

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
                [JOLIET_NAME_COMPONENT_TOO_LONG_FOR_DISC] = "path component longer than 255 bytes",
                [JOLIET_NAME_PATH_TOO_LONG_FOR_DISC] = "path longer than 4000 bytes",
        };

        if ((size_t) e >= ELEMENTSOF(table) || !table[e])
                return "unknown Joliet name error";
        return table[e];
}

JolietNameError disc_name_check(const char *path, char **ret_normalized, unsigned *ret_depth) {
        const char *p, *component;
        unsigned depth = 0;
        JolietNameError e;

        e = path_begin(&path);
        if (e != JOLIET_NAME_OK)
                return e;
        for (component = p = path;; p++) {
                size_t len;

                if (*p != '\0' && *p != '/')
                        continue;
                len = (size_t) (p - component);
                if (len == 0)
                        return JOLIET_NAME_EMPTY_COMPONENT;
                if ((len == 1 && component[0] == '.') || (len == 2 && component[0] == '.' && component[1] == '.'))
                        return JOLIET_NAME_DOT_COMPONENT;
                if (len > DISC_MAX_COMPONENT_BYTES)
                        return JOLIET_NAME_COMPONENT_TOO_LONG_FOR_DISC;
                depth++;
                if (*p == '\0')
                        break;
                component = p + 1;
        }
        if ((size_t) (p - path) > DISC_MAX_PATH_BYTES)
                return JOLIET_NAME_PATH_TOO_LONG_FOR_DISC;
        if (ret_normalized)
                *ret_normalized = strdup(path);
        if (ret_depth)
                *ret_depth = depth;
        return JOLIET_NAME_OK;
}

/* A component as code points, to be cut and patched. */
typedef struct CodePoints {
        uint32_t *cp;
        size_t n;
} CodePoints;

static int code_points_from_utf8(const char *s, CodePoints *ret) {
        size_t len = strlen(s), n = 0;
        uint32_t *cp = malloc(MAX(len, (size_t) 1) * sizeof(uint32_t));

        if (!cp)
                return -ENOMEM;
        for (const unsigned char *p = (const unsigned char *) s; *p;) {
                size_t k = utf8_decode(p, &cp[n]);

                /* Callers pass checked names; a stray byte becomes "_" rather than a crash. */
                if (k == 0) {
                        cp[n] = '_';
                        k = 1;
                }
                n++;
                p += k;
        }
        *ret = (CodePoints) { .cp = cp, .n = n };
        return 0;
}

static size_t utf16_units(const uint32_t *cp, size_t n) {
        size_t units = 0;

        for (size_t i = 0; i < n; i++)
                units += cp[i] > 0xFFFF ? 2 : 1;
        return units;
}

/* Appends code points as UTF-8 to out (room for 4 bytes each); returns the new end. */
static char *utf8_append(char *out, const uint32_t *cp, size_t n) {
        for (size_t i = 0; i < n; i++) {
                uint32_t c = cp[i];

                if (c < 0x80)
                        *out++ = (char) c;
                else if (c < 0x800) {
                        *out++ = (char) (0xC0 | (c >> 6));
                        *out++ = (char) (0x80 | (c & 0x3F));
                } else if (c < 0x10000) {
                        *out++ = (char) (0xE0 | (c >> 12));
                        *out++ = (char) (0x80 | ((c >> 6) & 0x3F));
                        *out++ = (char) (0x80 | (c & 0x3F));
                } else {
                        *out++ = (char) (0xF0 | (c >> 18));
                        *out++ = (char) (0x80 | ((c >> 12) & 0x3F));
                        *out++ = (char) (0x80 | ((c >> 6) & 0x3F));
                        *out++ = (char) (0x80 | (c & 0x3F));
                }
        }
        *out = '\0';
        return out;
}

static bool windows_char_forbidden(uint32_t cp) {
        return joliet_char_forbidden(cp) || IN_SET(cp, (uint32_t) '"', (uint32_t) '<', (uint32_t) '>',
                                                   (uint32_t) '|', (uint32_t) '/');
}

/* The length of the DOS device name the component starts with (before its first "." or its
 * end), or 0. */
static size_t windows_device_prefix(const uint32_t *cp, size_t n) {
        static const char *const devices[] = { "CON", "PRN", "AUX", "NUL", "COM", "LPT" };
        size_t base = 0;

        while (base < n && cp[base] != '.')
                base++;
        if (base != 3 && base != 4)
                return 0;
        for (size_t d = 0; d < ELEMENTSOF(devices); d++) {
                bool match = true;

                for (size_t i = 0; i < 3 && match; i++)
                        match = cp[i] < 0x80 && (char) (cp[i] & ~0x20u) == devices[d][i];
                if (!match)
                        continue;
                if (base == 3 && d < 4)
                        return 3;
                if (base == 4 && d >= 4 && cp[3] >= '1' && cp[3] <= '9')
                        return 4;
        }
        return 0;
}

bool joliet_component_is_windows_legal(const char *name) {
        CodePoints c;
        bool legal;

        if (!name || !*name || code_points_from_utf8(name, &c) < 0)
                return false;
        legal = utf16_units(c.cp, c.n) <= JOLIET_MAX_COMPONENT && !IN_SET(c.cp[c.n - 1], (uint32_t) '.', (uint32_t) ' ') &&
                windows_device_prefix(c.cp, c.n) == 0;
        for (size_t i = 0; legal && i < c.n; i++)
                legal = !windows_char_forbidden(c.cp[i]);
        free(c.cp);
        return legal;
}

/* Forbidden characters, a trailing "." or space and a device name patched; the length is left
 * to joliet_candidate(). */
static int windows_sanitize(const char *name, CodePoints *ret) {
        CodePoints c;
        size_t dev;
        int r;

        r = code_points_from_utf8(name, &c);
        if (r < 0)
                return r;
        for (size_t i = 0; i < c.n; i++)
                if (windows_char_forbidden(c.cp[i]))
                        c.cp[i] = '_';
        for (size_t i = c.n; i > 0 && IN_SET(c.cp[i - 1], (uint32_t) '.', (uint32_t) ' '); i--)
                c.cp[i - 1] = '_';
        dev = windows_device_prefix(c.cp, c.n);
        if (dev > 0) {
                uint32_t *l = realloc(c.cp, (c.n + 1) * sizeof(uint32_t));

                if (!l) {
                        free(c.cp);
                        return -ENOMEM;
                }
                c.cp = l;
                memmove(c.cp + dev + 1, c.cp + dev, (c.n - dev) * sizeof(uint32_t));
                c.cp[dev] = '_';
                c.n++;
        }
        *ret = c;
        return 0;
}

#define JOLIET_EXTENSION_MAX 16

/* The sanitized name cut to 64 UTF-16 units with "~k" (k > 0) before its extension, as UTF-8
 * into buf (JOLIET_MAX_COMPONENT * 4 + 1 bytes at least). */
static void joliet_candidate(const CodePoints *c, unsigned k, char *buf) {
        uint32_t suffix[16];
        size_t dot = c->n, ext_units = 0, suffix_n = 0, budget, stem = 0, units = 0;
        char digits[12], *end;

        /* The last ".", if it starts a short extension after a non-empty stem. */
        for (size_t i = c->n; i > 1; i--)
                if (c->cp[i - 1] == '.') {
                        dot = i - 1;
                        break;
                }
        if (dot < c->n) {
                ext_units = utf16_units(c->cp + dot, c->n - dot);
                if (ext_units > JOLIET_EXTENSION_MAX) {
                        dot = c->n;
                        ext_units = 0;
                }
        }
        if (k > 0) {
                int len = snprintf(digits, sizeof digits, "~%u", k);

                for (int i = 0; i < len; i++)
                        suffix[suffix_n++] = (uint32_t) digits[i];
        }
        budget = JOLIET_MAX_COMPONENT - ext_units - suffix_n;
        while (stem < dot && units + (c->cp[stem] > 0xFFFF ? 2 : 1) <= budget)
                units += c->cp[stem++] > 0xFFFF ? 2 : 1;
        end = utf8_append(buf, c->cp, stem);
        /* A stem cut before a space or "." must not leave it trailing. */
        if (suffix_n == 0 && ext_units == 0)
                for (char *q = end; q > buf && IN_SET(q[-1], '.', ' '); q--)
                        q[-1] = '_';
        end = utf8_append(end, suffix, suffix_n);
        utf8_append(end, c->cp + dot, c->n - dot);
}

/* Windows' case-insensitive comparison, for the scripts most names are in: ASCII, Latin-1,
 * Greek and Cyrillic letters fold to upper case. Returns the folded name, malloc'ed. */
static char *windows_fold(const char *name) {
        CodePoints c;
        char *out;

        if (code_points_from_utf8(name, &c) < 0)
                return NULL;
        for (size_t i = 0; i < c.n; i++) {
                uint32_t *x = &c.cp[i];

                if ((*x >= 'a' && *x <= 'z') || (*x >= 0xE0 && *x <= 0xFE && *x != 0xF7) ||
                    (*x >= 0x3B1 && *x <= 0x3C9 && *x != 0x3C2) || (*x >= 0x430 && *x <= 0x44F))
                        *x -= 0x20;
                else if (*x >= 0x450 && *x <= 0x45F)
                        *x -= 0x50;
                else if (*x == 0xFF)
                        *x = 0x178;
        }
        out = malloc(c.n * 4 + 1);
        if (out)
                utf8_append(out, c.cp, c.n);
        free(c.cp);
        return out;
}

static int compare_names(const void *a, const void *b, void *userdata) {
        const char *const *names = userdata;
        size_t i = *(const size_t *) a, j = *(const size_t *) b;

        return strcmp(names[i], names[j]);
}

/* Takes name's folded form in taken; 1 if it was free, 0 if taken already. */
static int take_name(StrMap *taken, const char *name) {
        _cleanup_free_ char *key = windows_fold(name);
        int r;

        if (!key)
                return -ENOMEM;
        if (strmap_get(taken, key, NULL))
                return 0;
        r = strmap_put(taken, key, 0);
        return r < 0 ? r : 1;
}

int joliet_dir_adapt(const char *const *names, size_t n, char **ret_joliet) {
        _cleanup_free_ size_t *order = NULL;
        _cleanup_free_ bool *kept = NULL;
        StrMap taken, next_k;
        int r = 0;

        for (size_t i = 0; i < n; i++)
                ret_joliet[i] = NULL;
        order = malloc(MAX(n, (size_t) 1) * sizeof(size_t));
        kept = calloc(MAX(n, (size_t) 1), sizeof(bool));
        if (!order || !kept)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                order[i] = i;
        /* Byte order, so that the outcome depends on the names alone. */
        qsort_r(order, n, sizeof(size_t), compare_names, (void *) names);
        strmap_init(&taken);
        strmap_init(&next_k);

        /* Legal names first: they are kept unless one differing only in case came before. */
        for (size_t o = 0; o < n && r >= 0; o++) {
                size_t i = order[o];

                if (!joliet_component_is_windows_legal(names[i]))
                        continue;
                r = take_name(&taken, names[i]);
                kept[i] = r > 0;
        }
        for (size_t o = 0; o < n && r >= 0; o++) {
                char buf[JOLIET_MAX_COMPONENT * 4 + 1];
                _cleanup_free_ char *base_key = NULL;
                size_t i = order[o], k;
                CodePoints c;

                if (kept[i])
                        continue;
                r = windows_sanitize(names[i], &c);
                if (r < 0)
                        break;
                /* Where the last name of this base left off: a folder of 10,000 names that
                 * shorten alike does not try ~1 .. ~N for each. */
                joliet_candidate(&c, 0, buf);
                base_key = windows_fold(buf);
                if (!base_key) {
                        free(c.cp);
                        r = -ENOMEM;
                        break;
                }
                k = 0;
                (void) strmap_get(&next_k, base_key, &k);
                for (;; k++) {
                        if (k == 0 && utf16_units(c.cp, c.n) > JOLIET_MAX_COMPONENT)
                                continue; /* cut without a mark could read as the real name */
                        joliet_candidate(&c, (unsigned) k, buf);
                        r = take_name(&taken, buf);
                        if (r != 0)
                                break;
                }
                free(c.cp);
                if (r < 0)
                        break;
                r = strmap_put(&next_k, base_key, k + 1);
                if (r < 0)
                        break;
                ret_joliet[i] = strdup(buf);
                if (!ret_joliet[i])
                        r = -ENOMEM;
        }
        strmap_done(&taken);
        strmap_done(&next_k);
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        ret_joliet[i] = mfree(ret_joliet[i]);
                return r;
        }
        return 0;
}

void joliet_adaptations_free(JolietAdaptation *a, size_t n) {
        for (size_t i = 0; a && i < n; i++) {
                free(a[i].path);
                free(a[i].joliet_path);
        }
        free(a);
}

typedef struct TreeNode {
        char *path;
        size_t parent;          /* index, or SIZE_MAX for a child of the root */
        const char *name;       /* into path */
        char *joliet;           /* the adapted component, or NULL */
        char *joliet_path;
} TreeNode;

static int compare_tree_paths(const void *a, const void *b) {
        return strcmp(((const TreeNode *) a)->path, ((const TreeNode *) b)->path);
}

/* Siblings together, then by name. */
static int compare_siblings(const void *a, const void *b, void *userdata) {
        const TreeNode *nodes = userdata;
        const TreeNode *x = &nodes[*(const size_t *) a], *y = &nodes[*(const size_t *) b];

        if (x->parent != y->parent)
                return x->parent < y->parent ? -1 : 1;
        return strcmp(x->name, y->name);
}

static void tree_nodes_free(TreeNode *nodes, size_t n) {
        for (size_t i = 0; nodes && i < n; i++) {
                free(nodes[i].path);
                free(nodes[i].joliet);
                free(nodes[i].joliet_path);
        }
        free(nodes);
}

int joliet_tree_adapt(const char *const *paths, size_t n, JolietAdaptation **ret, size_t *ret_n) {
        TreeNode *nodes = NULL;
        _cleanup_free_ size_t *order = NULL;
        _cleanup_free_ const char **names = NULL;
        _cleanup_free_ char **joliet = NULL;
        JolietAdaptation *out = NULL;
        size_t n_nodes = 0, allocated = 0, n_out = 0;
        StrMap index;
        int r = 0;

        /* Every path and every folder above it, once. */
        strmap_init(&index);
        for (size_t i = 0; i < n && r >= 0; i++) {
                const char *p = paths[i] + (paths[i][0] == '/');

                for (const char *s = p;; s++) {
                        char *prefix;

                        if (*s != '/' && *s != '\0')
                                continue;
                        prefix = strndup(p, (size_t) (s - p));
                        if (!prefix) {
                                r = -ENOMEM;
                                break;
                        }
                        if (*prefix && !strmap_get(&index, prefix, NULL)) {
                                if (n_nodes == allocated) {
                                        TreeNode *l;

                                        allocated = allocated ? allocated * 2 : 64;
                                        l = realloc(nodes, allocated * sizeof(TreeNode));
                                        if (!l) {
                                                free(prefix);
                                                r = -ENOMEM;
                                                break;
                                        }
                                        nodes = l;
                                }
                                r = strmap_put(&index, prefix, n_nodes);
                                if (r < 0) {
                                        free(prefix);
                                        break;
                                }
                                nodes[n_nodes++] = (TreeNode) { .path = TAKE_PTR(prefix) };
                        }
                        free(prefix);
                        if (*s == '\0')
                                break;
                }
        }
        strmap_done(&index);
        if (r < 0)
                goto finish;

        /* In path order a folder comes before everything in it. */
        if (n_nodes > 0)
                qsort(nodes, n_nodes, sizeof(TreeNode), compare_tree_paths);
        strmap_init_borrowed(&index);
        for (size_t i = 0; i < n_nodes && r >= 0; i++) {
                char *slash = strrchr(nodes[i].path, '/');
                size_t parent = SIZE_MAX;

                if (slash) {
                        *slash = '\0';
                        (void) strmap_get(&index, nodes[i].path, &parent);
                        *slash = '/';
                }
                nodes[i].parent = parent;
                nodes[i].name = slash ? slash + 1 : nodes[i].path;
                r = strmap_put(&index, nodes[i].path, i);
        }
        strmap_done(&index);
        if (r < 0)
                goto finish;

        order = malloc(MAX(n_nodes, (size_t) 1) * sizeof(size_t));
        names = malloc(MAX(n_nodes, (size_t) 1) * sizeof(char *));
        joliet = malloc(MAX(n_nodes, (size_t) 1) * sizeof(char *));
        if (!order || !names || !joliet) {
                r = -ENOMEM;
                goto finish;
        }
        for (size_t i = 0; i < n_nodes; i++)
                order[i] = i;
        qsort_r(order, n_nodes, sizeof(size_t), compare_siblings, nodes);
        for (size_t start = 0, end; start < n_nodes && r >= 0; start = end) {
                for (end = start; end < n_nodes && nodes[order[end]].parent == nodes[order[start]].parent; end++)
                        names[end - start] = nodes[order[end]].name;
                r = joliet_dir_adapt(names, end - start, joliet);
                for (size_t j = start; r >= 0 && j < end; j++)
                        nodes[order[j]].joliet = joliet[j - start];
        }
        if (r < 0)
                goto finish;

        for (size_t i = 0; i < n_nodes && r >= 0; i++) {
                TreeNode *t = &nodes[i];
                const char *component = t->joliet ?: t->name;

                if (t->parent == SIZE_MAX)
                        t->joliet_path = strdup(component);
                else if (asprintf(&t->joliet_path, "%s/%s", nodes[t->parent].joliet_path, component) < 0)
                        t->joliet_path = NULL;
                if (!t->joliet_path)
                        r = -ENOMEM;
                n_out += t->joliet != NULL;
        }
        if (r < 0)
                goto finish;
        out = calloc(MAX(n_out, (size_t) 1), sizeof(JolietAdaptation));
        if (!out) {
                r = -ENOMEM;
                goto finish;
        }
        n_out = 0;
        for (size_t i = 0; i < n_nodes; i++)
                if (nodes[i].joliet)
                        out[n_out++] = (JolietAdaptation) { .path = TAKE_PTR(nodes[i].path),
                                                            .joliet_path = TAKE_PTR(nodes[i].joliet_path) };
        *ret = TAKE_PTR(out);
        *ret_n = n_out;
finish:
        tree_nodes_free(nodes, n_nodes);
        return r;
}
