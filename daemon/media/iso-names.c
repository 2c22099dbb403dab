/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Joliet tree's own names (iso-internal.h), for names that Joliet or Windows cannot hold
 * (jolietname.h decides them). libisofs derives every tree's names from one node name and has no
 * Joliet name of a node's own, so a node whose Joliet name differs gets a twin: the node itself
 * is hidden from Joliet (LIBISO_HIDE_ON_JOLIET), and a twin under the Joliet name, hidden from
 * ISO 9660 and Rock Ridge (LIBISO_HIDE_ON_RR), stands in the Joliet tree. A twin file shares the
 * node's stream, and libisofs writes one extent for both (its file sources are keyed by the
 * stream's identity), so the data is on the disc once. A folder's twin holds twins of everything
 * below it.
 */

#include <errno.h>
#include <stdlib.h>

#include "jolietname.h"
#include "log.h"
#include "macro.h"
#include "media/iso-internal.h"

typedef struct Children {
        IsoNode **nodes;
        const char **names;
        char **joliet;
        size_t n;
} Children;

static void children_done(Children *c) {
        for (size_t i = 0; i < c->n; i++)
                free(c->joliet[i]);
        free(c->nodes);
        free(c->names);
        free(c->joliet);
}

/* The children of dir that the Joliet tree shows, and their Joliet names. */
static int children_get(IsoDir *dir, Children *ret) {
        _cleanup_(dir_iter_freep) IsoDirIter *it = NULL;
        Children c = {};
        size_t allocated = 0;
        IsoNode *node;
        int r;

        r = iso_dir_get_children(dir, &it);
        if (r < 0)
                return iso_code_to_errno(r);
        while (iso_dir_iter_next(it, &node) == 1) {
                if (iso_node_get_hidden(node) & LIBISO_HIDE_ON_JOLIET)
                        continue;
                if (c.n == allocated) {
                        size_t a = allocated ? allocated * 2 : 16;
                        IsoNode **nodes = realloc(c.nodes, a * sizeof(IsoNode *));

                        if (nodes)
                                c.nodes = nodes;
                        if (!nodes || !(c.names = reallocarray(c.names, a, sizeof(char *)))) {
                                free(c.nodes);
                                free(c.names);
                                return -ENOMEM;
                        }
                        allocated = a;
                }
                c.nodes[c.n] = node;
                c.names[c.n++] = iso_node_get_name(node);
        }
        c.joliet = calloc(MAX(c.n, (size_t) 1), sizeof(char *));
        r = c.joliet ? joliet_dir_adapt(c.names, c.n, c.joliet) : -ENOMEM;
        if (r < 0) {
                free(c.nodes);
                free(c.names);
                free(c.joliet);
                return r;
        }
        *ret = c;
        return 0;
}

static void twin_copy_attributes(IsoNode *twin, IsoNode *node) {
        iso_node_set_permissions(twin, iso_node_get_permissions(node));
        iso_node_set_uid(twin, iso_node_get_uid(node));
        iso_node_set_gid(twin, iso_node_get_gid(node));
        iso_node_set_mtime(twin, iso_node_get_mtime(node));
        iso_node_set_atime(twin, iso_node_get_atime(node));
        iso_node_set_ctime(twin, iso_node_get_ctime(node));
}

static int adapt_dir(IsoImage *image, IsoDir *src, IsoDir *dst, unsigned depth);

/* A Joliet-only twin of node, named name, in dst. */
static int add_twin(IsoImage *image, IsoNode *node, IsoDir *dst, const char *name, bool hide_on_rr,
                    unsigned depth) {
        IsoNode *twin = NULL;
        int r;

        if (ISO_NODE_IS_FILE(node)) {
                IsoStream *stream = iso_file_get_stream((IsoFile *) node);
                IsoFile *file = NULL;

                iso_stream_ref(stream);
                r = iso_image_add_new_file(image, dst, name, stream, &file);
                if (r < 0) {
                        iso_stream_unref(stream);
                        return log_error_errno(-iso_code_to_errno(r), "Cannot add the Joliet name \"%s\": %s",
                                               name, iso_error_to_msg(r));
                }
                twin = (IsoNode *) file;
                iso_node_set_sort_weight(twin, iso_file_get_sort_weight((IsoFile *) node));
        } else if (ISO_NODE_IS_DIR(node)) {
                IsoDir *dir = NULL;

                r = iso_image_add_new_dir(image, dst, name, &dir);
                if (r < 0)
                        return log_error_errno(-iso_code_to_errno(r), "Cannot add the Joliet folder \"%s\": %s",
                                               name, iso_error_to_msg(r));
                twin = (IsoNode *) dir;
        } else
                /* Joliet holds no links or special files; libisofs leaves them out of it anyway. */
                return 0;

        twin_copy_attributes(twin, node);
        if (hide_on_rr)
                iso_node_set_hidden(twin, LIBISO_HIDE_ON_RR | LIBISO_HIDE_ON_1999 | LIBISO_HIDE_ON_HFSPLUS |
                                                  LIBISO_HIDE_ON_FAT);
        if (ISO_NODE_IS_DIR(node))
                return adapt_dir(image, (IsoDir *) node, (IsoDir *) twin, depth + 1);
        return 0;
}

/* Gives src's children their Joliet names: in src itself where both trees share it (dst ==
 * src), else in dst, src's Joliet-only twin, which gets a twin of every child. */
static int adapt_dir(IsoImage *image, IsoDir *src, IsoDir *dst, unsigned depth) {
        _cleanup_(children_done) Children c = {};
        int r;

        /* Paths are at most 4000 bytes (disc_name_check()), so at most 2000 levels. */
        if (depth > DISC_MAX_PATH_BYTES / 2)
                return log_error_errno(ELOOP, "The tree is deeper than %d levels.", DISC_MAX_PATH_BYTES / 2);
        r = children_get(src, &c);
        if (r < 0)
                return r;
        for (size_t i = 0; i < c.n; i++) {
                IsoNode *node = c.nodes[i];
                const char *name = c.joliet[i] ?: c.names[i];

                if (dst != src) {
                        r = add_twin(image, node, dst, name, false, depth);
                } else if (c.joliet[i]) {
                        IsoNode *clash = NULL;

                        /* joliet_dir_adapt() never picks a name of the folder that Joliet shows. */
                        if (iso_dir_get_node(src, name, &clash) > 0)
                                return log_error_errno(EEXIST, "The Joliet name \"%s\" of \"%s\" is taken.", name,
                                                       c.names[i]);
                        iso_node_set_hidden(node, iso_node_get_hidden(node) | LIBISO_HIDE_ON_JOLIET);
                        r = add_twin(image, node, dst, name, true, depth);
                } else if (ISO_NODE_IS_DIR(node))
                        r = adapt_dir(image, (IsoDir *) node, (IsoDir *) node, depth + 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

int iso_adapt_joliet_names(IsoImage *image) {
        IsoDir *root = iso_image_get_root(image);

        return adapt_dir(image, root, root, 0);
}
