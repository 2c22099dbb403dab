/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The IMAPI_E_BADJOLIETNAME rules, each at its boundary. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jolietname.h"
#include "macro.h"
#include "tap.h"

/* n copies of s, concatenated (s may be a multi-byte character). */
static char *repeat(const char *s, size_t n) {
        size_t l = strlen(s);
        char *r = malloc(l * n + 1);

        for (size_t i = 0; i < n; i++)
                memcpy(r + i * l, s, l);
        r[l * n] = '\0';
        return r;
}

static JolietNameError check(const char *path) {
        return joliet_name_check(path, NULL, NULL);
}

/* A path of `levels` components "d1/d2/.../file". */
static char *deep_path(unsigned levels) {
        char *r = strdup("");

        for (unsigned i = 1; i <= levels; i++) {
                char *n;

                if (asprintf(&n, "%s%s%s%u", r, i > 1 ? "/" : "", i == levels ? "file" : "d", i) < 0)
                        abort();
                free(r);
                r = n;
        }
        return r;
}

static void test_basic(void) {
        _cleanup_free_ char *n = NULL;
        unsigned depth = 0;

        CHECK(joliet_name_check("photos/2024/img 01.jpg", &n, &depth) == JOLIET_NAME_OK &&
              streq(n, "photos/2024/img 01.jpg") && depth == 3, "a plain path: normalized as is, depth 3");
        free(n);
        n = NULL;
        CHECK(joliet_name_check("/readme.txt", &n, &depth) == JOLIET_NAME_OK && streq(n, "readme.txt") &&
              depth == 1, "a leading / is dropped; a file in the root has depth 1");
        CHECK(check(NULL) == JOLIET_NAME_EMPTY, "NULL is empty");
        CHECK(check("") == JOLIET_NAME_EMPTY, "\"\" is empty");
        CHECK(check("/") == JOLIET_NAME_EMPTY, "\"/\" is empty");
        CHECK(check("//a") == JOLIET_NAME_EMPTY_COMPONENT, "only one leading / is ignored");
        CHECK(check("a//b") == JOLIET_NAME_EMPTY_COMPONENT, "a//b");
        CHECK(check("a/b/") == JOLIET_NAME_EMPTY_COMPONENT, "trailing /");
        CHECK(check(".") == JOLIET_NAME_DOT_COMPONENT, ".");
        CHECK(check("a/../b") == JOLIET_NAME_DOT_COMPONENT, "..");
        CHECK(check("a/./b") == JOLIET_NAME_DOT_COMPONENT, "./ inside");
        CHECK(check("...") == JOLIET_NAME_OK && check(".hidden") == JOLIET_NAME_OK &&
              check("a..b/..c") == JOLIET_NAME_OK, "dots that are not . or .. are names");
}

static void test_characters(void) {
        static const char forbidden[] = { '*', ':', ';', '?', '\\' };
        char buf[8];
        unsigned ok = 0;

        for (size_t i = 0; i < ELEMENTSOF(forbidden); i++) {
                snprintf(buf, sizeof buf, "a%cb", forbidden[i]);
                CHECK(check(buf) == JOLIET_NAME_BAD_CHARACTER, "'%c' is refused", forbidden[i]);
        }
        for (int c = 1; c < 0x20; c++) {
                snprintf(buf, sizeof buf, "d/a%cb", c);
                if (check(buf) == JOLIET_NAME_BAD_CHARACTER)
                        ok++;
        }
        CHECK(ok == 0x1F, "every control character U+0001..U+001F is refused (%u of 31)", ok);
        CHECK(check("a b!\"#$%&'()+,-.=@[]^_`{|}~<>") == JOLIET_NAME_OK,
              "other ASCII punctuation is fine");
        {
                /* What a name must not hide, and its harmless neighbours. */
                static const struct {
                        const char *name, *what;
                        bool refused;
                } hidden[] = {
                        { "a\x7f", "DEL", true },
                        { "\xC2\x80", "U+0080 (C1)", true },
                        { "a\xC2\x85" "b", "U+0085 (C1)", true },
                        { "\xC2\x9F", "U+009F (C1)", true },
                        { "\xC2\xA0", "U+00A0", false },
                        { "\xE2\x80\xAA", "U+202A (embedding)", true },
                        { "photo\xE2\x80\xAEgpj.exe", "U+202E (override)", true },
                        { "\xE2\x80\xA9", "U+2029", false },
                        { "\xE2\x81\xA6", "U+2066 (isolate)", true },
                        { "\xE2\x81\xA9", "U+2069 (isolate)", true },
                        { "\xE2\x81\xAA", "U+206A", false },
                        { "\xEF\xB7\x90", "U+FDD0 (noncharacter)", true },
                        { "\xEF\xBF\xBE", "U+FFFE (noncharacter)", true },
                        { "\xEF\xBF\xBF", "U+FFFF (noncharacter)", true },
                        { "\xF0\x9F\xBF\xBE", "U+1FFFE (noncharacter)", true },
                        { "\xF4\x8F\xBF\xBF", "U+10FFFF (noncharacter)", true },
                };
                for (size_t i = 0; i < ELEMENTSOF(hidden); i++)
                        CHECK((check(hidden[i].name) == JOLIET_NAME_BAD_CHARACTER) == hidden[i].refused,
                              "%s is %s", hidden[i].what, hidden[i].refused ? "refused" : "fine");
        }

        CHECK(check("照片/二〇二四年/长城.jpg") == JOLIET_NAME_OK, "Chinese");
        CHECK(check("Φωτογραφίες/Ακρόπολη.png") == JOLIET_NAME_OK, "Greek");
        CHECK(check("party \xF0\x9F\x8E\x89/\xF0\x9F\x98\x80.txt") == JOLIET_NAME_OK,
              "emoji (beyond U+FFFF)");
        CHECK(check("\xF4\x8F\xBF\xBD") == JOLIET_NAME_OK, "U+10FFFD, the last character");
        CHECK(check("\xEF\xBF\xBD") == JOLIET_NAME_OK, "U+FFFD");
}

static void test_utf8(void) {
        CHECK(check("a\xC0\xAF" "b") == JOLIET_NAME_BAD_UTF8, "overlong / (C0 AF)");
        CHECK(check("a\xC0\x80" "b") == JOLIET_NAME_BAD_UTF8, "overlong NUL (C0 80)");
        CHECK(check("\xC1\xBF") == JOLIET_NAME_BAD_UTF8, "overlong 2-byte (C1 BF)");
        CHECK(check("\xE0\x80\xAF") == JOLIET_NAME_BAD_UTF8, "overlong 3-byte /");
        CHECK(check("\xE0\x9F\xBF") == JOLIET_NAME_BAD_UTF8, "overlong 3-byte U+07FF");
        CHECK(check("\xF0\x80\x80\xAF") == JOLIET_NAME_BAD_UTF8, "overlong 4-byte /");
        CHECK(check("\xF0\x8F\xBF\xBF") == JOLIET_NAME_BAD_UTF8, "overlong 4-byte U+FFFF");
        CHECK(check("\xED\xA0\x80") == JOLIET_NAME_BAD_UTF8, "high surrogate U+D800 in UTF-8");
        CHECK(check("\xED\xBF\xBF") == JOLIET_NAME_BAD_UTF8, "low surrogate U+DFFF in UTF-8");
        CHECK(check("\xED\xA0\xBD\xED\xB8\x80") == JOLIET_NAME_BAD_UTF8, "a CESU-8 surrogate pair");
        CHECK(check("\xED\x9F\xBF") == JOLIET_NAME_OK, "U+D7FF, just below the surrogates");
        CHECK(check("\xF4\x90\x80\x80") == JOLIET_NAME_BAD_UTF8, "U+110000");
        CHECK(check("\xF5\x80\x80\x80") == JOLIET_NAME_BAD_UTF8, "lead byte F5");
        CHECK(check("\xFF") == JOLIET_NAME_BAD_UTF8, "FF");
        CHECK(check("a\x80") == JOLIET_NAME_BAD_UTF8, "stray continuation byte");
        CHECK(check("a\xC3") == JOLIET_NAME_BAD_UTF8, "truncated 2-byte sequence at the end");
        CHECK(check("\xE6\x97/x") == JOLIET_NAME_BAD_UTF8, "truncated 3-byte sequence before /");
        CHECK(check("\xF0\x9F\x98") == JOLIET_NAME_BAD_UTF8, "truncated 4-byte sequence");
        CHECK(check("x/\xC3") == JOLIET_NAME_BAD_UTF8, "bad UTF-8 wins over a later rule");
}

static void test_component_length(void) {
        _cleanup_free_ char *a64 = repeat("a", 64), *a65 = repeat("a", 65), *zh64 = repeat("长", 64),
                            *zh65 = repeat("长", 65), *emoji32 = repeat("\xF0\x9F\x98\x80", 32),
                            *emoji33 = repeat("\xF0\x9F\x98\x80", 33), *mixed = NULL, *nested = NULL;

        CHECK(check(a64) == JOLIET_NAME_OK, "64 ASCII characters");
        CHECK(check(a65) == JOLIET_NAME_COMPONENT_TOO_LONG, "65 ASCII characters");
        CHECK(check(zh64) == JOLIET_NAME_OK, "64 Chinese characters (192 bytes of UTF-8)");
        CHECK(check(zh65) == JOLIET_NAME_COMPONENT_TOO_LONG, "65 Chinese characters");
        CHECK(check(emoji32) == JOLIET_NAME_OK, "32 emoji = 64 UTF-16 units");
        CHECK(check(emoji33) == JOLIET_NAME_COMPONENT_TOO_LONG, "33 emoji = 66 UTF-16 units");

        /* 63 units + one emoji = 65 units: the surrogate pair counts 2. */
        if (asprintf(&mixed, "%.63s\xF0\x9F\x98\x80", a64) < 0)
                abort();
        CHECK(check(mixed) == JOLIET_NAME_COMPONENT_TOO_LONG, "63 ASCII + 1 emoji = 65 units");
        if (asprintf(&nested, "dir/%s/x", a65) < 0)
                abort();
        CHECK(check(nested) == JOLIET_NAME_COMPONENT_TOO_LONG, "a long directory component");
}

static void test_path_length(void) {
        /* 3 components of 64 + 1 of 45, with 3 separators: 192 + 45 + 3 = 240. */
        _cleanup_free_ char *a64 = repeat("a", 64), *p240 = NULL, *p241 = NULL, *e240 = NULL,
                            *e241 = NULL, *em = repeat("\xF0\x9F\x98\x80", 22);
        unsigned depth = 0;

        if (asprintf(&p240, "%s/%s/%s/%.45s", a64, a64, a64, a64) < 0 ||
            asprintf(&p241, "%s/%s/%s/%.46s", a64, a64, a64, a64) < 0)
                abort();
        CHECK(strlen(p240) == 240 && joliet_name_check(p240, NULL, &depth) == JOLIET_NAME_OK && depth == 4,
              "a path of 240 units");
        CHECK(check(p241) == JOLIET_NAME_PATH_TOO_LONG, "a path of 241 units");

        /* Emoji count 2 each: 5 components of 22 emoji (44 units) + 4 separators = 224,
         * then "/" + 15 or 16 ASCII = 240 or 241. */
        if (asprintf(&e240, "%s/%s/%s/%s/%s/%.15s", em, em, em, em, em, a64) < 0 ||
            asprintf(&e241, "%s/%s/%s/%s/%s/%.16s", em, em, em, em, em, a64) < 0)
                abort();
        CHECK(check(e240) == JOLIET_NAME_OK, "240 units with surrogate pairs");
        CHECK(check(e241) == JOLIET_NAME_PATH_TOO_LONG, "241 units with surrogate pairs");

        CHECK(check("/") == JOLIET_NAME_EMPTY, "(the leading / does not count)");
        {
                _cleanup_free_ char *slash = NULL;

                if (asprintf(&slash, "/%s", p240) < 0)
                        abort();
                CHECK(check(slash) == JOLIET_NAME_OK, "a leading / on a 240-unit path is not counted");
        }
}

static void test_depth(void) {
        _cleanup_free_ char *p8 = deep_path(8), *p9 = deep_path(9), *n = NULL;
        unsigned depth = 0;

        CHECK(joliet_name_check(p8, &n, &depth) == JOLIET_NAME_OK && depth == 8 &&
              streq(n, "d1/d2/d3/d4/d5/d6/d7/file8"), "depth 8: %s", p8);
        CHECK(check(p9) == JOLIET_NAME_TOO_DEEP, "depth 9: %s", p9);
}

static void test_outputs(void) {
        char *n = (char *) "untouched";
        unsigned depth = 42;

        CHECK(joliet_name_check("a//b", &n, &depth) != JOLIET_NAME_OK && streq(n, "untouched") &&
              depth == 42,
              "outputs untouched on failure");
        for (int e = JOLIET_NAME_OK; e <= JOLIET_NAME_PATH_TOO_LONG_FOR_DISC; e++)
                CHECK(joliet_name_error_to_string(e) && *joliet_name_error_to_string(e),
                      "error %d has a sentence: %s", e, joliet_name_error_to_string(e));
        CHECK(strstr(joliet_name_error_to_string(JOLIET_NAME_COMPONENT_TOO_LONG), "64"),
              "the component rule names its limit");
}

/* The Joliet name one folder gives `name` among `others` (NULL-terminated), or name if kept. */
static char *adapt_in(const char *name, const char *const *others) {
        const char *names[16] = { name };
        char *joliet[16];
        size_t n = 1;
        char *r;

        for (; others && others[n - 1]; n++)
                names[n] = others[n - 1];
        if (joliet_dir_adapt(names, n, joliet) < 0)
                abort();
        r = strdup(joliet[0] ?: name);
        for (size_t i = 0; i < n; i++)
                free(joliet[i]);
        return r;
}

static bool adapted_is(const char *name, const char *const *others, const char *expected) {
        _cleanup_free_ char *a = adapt_in(name, others);
        bool ok = streq(a, expected);

        if (!ok)
                printf("# \"%s\" became \"%s\", not \"%s\"\n", name, a, expected);
        return ok;
}

static void test_disc_names(void) {
        _cleanup_free_ char *c255 = repeat("x", 255), *c256 = repeat("x", 256), *deep = deep_path(40),
                            *e85 = repeat("\xC3\xA9", 128), *long_path = NULL;
        unsigned depth = 0;

        CHECK(disc_name_check("what?.txt", NULL, NULL) == JOLIET_NAME_OK, "Rock Ridge holds '?'");
        CHECK(disc_name_check("a\"<>|*:;\\b", NULL, NULL) == JOLIET_NAME_OK, "and \" < > | * : ; \\");
        CHECK(disc_name_check(c255, NULL, NULL) == JOLIET_NAME_OK, "a component of 255 bytes");
        CHECK(disc_name_check(c256, NULL, NULL) == JOLIET_NAME_COMPONENT_TOO_LONG_FOR_DISC,
              "one of 256 bytes is refused");
        CHECK(disc_name_check(e85, NULL, NULL) == JOLIET_NAME_COMPONENT_TOO_LONG_FOR_DISC,
              "bytes count, not characters (128 x U+00E9)");
        CHECK(disc_name_check(deep, NULL, &depth) == JOLIET_NAME_OK && depth == 40, "40 levels");
        CHECK(disc_name_check("a/../b", NULL, NULL) == JOLIET_NAME_DOT_COMPONENT, "'..' is refused");
        CHECK(disc_name_check("a//b", NULL, NULL) == JOLIET_NAME_EMPTY_COMPONENT, "'//' is refused");
        CHECK(disc_name_check("", NULL, NULL) == JOLIET_NAME_EMPTY, "empty is refused");
        CHECK(disc_name_check("\xC0\xAF", NULL, NULL) == JOLIET_NAME_BAD_UTF8, "overlong '/' is refused");
        long_path = strdup(c255);
        while (strlen(long_path) <= DISC_MAX_PATH_BYTES) {
                char *n;

                if (asprintf(&n, "%s/%s", long_path, c255) < 0)
                        abort();
                free(long_path);
                long_path = n;
        }
        CHECK(disc_name_check(long_path, NULL, NULL) == JOLIET_NAME_PATH_TOO_LONG_FOR_DISC,
              "a path over 4000 bytes is refused");
}

static void test_adapt(void) {
        _cleanup_free_ char *l120 = repeat("L", 116), *l64 = repeat("k", 64), *emoji = repeat("\xF0\x9F\x98\x80", 40);
        _cleanup_free_ char *l120txt = NULL, *expect = NULL, *a = NULL;
        const char *twins[] = { "Readme", NULL }, *twins2[] = { "README", NULL };

        CHECK(adapted_is("plain name.txt", NULL, "plain name.txt"), "a legal name is kept");
        CHECK(adapted_is(l64, NULL, l64), "64 characters are kept");
        CHECK(adapted_is("what?.txt", NULL, "what_.txt"), "'?' becomes '_'");
        CHECK(adapted_is("?:*;\\\"<>|", NULL, "_________"), "every forbidden character becomes '_'");
        CHECK(adapted_is("tab\there", NULL, "tab_here"), "a control becomes '_'");
        CHECK(adapted_is("ends with dot.", NULL, "ends with dot_"), "a trailing '.' becomes '_'");
        CHECK(adapted_is("ends with space ", NULL, "ends with space_"), "a trailing space too");
        CHECK(adapted_is("con.txt", NULL, "con_.txt"), "a device name gets '_'");
        CHECK(adapted_is("LPT1", NULL, "LPT1_"), "LPT1 too");
        CHECK(adapted_is("console.txt", NULL, "console.txt"), "a longer name is no device");
        CHECK(adapted_is("Readme", twins2, "Readme~1"), "of two names differing in case, the second in byte "
              "order is marked");
        CHECK(adapted_is("README", twins, "README"), "and the first kept");
        CHECK(adapted_is("\xC3\xA9t\xC3\xA9", (const char *[]) { "\xC3\x89T\xC3\x89", NULL }, "\xC3\xA9t\xC3\xA9~1"),
              "case folds beyond ASCII (\xC3\xA9t\xC3\xA9 and \xC3\x89T\xC3\x89)");

        if (asprintf(&l120txt, "%s.txt", l120) < 0 || asprintf(&expect, "%.58s~1.txt", l120) < 0)
                abort();
        CHECK(adapted_is(l120txt, NULL, expect), "120 characters: cut to 64 with ~1 before the extension");
        a = adapt_in(emoji, NULL);
        CHECK(joliet_component_is_windows_legal(a) && strlen(a) == 31 * 4 + 2 && streq(a + 31 * 4, "~1"),
              "characters beyond U+FFFF count twice and are never split (%s)", a);

        /* Two names that are alike once shortened. */
        {
                _cleanup_free_ char *x = NULL, *y = NULL, *ax = NULL, *ay = NULL;

                if (asprintf(&x, "%s-first.txt", l120) < 0 || asprintf(&y, "%s-second.txt", l120) < 0)
                        abort();
                ax = adapt_in(x, (const char *[]) { y, NULL });
                ay = adapt_in(y, (const char *[]) { x, NULL });
                CHECK(!streq(ax, ay) && strstr(ax, "~1.txt") && strstr(ay, "~2.txt"),
                      "names alike once cut get ~1 and ~2 (%s, %s)", ax, ay);
        }
        /* A legal name that an adapted one would become stays with its owner. */
        CHECK(adapted_is("a?", (const char *[]) { "a_", NULL }, "a_~1"), "an adapted name never takes a kept one");
        CHECK(adapted_is("a_", (const char *[]) { "a?", NULL }, "a_"), "which is kept");
}

static void test_tree(void) {
        const char *paths[] = { "top/what?/x.txt", "top/what?/y.txt", "top/ok.txt", "README", "readme" };
        JolietAdaptation *a = NULL;
        size_t n = 0;

        CHECK(joliet_tree_adapt(paths, ELEMENTSOF(paths), &a, &n) == 0 && n == 2, "two adaptations (%zu)", n);
        CHECK(n == 2 && streq(a[0].path, "readme") && streq(a[0].joliet_path, "readme~1"),
              "the second of README and readme");
        CHECK(n == 2 && streq(a[1].path, "top/what?") && streq(a[1].joliet_path, "top/what_"),
              "a folder is listed once, not its files");
        joliet_adaptations_free(a, n);
}

int main(void) {
        test_basic();
        test_disc_names();
        test_adapt();
        test_tree();
        test_characters();
        test_utf8();
        test_component_length();
        test_path_length();
        test_depth();
        test_outputs();
        return tap_done();
}
