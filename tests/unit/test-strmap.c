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
        CHECK(m.n == 0 && m.table.size == 0 && m.old.size == 0, "done empties the map");
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
        CHECK(all && m.n == N, "%d keys put (the map grew to %zu slots)", N, m.table.size);
        CHECK((m.table.n + m.table.tombstones) * 4 < m.table.size * 3, "the load stays under 3/4");
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
        CHECK((m.table.n + m.table.tombstones) * 4 < m.table.size * 3, "tombstones count towards the load");
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

/* Growth is spread over the changes: no put moves more than a few entries, and a table is
 * never replaced while the one before it is still being emptied. */
static void test_growth_is_incremental(void) {
        char key[64];
        StrMap m;
        size_t most_moved = 0, growths = 0, overlapping = 0;
        bool seen_both = false;

        strmap_init(&m);
        for (size_t i = 0; i < N; i++) {
                StrMapSlot *slots = m.table.slots;
                size_t before = m.table.n;
                bool busy = m.old.size > 0;

                name(key, sizeof key, i);
                if (strmap_put(&m, key, i) < 0)
                        break;
                if (m.table.slots != slots) {
                        growths++;
                        if (busy)
                                overlapping++;
                        before = 0;
                }
                most_moved = m.table.n - before > most_moved ? m.table.n - before : most_moved;
                if (m.old.size > 0 && m.old.n > 0 && m.table.n > 0)
                        seen_both = true;
        }
        CHECK(m.n == N && growths >= 10, "%d keys put in %zu growths", N, growths);
        CHECK(seen_both, "entries live in the old and the new table for a while");
        CHECK(overlapping == 0, "no growth starts before the one before it has ended");
        CHECK(most_moved <= 16, "one put moved at most %zu entries into the table", most_moved);
        strmap_done(&m);
}

/* Random puts, replacements and removals of a bounded set of keys against a plain array,
 * so that the map grows, fills with tombstones and sweeps them, many times over; every key is
 * checked at the end of each round. */
#define REF_KEYS 20000

static void test_against_reference(void) {
        static size_t ref[REF_KEYS]; /* value + 1, or 0 when absent */
        uint64_t rng = 0x9e3779b97f4a7c15ULL;
        size_t live = 0, wrong = 0, mismatched_counts = 0;
        char key[64];
        StrMap m;

        strmap_init(&m);
        for (size_t round = 0; round < 20; round++) {
                /* Rounds alternate between mostly adding and mostly removing. */
                unsigned put_per_16 = round % 2 == 0 ? 12 : 4;

                for (size_t op = 0; op < 50000; op++) {
                        size_t k, v;

                        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
                        k = (rng >> 8) % REF_KEYS;
                        name(key, sizeof key, k);
                        if ((rng & 15) < put_per_16) {
                                v = (size_t) (rng >> 40);
                                if (strmap_put(&m, key, v) < 0)
                                        wrong++;
                                live += ref[k] == 0;
                                ref[k] = v + 1;
                        } else {
                                if (strmap_remove(&m, key) != (ref[k] != 0))
                                        wrong++;
                                live -= ref[k] != 0;
                                ref[k] = 0;
                        }
                        if (m.n != live)
                                mismatched_counts++;
                }
                for (size_t k = 0; k < REF_KEYS; k++) {
                        size_t v = SIZE_MAX;
                        bool found;

                        name(key, sizeof key, k);
                        found = strmap_get(&m, key, &v);
                        if (found != (ref[k] != 0) || (found && v + 1 != ref[k]))
                                wrong++;
                }
        }
        CHECK(wrong == 0, "1,000,000 random changes of %d keys agree with a plain array (%zu wrong)",
              REF_KEYS, wrong);
        CHECK(mismatched_counts == 0, "the count of entries is right after every change");
        CHECK((m.table.n + m.table.tombstones) * 4 < m.table.size * 3, "the load stays under 3/4");
        strmap_done(&m);
}

int main(void) {
        test_basic();
        test_borrowed();
        test_many();
        test_growth_is_incremental();
        test_against_reference();
        return tap_done();
}
