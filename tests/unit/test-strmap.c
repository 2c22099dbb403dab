/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The string map behind the staged names: insert, replace, remove, growth, reuse of slots. */

#include <stdio.h>
#include <string.h>

#include "strmap.h"
#include "tap.h"

#define N 100000

static void name(char *buf, size_t size, size_t i) {
        snprintf(buf, size, "dir%04zu/file-%06zu.bin", i / 100, i);
}

static void test_basic(void) {
        StrMap m;
        size_t v = 0;

        strmap_init(&m);
        CHECK(!strmap_get(&m, "a", &v), "an empty map has nothing");
        CHECK(!strmap_remove(&m, "a"), "removing from an empty map finds nothing");
        CHECK(strmap_put(&m, "a", 1) == 0 && strmap_get(&m, "a", &v) && v == 1, "a -> 1");
        CHECK(strmap_put(&m, "a", 2) == 0 && strmap_get(&m, "a", &v) && v == 2 && m.n == 1, "a replaced by 2");
        CHECK(strmap_put(&m, "", 3) == 0 && strmap_get(&m, "", &v) && v == 3, "the empty string is a key");
        CHECK(!strmap_get(&m, "A", NULL), "keys are case-sensitive");
        CHECK(strmap_remove(&m, "a") && !strmap_get(&m, "a", NULL) && m.n == 1, "a removed");
        CHECK(strmap_get(&m, "", &v) && v == 3, "the other key stays");
        strmap_done(&m);
        CHECK(m.n == 0 && m.size == 0, "done empties the map");
}

static void test_many(void) {
        char key[64];
        StrMap m;
        bool all = true;

        strmap_init(&m);
        for (size_t i = 0; i < N; i++) {
                name(key, sizeof key, i);
                if (strmap_put(&m, key, i) < 0)
                        all = false;
        }
        CHECK(all && m.n == N, "%d keys put (the map grew to %zu slots)", N, m.size);
        CHECK(m.n * 4 < m.size * 3, "the load stays under 3/4");
        for (size_t i = 0; i < N; i++) {
                size_t v = SIZE_MAX;

                name(key, sizeof key, i);
                if (!strmap_get(&m, key, &v) || v != i)
                        all = false;
        }
        CHECK(all, "every key is found with its value after growing");
        CHECK(!strmap_get(&m, "dir0000/file-100000.bin", NULL), "a key never put is not found");

        /* Remove every other key, then put them back: tombstones are reused or swept. */
        for (size_t i = 0; i < N; i += 2) {
                name(key, sizeof key, i);
                if (!strmap_remove(&m, key))
                        all = false;
        }
        CHECK(all && m.n == N / 2, "half removed");
        for (size_t i = 0; i < N; i++) {
                name(key, sizeof key, i);
                if (strmap_get(&m, key, NULL) != (i % 2 == 1))
                        all = false;
        }
        CHECK(all, "exactly the removed keys are gone");
        for (size_t i = 0; i < N; i += 2) {
                name(key, sizeof key, i);
                if (strmap_put(&m, key, i + 1) < 0)
                        all = false;
        }
        for (size_t i = 0; i < N; i++) {
                size_t v = SIZE_MAX;

                name(key, sizeof key, i);
                if (!strmap_get(&m, key, &v) || v != (i % 2 == 0 ? i + 1 : i))
                        all = false;
        }
        CHECK(all && m.n == N, "put back with new values, all found");
        CHECK((m.n + m.tombstones) * 4 < m.size * 3, "tombstones count towards the load");
        strmap_done(&m);
}

static void test_borrowed(void) {
        char a[] = "docs/a.txt", b[] = "docs/b.txt";
        StrMap m;
        size_t v = 0;

        strmap_init_borrowed(&m);
        CHECK(strmap_put(&m, a, 1) == 0 && strmap_put(&m, b, 2) == 0, "two borrowed keys put");
        CHECK(strmap_get(&m, "docs/a.txt", &v) && v == 1, "found by an equal string");
        CHECK(strmap_put(&m, "docs/a.txt", 3) == 0 && strmap_get(&m, a, &v) && v == 3 && m.n == 2,
              "an equal key replaces the value, not the key");
        CHECK(strmap_remove(&m, b) && !strmap_get(&m, "docs/b.txt", NULL), "a borrowed key removed");
        strmap_done(&m);
        CHECK(strcmp(a, "docs/a.txt") == 0 && strcmp(b, "docs/b.txt") == 0 && m.borrowed,
              "the keys are the caller's still, and the map stays a borrowing one");
}

int main(void) {
        test_basic();
        test_borrowed();
        test_many();
        return tap_done();
}
