/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzzes the order in which staged names go into the image (media/iso-build.c, included as it
 * is): add_entries() sorts the entries with compare_entries() and gives them falling sort
 * weights, so that file data is written in path order and, of two entries for one path, the
 * later one is added last and wins. The input is a list of paths (each a length byte and its
 * bytes, a leading "/" allowed). Invariants: the comparison is a total order (antisymmetric,
 * reflexive only on an entry itself, transitive on the sorted result); the sorted order is a
 * permutation of the entries, by byte order of the path without its leading "/", and entries of
 * one path keep the order they were staged in.
 */

#include <stdlib.h>
#include <string.h>

#include "media/iso-build.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ENTRIES 512

typedef struct Entries {
        char *paths[MAX_ENTRIES];
        size_t n;
} Entries;

static void get_entry(size_t i, IsoEntry *ret, void *userdata) {
        const Entries *e = userdata;

        *ret = (IsoEntry) { .image_path = e->paths[i] };
}

static const char *bare(const char *p) {
        return p + (p[0] == '/');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Entries e = {};
        IsoSource src = { .get = get_entry, .userdata = &e };
        size_t order[MAX_ENTRIES];
        bool seen[MAX_ENTRIES] = {};

        while (size > 0 && e.n < MAX_ENTRIES) {
                size_t len = MIN((size_t) data[0], size - 1);

                e.paths[e.n] = strndup((const char *) data + 1, len);
                if (!e.paths[e.n])
                        abort();
                e.n++;
                data += 1 + len;
                size -= 1 + len;
        }
        src.n = e.n;
        for (size_t i = 0; i < e.n; i++)
                order[i] = i;
        qsort_r(order, e.n, sizeof(size_t), compare_entries, &src);

        for (size_t i = 0; i < e.n; i++) {
                if (order[i] >= e.n || seen[order[i]])
                        abort();
                seen[order[i]] = true;
                if (compare_entries(&order[i], &order[i], &src) != 0)
                        abort();
                if (i == 0)
                        continue;
                /* Adjacent entries, which transitivity extends to every pair. */
                int c = strcmp(bare(e.paths[order[i - 1]]), bare(e.paths[order[i]]));

                if (c > 0 || (c == 0 && order[i - 1] > order[i]))
                        abort();
                if (compare_entries(&order[i - 1], &order[i], &src) >= 0 ||
                    compare_entries(&order[i], &order[i - 1], &src) <= 0)
                        abort();
        }
        for (size_t i = 0; i < e.n; i++)
                free(e.paths[i]);
        return 0;
}
