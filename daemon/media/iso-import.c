/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Multi-session: the previous session imported through an IsoDataSource over the caller's
 * read_block, the files the medium does not hold whole left out, and the blocks of earlier
 * sessions that the new tree refers to (iso-internal.h).
 */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "macro.h"
#include "media/iso-internal.h"

typedef struct IsoReadContext {
        const IsoOptions *options;
        int error; /* first negative errno from read_block */
} IsoReadContext;

static int data_source_open(IsoDataSource *src) {
        return ISO_SUCCESS;
}

static int data_source_close(IsoDataSource *src) {
        return ISO_SUCCESS;
}

static int data_source_read_block(IsoDataSource *src, uint32_t lba, uint8_t *buffer) {
        IsoReadContext *c = src->data;
        int r;

        r = c->options->read_block(lba, buffer, c->options->read_userdata);
        if (r < 0) {
                if (c->error == 0)
                        c->error = r;
                log_debug_errno(r, "Failed to read block %" PRIu32 " of the previous session: %m", lba);
                /* FAILURE aborts the import whatever the abort severity. */
                return (int) ISO_DATA_SOURCE_FAILURE;
        }
        return ISO_SUCCESS;
}

static void data_source_free_data(IsoDataSource *src) {
        free(src->data);
}


int iso_import_previous(IsoImage *image, const IsoOptions *o) {
        _cleanup_(read_opts_freep) IsoReadOpts *ropts = NULL;
        IsoReadContext *ctx = NULL;
        IsoDataSource *src;
        int r, error;

        r = iso_read_opts_new(&ropts, 0);
        if (r < 0)
                return iso_code_to_errno(r);
        (void) iso_read_opts_set_start_block(ropts, o->import_lba);
        (void) iso_read_opts_set_input_charset(ropts, "UTF-8");
        /* We never write ACLs or xattrs; reading them would only cost time. */
        (void) iso_read_opts_set_no_aaip(ropts, 1);

        /* Imported nodes may keep the source (and its context) alive as long as the image. */
        ctx = calloc(1, sizeof(IsoReadContext));
        src = calloc(1, sizeof(IsoDataSource));
        if (!ctx || !src) {
                free(ctx);
                free(src);
                return log_oom();
        }
        ctx->options = o;
        *src = (IsoDataSource) {
                .refcount = 1,
                .open = data_source_open,
                .close = data_source_close,
                .read_block = data_source_read_block,
                .free_data = data_source_free_data,
                .data = ctx,
        };
        r = iso_image_import(image, src, ropts, NULL);
        error = ctx->error;
        iso_data_source_unref(src);
        if (r < 0) {
                int q = error < 0 ? error : iso_flush_messages(iso_image_get_msg_id(image), false);

                if (q >= 0)
                        q = iso_code_to_errno(r);
                return log_error_errno(q, "Cannot import the previous session at block %" PRIu32 ": %s",
                                       o->import_lba, iso_error_to_msg(r));
        }
        return 0;
}


/* Whether the medium holds every data extent of an imported file. 1 yes, 0 no, 2 not imported. */
static int file_whole_on_medium(IsoFile *file, const IsoOptions *o) {
        struct iso_file_section *sections = NULL;
        int n = 0, r, whole = 1;

        r = iso_file_get_old_image_sections(file, &n, &sections, 0);
        if (r <= 0)
                return r < 0 ? 0 : 2;
        for (int i = 0; i < n && whole; i++) {
                uint32_t blocks = DIV_ROUND_UP(sections[i].size, ISO_BLOCK);
                uint64_t end = (uint64_t) sections[i].block + blocks;

                if (blocks == 0)
                        continue;
                if (end > o->next_lba ||
                    (o->extent_readable && !o->extent_readable(sections[i].block, blocks, o->read_userdata)))
                        whole = 0;
        }
        free(sections);
        return whole;
}

/* Calls fn for every file below dir, with the iterator that is on it (so that fn may remove it). */
typedef int (*file_fn)(IsoDirIter *it, IsoFile *file, void *userdata);

static int walk_files(IsoDir *dir, file_fn fn, void *userdata) {
        _cleanup_(dir_iter_freep) IsoDirIter *it = NULL;
        IsoNode *node;
        int r;

        r = iso_dir_get_children(dir, &it);
        if (r < 0)
                return iso_code_to_errno(r);
        while (iso_dir_iter_next(it, &node) == 1) {
                r = ISO_NODE_IS_DIR(node) ? walk_files((IsoDir *) node, fn, userdata) :
                    ISO_NODE_IS_FILE(node) ? fn(it, (IsoFile *) node, userdata) : 0;
                if (r < 0)
                        return r;
        }
        return 0;
}

typedef struct ImportWalk {
        const IsoOptions *options;
        IsoImport *import;
        size_t allocated;       /* of import->extents */
} ImportWalk;

static void import_note_left_out(IsoImport *imp, char *path) {
        char **l;

        imp->n_left_out++;
        if (imp->n_left_out_names >= ISO_LEFT_OUT_NAMES_MAX || !path)
                return;
        l = realloc(imp->left_out, (imp->n_left_out_names + 1) * sizeof(char *));
        if (!l)
                return;
        imp->left_out = l;
        l[imp->n_left_out_names++] = strdup(path);
        if (!l[imp->n_left_out_names - 1])
                imp->n_left_out_names--;
}

/* Takes a file the medium does not hold whole out of the imported tree. */
static int prune_file(IsoDirIter *it, IsoFile *file, void *userdata) {
        ImportWalk *w = userdata;
        _cleanup_free_ char *path = NULL;
        int r;

        if (file_whole_on_medium(file, w->options) != 0)
                return 0;
        path = iso_tree_get_node_path((IsoNode *) file);
        log_warning("\"%s\" of the previous session is not whole on the medium; the new session leaves it out.",
                    strna(path));
        import_note_left_out(w->import, path);
        r = iso_dir_iter_remove(it);
        return r < 0 ? iso_code_to_errno(r) : 0;
}

int iso_import_prune(IsoImage *image, const IsoOptions *o, IsoImport *imp) {
        ImportWalk w = { .options = o, .import = imp };

        return walk_files(iso_image_get_root(image), prune_file, &w);
}

/* Notes where an imported file's data is. */
static int add_extents(IsoDirIter *it, IsoFile *file, void *userdata) {
        ImportWalk *w = userdata;
        IsoImport *imp = w->import;
        struct iso_file_section *sections = NULL;
        int n = 0;

        if (iso_file_get_old_image_sections(file, &n, &sections, 0) <= 0)
                return 0;
        for (int i = 0; i < n; i++) {
                uint32_t blocks = DIV_ROUND_UP(sections[i].size, ISO_BLOCK);

                if (blocks == 0)
                        continue;
                if (imp->n_extents == w->allocated) {
                        size_t m = MAX(w->allocated * 2, (size_t) 64);
                        IsoExtent *l = realloc(imp->extents, m * sizeof(IsoExtent));

                        if (!l) {
                                free(sections);
                                return log_oom();
                        }
                        imp->extents = l;
                        w->allocated = m;
                }
                imp->extents[imp->n_extents++] = (IsoExtent) { sections[i].block, blocks };
        }
        free(sections);
        return 0;
}

static int compare_extents(const void *a, const void *b) {
        const IsoExtent *x = a, *y = b;

        return x->start < y->start ? -1 : x->start > y->start;
}

/* The blocks of earlier sessions that the finished tree refers to, sorted and merged. */
int iso_import_collect_extents(IsoImage *image, IsoImport *imp) {
        ImportWalk w = { .import = imp };
        size_t k = 0;
        int r;

        r = walk_files(iso_image_get_root(image), add_extents, &w);
        if (r < 0 || imp->n_extents == 0)
                return r;
        qsort(imp->extents, imp->n_extents, sizeof(IsoExtent), compare_extents);
        for (size_t i = 0; i < imp->n_extents; i++) {
                IsoExtent *e = &imp->extents[i], *last = k > 0 ? &imp->extents[k - 1] : NULL;

                if (last && e->start <= last->start + last->blocks)
                        last->blocks = MAX(last->blocks, e->start + e->blocks - last->start);
                else
                        imp->extents[k++] = *e;
        }
        imp->n_extents = k;
        return 0;
}

