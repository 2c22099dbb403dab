/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bookkeeping of staged names and sizes for a Joliet disc master. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "core/staging.h"
#include "media/stash.h"

/* Upper bounds of what one name costs in the directory structures: an ISO 9660 record (33 +
 * name), a Joliet one (33 + 2 x name) and Rock Ridge entries (about 150 bytes with NM, PX, TF),
 * plus the path tables; and the fixed part of an image: 16 system blocks, the volume
 * descriptors and the root directories. */
#define BYTES_PER_NAME 512
#define FIXED_BLOCKS 64
#define BLOCKS_PER_DIR 3

void staging_init(Staging *s) {
        *s = (Staging) {};
        /* The index's keys are the entries' own image paths: 100,000 names need not be kept
         * twice. */
        strmap_init_borrowed(&s->index);
        strmap_init(&s->dirs);
        strpool_init(&s->names);
}

void staging_clear(Staging *s, void (*remove_copy)(uint32_t copy, void *userdata), void *userdata) {
        for (size_t i = 0; i < s->n; i++) {
                if (remove_copy && s->entries[i].copy != 0)
                        remove_copy(s->entries[i].copy, userdata);
        }
        if (remove_copy && s->boot.copy != 0)
                remove_copy(s->boot.copy, userdata);
        free(s->entries);
        strpool_done(&s->names);
        strmap_done(&s->index);
        strmap_done(&s->dirs);
        staging_init(s);
}

void staging_drop_index(Staging *s) {
        strmap_done(&s->index);
}

void staging_take_index(Staging *s, StrMap *ret) {
        *ret = s->index;
        strmap_init_borrowed(&s->index);
}

int staging_ensure_index(Staging *s) {
        /* Every entry has its own name in the index (a replaced file keeps its entry), so a
         * count short of the entries' is a dropped index. */
        if (s->index.n == s->n)
                return 0;
        for (size_t i = 0; i < s->n; i++) {
                int r = strmap_put(&s->index, s->entries[i].image_path, i);

                if (r < 0) {
                        strmap_done(&s->index);
                        return r;
                }
        }
        return 0;
}

size_t staging_count(const Staging *s) {
        return s->n;
}

uint32_t staging_set_boot_copy(Staging *s, uint32_t copy, uint64_t size, uint64_t cost) {
        uint32_t old = s->boot.copy;

        if (old != 0) {
                s->data_blocks -= DIV_ROUND_UP(s->boot.size, 2048);
                s->cost -= s->boot.cost;
        }
        s->boot.copy = copy;
        s->boot.size = copy != 0 ? size : 0;
        s->boot.cost = copy != 0 ? cost : 0;
        s->data_blocks += DIV_ROUND_UP(s->boot.size, 2048);
        s->cost += s->boot.cost;
        return old;
}

static bool is_file(const Staging *s, const char *path) {
        size_t i;

        return strmap_get(&s->index, path, &i) && s->entries[i].copy != 0;
}

static bool is_dir(const Staging *s, const char *path) {
        return strmap_get(&s->dirs, path, NULL);
}

/* Whether a proper prefix directory of path is a staged file. */
static bool parent_is_file(const Staging *s, const char *path) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return true;
        for (char *slash = strrchr(p, '/'); slash; slash = strrchr(p, '/')) {
                *slash = 0;
                if (is_file(s, p))
                        return true;
        }
        return false;
}

/* Whether a is b or a directory above b ("x" of "x/y"). */
static bool is_prefix_dir(const char *a, const char *b) {
        size_t n = strlen(a);

        return strncmp(a, b, n) == 0 && b[n] == '/';
}

int staging_check(Staging *s, const StagingRequest *reqs, size_t n, bool overwrite, size_t *ret_index) {
        int q = staging_ensure_index(s);

        if (q < 0)
                return q;
        for (size_t i = 0; i < n; i++) {
                const StagingRequest *r = &reqs[i];
                bool conflict;

                if (r->is_dir)
                        conflict = is_file(s, r->image_path);
                else
                        conflict = is_dir(s, r->image_path) || (is_file(s, r->image_path) && !overwrite);
                conflict = conflict || parent_is_file(s, r->image_path);

                for (size_t k = 0; k < i && !conflict; k++) {
                        const StagingRequest *o = &reqs[k];

                        if (streq(o->image_path, r->image_path))
                                conflict = o->is_dir != r->is_dir || (!r->is_dir && !overwrite);
                        else if (!o->is_dir && is_prefix_dir(o->image_path, r->image_path))
                                conflict = true;
                        else if (!r->is_dir && is_prefix_dir(r->image_path, o->image_path))
                                conflict = true;
                }
                if (conflict) {
                        *ret_index = i;
                        return -EEXIST;
                }
        }
        return 0;
}

static size_t count_new_dirs(const Staging *s, const StagingRequest *reqs, size_t n) {
        size_t count = 0;

        /* An upper bound: each request may bring its parents and itself. */
        for (size_t i = 0; i < n; i++) {
                const char *p = reqs[i].image_path;

                for (const char *c = strchr(p, '/'); c; c = strchr(c + 1, '/'))
                        count++;
                if (reqs[i].is_dir && !is_dir(s, p))
                        count++;
        }
        return count;
}

uint64_t staging_estimate_blocks(const Staging *s, const StagingRequest *reqs, size_t n) {
        uint64_t data = s->data_blocks, names = s->n + n, dirs = s->dirs.n + count_new_dirs(s, reqs, n);

        for (size_t i = 0; i < n; i++)
                if (!reqs[i].is_dir)
                        data += DIV_ROUND_UP(reqs[i].size, 2048);
        return FIXED_BLOCKS + data + dirs * BLOCKS_PER_DIR + DIV_ROUND_UP(names * BYTES_PER_NAME, 2048);
}

/* Adds path's directories to s->dirs (path itself too if self). A directory already there
 * has its parents there as well: a file in a known folder costs one lookup, not two per level. */
static int dirs_add(Staging *s, const char *path, bool self) {
        _cleanup_free_ char *p = strdup(path);
        int r;

        if (!p)
                return -ENOMEM;
        if (!self) {
                char *slash = strrchr(p, '/');
                if (!slash)
                        return 0;
                *slash = 0;
        }
        if (strmap_get(&s->dirs, p, NULL))
                return 0;
        /* Top down, so that a failure leaves no directory without its parents. */
        for (char *slash = strchr(p, '/');; slash = strchr(slash + 1, '/')) {
                if (slash)
                        *slash = 0;
                if (!strmap_get(&s->dirs, p, NULL)) {
                        r = strmap_put(&s->dirs, p, 0);
                        if (r < 0)
                                return r;
                }
                if (!slash)
                        return 0;
                *slash = '/';
        }
}

int staging_add(Staging *s, StagedEntry *e, uint32_t *ret_replaced) {
        size_t i;
        int r;

        *ret_replaced = 0;
        r = staging_ensure_index(s);
        if (r < 0)
                return r;
        s->image_time = 0;
        if (strmap_get(&s->index, e->image_path, &i)) {
                StagedEntry *old = &s->entries[i];

                if (e->copy == 0 || old->copy == 0)
                        return 0; /* a directory again (staging_check refused the rest) */
                s->data_blocks -= DIV_ROUND_UP(old->size, 2048);
                /* A packed copy's bytes stay in the pack until the content is cleared. */
                if (!stash_copy_packed(old->copy))
                        s->cost -= old->cost;
                *ret_replaced = old->copy;
                /* The same name: keep the string the index points at. */
                e->image_path = old->image_path;
                *old = *e;
        } else {
                if (s->n == s->allocated) {
                        size_t na = s->allocated ? s->allocated * 2 : 256;
                        StagedEntry *l = realloc(s->entries, na * sizeof(StagedEntry));
                        if (!l)
                                return -ENOMEM;
                        s->entries = l;
                        s->allocated = na;
                }
                /* (A failure below leaves the copy in the pool until staging_clear().) */
                e->image_path = strpool_add(&s->names, e->image_path);
                if (!e->image_path)
                        return -ENOMEM;
                r = strmap_put(&s->index, e->image_path, s->n);
                if (r < 0)
                        return r;
                r = dirs_add(s, e->image_path, e->copy == 0);
                if (r < 0) {
                        strmap_remove(&s->index, e->image_path);
                        return r;
                }
                s->entries[s->n++] = *e;
        }
        if (e->copy != 0) {
                s->data_blocks += DIV_ROUND_UP(e->size, 2048);
                s->cost += e->cost;
                s->largest_file = MAX(s->largest_file, e->size);
        }
        *e = (StagedEntry) {};
        return 0;
}
