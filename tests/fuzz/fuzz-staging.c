/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzzes the staging of AddData batches as master-joliet.c drives it: every name through
 * joliet_name_check(), the whole batch through staging_check() and staging_estimate_blocks(),
 * then each entry through staging_add(), batch after batch, with the name index dropped and
 * rebuilt between some of them as a burn does. Names are generated from a few components, so
 * that they collide often (the same name, a file under a file, a directory where a file is), or
 * come from the input as they are. The oracle is a model of the disc's tree that applies a
 * batch entry by entry. Invariants: a batch is refused exactly when the model finds a name
 * staged again without overwrite, or a tree that is no tree (a file with something under it, a
 * name that is a file and a directory), and at the first entry the model finds; what is staged
 * is what the model holds, with the same data blocks and stash bytes; the estimate for a batch
 * is never below the estimate of the staging with the batch added (the disc-full check relies
 * on it); a replaced file's copy is handed back once, and staging_clear() hands back exactly
 * the copies still staged.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/staging.h"
#include "fuzz-input.h"
#include "jolietname.h"
#include "log.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MODEL 256
#define MAX_BATCH 16

typedef struct ModelEntry {
        char *path;
        bool is_dir;
        uint32_t copy;
        uint64_t size, cost;
} ModelEntry;

typedef struct Model {
        ModelEntry e[MAX_MODEL];
        size_t n;
} Model;

/* A client's name: components that collide, or bytes of the input's own. */
static char *make_name(Input *in) {
        static const char *const parts[] = { "a", "b", "A", "a.txt", "dir", "x y", "\xc3\xbc", "a.", "..", "" };
        uint8_t how = next(in);
        char buf[256] = "";

        if (how & 0x80) {
                size_t n = MIN((size_t) (how & 0x7F), in->size);

                memcpy(buf, in->data, n);
                buf[n] = 0;
                in->data += n;
                in->size -= n;
                return strdup(buf);
        }
        if (how & 0x40)
                strcat(buf, "/");
        for (unsigned i = 0, depth = 1 + (how & 3); i < depth; i++) {
                if (i > 0)
                        strcat(buf, "/");
                strcat(buf, parts[next(in) % ELEMENTSOF(parts)]);
        }
        return strdup(buf);
}

static ModelEntry *model_find(Model *m, const char *path) {
        for (size_t i = 0; i < m->n; i++)
                if (streq(m->e[i].path, path))
                        return &m->e[i];
        return NULL;
}

/* Whether path is a directory in the tree: staged as one, or above a staged name. */
static bool model_is_dir(Model *m, const char *path) {
        size_t n = strlen(path);
        ModelEntry *e = model_find(m, path);

        if (e && e->is_dir)
                return true;
        for (size_t i = 0; i < m->n; i++)
                if (strncmp(m->e[i].path, path, n) == 0 && m->e[i].path[n] == '/')
                        return true;
        return false;
}

/* Whether a directory above path is a staged file. */
static bool model_under_file(Model *m, const char *path) {
        for (size_t i = 0; i < m->n; i++) {
                size_t n = strlen(m->e[i].path);

                if (!m->e[i].is_dir && strncmp(m->e[i].path, path, n) == 0 && path[n] == '/')
                        return true;
        }
        return false;
}

/* One entry applied to the model: false if the tree refuses it. */
static bool model_apply(Model *m, const StagingRequest *r, uint32_t copy, uint64_t cost, bool overwrite) {
        ModelEntry *e = model_find(m, r->image_path);

        if (model_under_file(m, r->image_path))
                return false;
        if (r->is_dir) {
                if (e && !e->is_dir)
                        return false;
                if (e)
                        return true;
        } else {
                if (model_is_dir(m, r->image_path))
                        return false;
                if (e && !overwrite)
                        return false;
                if (e) {
                        e->copy = copy;
                        e->size = r->size;
                        e->cost = cost;
                        return true;
                }
        }
        if (m->n == MAX_MODEL)
                abort();
        m->e[m->n++] = (ModelEntry) { .path = strdup(r->image_path), .is_dir = r->is_dir,
                                      .copy = r->is_dir ? 0 : copy, .size = r->is_dir ? 0 : r->size,
                                      .cost = r->is_dir ? 0 : cost };
        if (!m->e[m->n - 1].path)
                abort();
        return true;
}

static void check_same(const Staging *s, Model *m) {
        uint64_t blocks = 0, cost = 0;

        if (staging_count(s) != m->n)
                abort();
        for (size_t i = 0; i < s->n; i++) {
                const StagedEntry *se = &s->entries[i];
                ModelEntry *e = model_find(m, se->image_path);

                if (!e || e->is_dir != (se->copy == 0) || e->copy != se->copy || e->size != se->size ||
                    e->cost != se->cost)
                        abort();
        }
        for (size_t i = 0; i < m->n; i++) {
                blocks += DIV_ROUND_UP(m->e[i].size, 2048);
                cost += m->e[i].cost;
        }
        if (s->data_blocks != blocks || s->cost != cost)
                abort();
}

typedef struct Removed {
        uint32_t copies[MAX_MODEL * MAX_BATCH];
        size_t n;
} Removed;

static void on_remove(uint32_t copy, void *userdata) {
        Removed *r = userdata;

        if (r->n == ELEMENTSOF(r->copies))
                abort();
        r->copies[r->n++] = copy;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static Model model;
        static Removed removed;
        Input in = { data, size };
        uint32_t next_copy = 1;
        Staging s;

        log_set_max_level(LOG_EMERG - 1);
        model.n = 0;
        removed.n = 0;
        staging_init(&s);

        while (in.size > 0 && model.n + MAX_BATCH <= MAX_MODEL) {
                StagingRequest reqs[MAX_BATCH];
                char *names[MAX_BATCH] = {};
                uint64_t costs[MAX_BATCH];
                uint8_t flags = next(&in);
                size_t n = flags % (MAX_BATCH + 1), conflict = SIZE_MAX, want_conflict = SIZE_MAX, k = 0;
                bool overwrite = flags & 0x20, bad_name = false;
                uint64_t estimate;
                Model after;
                int r;

                if (flags & 0x40) {
                        /* A burn took the index away meanwhile; the next call rebuilds it. */
                        staging_drop_index(&s);
                        if (flags & 0x80 && staging_ensure_index(&s) < 0)
                                abort();
                }
                for (k = 0; k < n; k++) {
                        _cleanup_free_ char *name = make_name(&in);
                        uint8_t kind = next(&in);

                        if (!name)
                                abort();
                        if (joliet_name_check(name, &names[k], NULL) != JOLIET_NAME_OK) {
                                bad_name = true;        /* BADJOLIETNAME: nothing of the batch is staged */
                                break;
                        }
                        uint64_t bytes = next(&in);

                        bytes <<= next(&in) % 40;       /* up to 2^47: sums that fill a disc many times */
                        reqs[k] = (StagingRequest) { .image_path = names[k], .is_dir = kind & 1,
                                                     .size = (kind & 1) ? 0 : bytes };
                        costs[k] = reqs[k].size + 4096;
                }
                if (bad_name)
                        goto next_batch;

                /* The model applies the batch on a copy of itself, entry by entry. */
                after = model;
                for (size_t i = 0; i < model.n; i++)
                        after.e[i].path = strdup(model.e[i].path);
                for (k = 0; k < n; k++)
                        if (!model_apply(&after, &reqs[k], next_copy + k, costs[k], overwrite)) {
                                want_conflict = k;
                                break;
                        }

                r = staging_check(&s, reqs, n, overwrite, &conflict);
                if (r == -ENOMEM)
                        abort();
                if ((r == 0) != (want_conflict == SIZE_MAX) || (r < 0 && (r != -EEXIST || conflict != want_conflict)))
                        abort();
                if (r < 0) {
                        for (size_t i = 0; i < after.n; i++)
                                free(after.e[i].path);
                        goto next_batch;
                }

                estimate = staging_estimate_blocks(&s, reqs, n);
                for (k = 0; k < n; k++) {
                        ModelEntry *old = model_find(&model, reqs[k].image_path);
                        StagedEntry e = { .image_path = reqs[k].image_path, .copy = reqs[k].is_dir ? 0 : next_copy + k,
                                          .size = reqs[k].size, .cost = reqs[k].is_dir ? 0 : costs[k] };
                        uint32_t replaced = 0, was = 0;

                        /* The copy a file replaces: the one staged before, or earlier in the batch. */
                        for (size_t j = k; j-- > 0;)
                                if (!reqs[j].is_dir && streq(reqs[j].image_path, reqs[k].image_path)) {
                                        was = next_copy + j;
                                        break;
                                }
                        if (!was && old)
                                was = old->copy;
                        if (staging_add(&s, &e, &replaced) < 0)
                                abort();
                        if (replaced != (reqs[k].is_dir ? 0 : was))
                                abort();
                        if (replaced)
                                on_remove(replaced, &removed);
                }
                next_copy += n;
                for (size_t i = 0; i < model.n; i++)
                        free(model.e[i].path);
                model = after;
                check_same(&s, &model);
                if (staging_estimate_blocks(&s, NULL, 0) > estimate)
                        abort();
        next_batch:
                for (k = 0; k < MAX_BATCH; k++)
                        free(names[k]);
        }

        /* Every copy handed back once: the replaced ones above, the staged ones now. */
        staging_clear(&s, on_remove, &removed);
        for (size_t i = 0; i < removed.n; i++)
                for (size_t j = i + 1; j < removed.n; j++)
                        if (removed.copies[i] == removed.copies[j])
                                abort();
        for (size_t i = 0; i < model.n; i++) {
                bool found = model.e[i].copy == 0;

                for (size_t j = 0; j < removed.n && !found; j++)
                        found = removed.copies[j] == model.e[i].copy;
                if (!found)
                        abort();
                free(model.e[i].path);
        }
        return 0;
}
