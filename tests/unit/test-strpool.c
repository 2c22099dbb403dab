/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pool that holds the staged names: copies stay intact across many chunks, long strings. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strpool.h"
#include "tap.h"

#define N 100000

static void name(char *buf, size_t size, size_t i) {
        snprintf(buf, size, "p%03zu/q%02zu/f%06zu.dat", i / 10000, (i / 100) % 100, i);
}

int main(void) {
        const char **copies = calloc(N, sizeof(char *));
        char key[64], *long_name;
        const char *a, *b, *l;
        bool all = true;
        StrPool p;

        strpool_init(&p);
        a = strpool_add(&p, "docs/a.txt");
        b = strpool_add(&p, "");
        CHECK(a && strcmp(a, "docs/a.txt") == 0 && b && *b == 0, "a string and the empty string are copied");
        CHECK(a != b && b == a + strlen(a) + 1, "copies follow each other in a chunk");

        for (size_t i = 0; i < N && copies; i++) {
                name(key, sizeof key, i);
                copies[i] = strpool_add(&p, key);
        }
        for (size_t i = 0; i < N && copies; i++) {
                name(key, sizeof key, i);
                if (!copies[i] || strcmp(copies[i], key) != 0)
                        all = false;
        }
        CHECK(copies && all, "%d names over many chunks all read back unchanged", N);
        CHECK(strcmp(a, "docs/a.txt") == 0, "and the first copy is still intact");

        /* Longer than a chunk. */
        long_name = malloc(200 * 1024 + 1);
        if (!long_name)
                abort();
        memset(long_name, 'x', 200 * 1024);
        long_name[200 * 1024] = 0;
        l = strpool_add(&p, long_name);
        CHECK(l && strlen(l) == 200 * 1024 && strcmp(l, long_name) == 0, "a string longer than a chunk is copied");
        CHECK(strpool_add(&p, "after") && strcmp(copies[N - 1], "p009/q99/f099999.dat") == 0,
              "and the pool goes on after it");

        strpool_done(&p);
        CHECK(!p.chunks && p.left == 0, "done empties the pool");
        free(long_name);
        free(copies);
        return tap_done();
}
