/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Open addressing with tombstones; FNV-1a hashing.
 *
 * Growing is incremental: when the table gets too full, a new one is allocated and the old
 * one is kept; every later put or remove moves the next STEP slots of the old table into the
 * new one, and lookups search both until the old one is empty. Moving all 100,000 staged names
 * at once held the event loop for over 10 ms; STEP slots per change bound each call instead.
 * A moved slot of the old table becomes a tombstone there, so that the probe chains of the
 * entries not yet moved stay intact.
 *
 * Tables of TABLE_MAP_BYTES or more are mapped on their own rather than taken from malloc.
 * After a burn malloc holds large free chunks of the heap (libisofs' tree was in them), and it
 * served the next 6 MiB table of 131,072 slots from one of them rather than mapping it: calloc()
 * then cleared it all at once, 2.2 to 2.7 ms of the event loop in the AddData batch that grew
 * the index past 98,304 names. A mapping of its own is cleared page by page as the moves touch
 * it, and freeing it gives it back to the system at once, with no malloc_trim(). */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "strmap.h"

static char tombstone_key;
#define TOMBSTONE (&tombstone_key)

/* Slots of the old table moved per change. The new table starts at most half full (live
 * entries under 3/4 of the old size, in twice the slots; or the live half of a table swept of
 * tombstones), so the old one is empty after size/STEP changes, long before the new one is
 * 3/4 full: at most 1/2 + 1/STEP of it. */
#define STEP 8

#define TABLE_MAP_BYTES (256U * 1024U)

static StrMapSlot *slots_new(size_t size) {
        size_t bytes = size * sizeof(StrMapSlot);
        void *p;

        if (bytes < TABLE_MAP_BYTES)
                return calloc(size, sizeof(StrMapSlot));
        p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return p == MAP_FAILED ? NULL : p;
}

static void slots_free(StrMapSlot *slots, size_t size) {
        size_t bytes = size * sizeof(StrMapSlot);

        if (bytes < TABLE_MAP_BYTES)
                free(slots);
        else
                (void) munmap(slots, bytes);
}

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

static void table_free(StrMapTable *t, bool free_keys) {
        for (size_t i = 0; i < t->size && free_keys; i++)
                if (t->slots[i].key && t->slots[i].key != TOMBSTONE)
                        free(t->slots[i].key);
        if (t->slots)
                slots_free(t->slots, t->size);
        *t = (StrMapTable) {};
}

void strmap_done(StrMap *m) {
        bool borrowed = m->borrowed;

        table_free(&m->table, !borrowed);
        table_free(&m->old, !borrowed);
        *m = (StrMap) { .borrowed = borrowed };
}

/* The slot of key (hash h) in t, or of the first free slot where it would go. */
static size_t find_slot(const StrMapTable *t, const char *key, uint32_t h, bool *ret_found) {
        size_t mask = t->size - 1, i = h & mask, first_free = SIZE_MAX;

        for (;; i = (i + 1) & mask) {
                char *k = t->slots[i].key;

                if (!k) {
                        *ret_found = false;
                        return first_free != SIZE_MAX ? first_free : i;
                }
                if (k == TOMBSTONE) {
                        if (first_free == SIZE_MAX)
                                first_free = i;
                } else if (t->slots[i].hash == h && strcmp(k, key) == 0) {
                        *ret_found = true;
                        return i;
                }
        }
}

/* Whether key is in t, and at which slot. */
static bool table_find(const StrMapTable *t, const char *key, uint32_t h, size_t *ret_slot) {
        bool found = false;

        if (t->n > 0)
                *ret_slot = find_slot(t, key, h, &found);
        return found;
}

/* Into a slot of t that holds no key (the caller knows key is not in t). */
static void table_insert(StrMapTable *t, char *key, uint32_t h, size_t value) {
        bool found;
        size_t i = find_slot(t, key, h, &found);

        if (t->slots[i].key == TOMBSTONE)
                t->tombstones--;
        t->slots[i] = (StrMapSlot) { .key = key, .value = value, .hash = h };
        t->n++;
}

static void table_clear_slot(StrMapTable *t, size_t i) {
        t->slots[i].key = TOMBSTONE;
        t->n--;
        t->tombstones++;
}

/* Moves up to count slots of the old table; frees it once it is empty. Moving needs each
 * entry's stored hash only, not its key. */
static void move_slots(StrMap *m, size_t count) {
        StrMapTable *o = &m->old;

        for (; count > 0 && m->moved < o->size && o->n > 0; count--, m->moved++) {
                size_t i = m->moved;
                char *k = o->slots[i].key;

                if (!k || k == TOMBSTONE)
                        continue;
                table_insert(&m->table, k, o->slots[i].hash, o->slots[i].value);
                table_clear_slot(o, i);
        }
        if (o->size > 0 && (o->n == 0 || m->moved == o->size)) {
                table_free(o, false);
                m->moved = 0;
        }
}

/* Starts moving everything into a new table: twice the size when more than half of the
 * current one is live, else one of the same size without the tombstones. */
static int grow(StrMap *m) {
        StrMapTable t = {};

        /* Only if STEP were too small would an earlier growth still be under way: it is
         * finished first, at once. */
        move_slots(m, SIZE_MAX);
        t.size = m->table.size == 0 ? 64 : (m->n + 1) * 4 >= m->table.size * 2 ? m->table.size * 2 : m->table.size;
        t.slots = slots_new(t.size);
        if (!t.slots)
                return -ENOMEM;
        m->old = m->table;
        m->table = t;
        m->moved = 0;
        return 0;
}

bool strmap_get(const StrMap *m, const char *key, size_t *ret_value) {
        uint32_t h;
        size_t i;

        if (m->n == 0)
                return false;
        h = hash(key);
        if (table_find(&m->table, key, h, &i)) {
                if (ret_value)
                        *ret_value = m->table.slots[i].value;
                return true;
        }
        if (table_find(&m->old, key, h, &i)) {
                if (ret_value)
                        *ret_value = m->old.slots[i].value;
                return true;
        }
        return false;
}

int strmap_put(StrMap *m, const char *key, size_t value) {
        StrMapTable *t = &m->table;
        uint32_t h = hash(key);
        char *k;
        size_t i;

        if (table_find(t, key, h, &i)) {
                t->slots[i].value = value;
                return 0;
        }
        if (table_find(&m->old, key, h, &i)) {
                m->old.slots[i].value = value;
                return 0;
        }
        /* Keep the load (live + tombstones) under 3/4. */
        if ((t->n + t->tombstones + 1) * 4 >= t->size * 3) {
                int r = grow(m);
                if (r < 0)
                        return r;
        }
        k = m->borrowed ? (char *) key : strdup(key);
        if (!k)
                return -ENOMEM;
        table_insert(t, k, h, value);
        m->n++;
        move_slots(m, STEP);
        return 0;
}

bool strmap_remove(StrMap *m, const char *key) {
        uint32_t h;
        size_t i;

        if (m->n == 0)
                return false;
        h = hash(key);
        StrMapTable *t = table_find(&m->table, key, h, &i) ? &m->table :
                         table_find(&m->old, key, h, &i) ? &m->old : NULL;
        if (!t)
                return false;
        if (!m->borrowed)
                free(t->slots[i].key);
        table_clear_slot(t, i);
        m->n--;
        move_slots(m, STEP);
        return true;
}
