/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A string-keyed hash map with size_t values (open addressing, linear probing). Keys are
 * copied, unless the map borrows them (strmap_init_borrowed()): then they are the caller's
 * strings, which must stay unchanged and alive while they are in the map. Sized for hundreds
 * of thousands of staged names, and never moves them all in one call: growing keeps the old
 * table and moves a few of its slots with each change (see strmap.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A slot's parts side by side: an insert into a table not touched yet faults in one page,
 * not three, and a probe reads one cache line. */
typedef struct StrMapSlot {
        char *key;              /* NULL: free; or a tombstone (strmap.c) */
        size_t value;
        uint32_t hash;          /* of a live key */
} StrMapSlot;

typedef struct StrMapTable {
        StrMapSlot *slots;
        size_t size;            /* slots, a power of two (0: no table) */
        size_t n;               /* live entries */
        size_t tombstones;
} StrMapTable;

typedef struct StrMap {
        StrMapTable table;      /* where new keys go */
        StrMapTable old;        /* while growing: the table before, emptied slot by slot */
        size_t moved;           /* slots of old already moved */
        size_t n;               /* live entries in both */
        bool borrowed;          /* keys are not copied or freed */
} StrMap;

void strmap_init(StrMap *m);
void strmap_init_borrowed(StrMap *m);
void strmap_done(StrMap *m);
bool strmap_get(const StrMap *m, const char *key, size_t *ret_value);
/* Inserts or replaces. -ENOMEM on failure. */
int strmap_put(StrMap *m, const char *key, size_t value);
bool strmap_remove(StrMap *m, const char *key);
