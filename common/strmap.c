/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Open addressing with tombstones; FNV-1a hashing. */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

static char tombstone_key;
#define TOMBSTONE (&tombstone_key)

static uint32_t hash(const char *s) {
        uint64_t h = 0xcbf29ce484222325ULL;

        for (; *s; s++) {
                h ^= (uint8_t) *s;
                h *= 0x100000001b3ULL;
        }
        return (uint32_t) (h ^ (h >> 32));
}

void strmap_init(StrMap *m) {
        *m = (StrMap) {};
}

void strmap_init_borrowed(StrMap *m) {
        *m = (StrMap) { .borrowed = true };
}

void strmap_done(StrMap *m) {
        bool borrowed = m->borrowed;

        for (size_t i = 0; i < m->size && !borrowed; i++)
                if (m->keys[i] && m->keys[i] != TOMBSTONE)
                        free(m->keys[i]);
        free(m->keys);
        free(m->values);
        free(m->hashes);
        *m = (StrMap) { .borrowed = borrowed };
}

/* The slot of key (hash h), or of the first free slot where it would go. */
static size_t find_slot(const StrMap *m, const char *key, uint32_t h, bool *ret_found) {
        size_t mask = m->size - 1, i = h & mask, first_free = SIZE_MAX;

        for (;; i = (i + 1) & mask) {
                char *k = m->keys[i];

                if (!k) {
                        *ret_found = false;
                        return first_free != SIZE_MAX ? first_free : i;
                }
                if (k == TOMBSTONE) {
                        if (first_free == SIZE_MAX)
                                first_free = i;
                } else if (m->hashes[i] == h && strcmp(k, key) == 0) {
                        *ret_found = true;
                        return i;
                }
        }
}

/* Moving an entry needs its stored hash only, not its key: growing a map of 100,000 names
 * then costs a few milliseconds instead of a pass over every string. */
static int resize(StrMap *m, size_t size) {
        StrMap n = { .size = size, .borrowed = m->borrowed };

        n.keys = calloc(size, sizeof(char *));
        n.values = calloc(size, sizeof(size_t));
        n.hashes = calloc(size, sizeof(uint32_t));
        if (!n.keys || !n.values || !n.hashes) {
                free(n.keys);
                free(n.values);
                free(n.hashes);
                return -ENOMEM;
        }
        for (size_t i = 0; i < m->size; i++) {
                size_t j;

                if (!m->keys[i] || m->keys[i] == TOMBSTONE)
                        continue;
                for (j = m->hashes[i] & (size - 1); n.keys[j]; j = (j + 1) & (size - 1))
                        ;
                n.keys[j] = m->keys[i];
                n.values[j] = m->values[i];
                n.hashes[j] = m->hashes[i];
                n.n++;
        }
        free(m->keys);
        free(m->values);
        free(m->hashes);
        *m = n;
        return 0;
}

bool strmap_get(const StrMap *m, const char *key, size_t *ret_value) {
        bool found;
        size_t i;

        if (m->n == 0)
                return false;
        i = find_slot(m, key, hash(key), &found);
        if (found && ret_value)
                *ret_value = m->values[i];
        return found;
}

int strmap_put(StrMap *m, const char *key, size_t value) {
        uint32_t h = hash(key);
        bool found;
        size_t i;

        /* Keep the load (live + tombstones) under 3/4. */
        if ((m->n + m->tombstones + 1) * 4 >= m->size * 3) {
                int r = resize(m, m->size == 0 ? 64 : (m->n + 1) * 4 >= m->size * 2 ? m->size * 2 : m->size);
                if (r < 0)
                        return r;
                m->tombstones = 0;
        }
        i = find_slot(m, key, h, &found);
        if (found) {
                m->values[i] = value;
                return 0;
        }
        if (m->keys[i] == TOMBSTONE)
                m->tombstones--;
        m->keys[i] = m->borrowed ? (char *) key : strdup(key);
        if (!m->keys[i])
                return -ENOMEM;
        m->values[i] = value;
        m->hashes[i] = h;
        m->n++;
        return 0;
}

bool strmap_remove(StrMap *m, const char *key) {
        bool found;
        size_t i;

        if (m->n == 0)
                return false;
        i = find_slot(m, key, hash(key), &found);
        if (!found)
                return false;
        if (!m->borrowed)
                free(m->keys[i]);
        m->keys[i] = TOMBSTONE;
        m->n--;
        m->tombstones++;
        return true;
}
