/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The image's tree from the staged entries, and its layout (iso-internal.h, iso.h). */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jolietname.h"
#include "log.h"
#include "macro.h"
#include "media/iso-internal.h"

/* The largest file ISO levels 1 and 2 can hold: one extent (libisofs' limit). */
#define ISO_MAX_SINGLE_EXTENT UINT64_C(0xFFFFF800)
/* libisofs' FIFO between its writer thread and iso-write.c, in blocks: 512 KiB. Its writer
 * thread reads the staged files and waits whenever this FIFO is full, and while it waits no read
 * of the stash is under way. At 128 KiB it waited 3 s of the 5.3 s that a 1 GiB image took to
 * write on btrfs (the drive's thread held up by fsync meanwhile), and the burn took 1.47x as long
 * as xorriso's direct commit (median of 5 runs); at 512 KiB 1.10x (of 6), at 1 MiB 1.21x and at
 * 2 MiB 1.32x (of 3 each). The cost is 384 KiB more resident per generator, that is per
 * recorder. */
#define ISO_FIFO_BLOCKS 256U
/* The Joliet volume descriptor's volume identifier: 32 bytes of UCS-2. */
#define JOLIET_VOLUME_ID_MAX 16

DEFINE_TRIVIAL_CLEANUP_FUNC(IsoStashStreams *, iso_stash_streams_free);

static const char *entry_path(const IsoSource *src, size_t i) {
        IsoEntry e;

        src->get(i, &e, src->userdata);
        return e.image_path + (e.image_path[0] == '/');
}

static int compare_entries(const void *a, const void *b, void *userdata) {
        const IsoSource *src = userdata;
        size_t i = *(const size_t *) a, j = *(const size_t *) b;
        int c = strcmp(entry_path(src, i), entry_path(src, j));

        /* Stable: of two entries for one path, the later one is added last and wins. */
        if (c != 0)
                return c;
        return i < j ? -1 : i > j;
}

static void node_set_attributes(IsoNode *node, mode_t mode, uint64_t mtime_usec, mode_t default_mode) {
        mode_t perm = mode & 07777;

        iso_node_set_permissions(node, perm != 0 ? perm : default_mode);
        iso_node_set_uid(node, 0);
        iso_node_set_gid(node, 0);
        if (mtime_usec > 0) {
                time_t t = (time_t) (mtime_usec / 1000000);

                iso_node_set_mtime(node, t);
                iso_node_set_atime(node, t);
                iso_node_set_ctime(node, t);
        }
}

/* Finds or creates the directory `name` in dir. */
static int dir_get_or_add(IsoDir *dir, const char *name, const char *path, IsoDir **ret) {
        IsoNode *node = NULL;
        IsoDir *sub = NULL;
        int r;

        r = iso_dir_get_node(dir, name, &node);
        if (r < 0)
                return iso_code_to_errno(r);
        if (r > 0) {
                if (!ISO_NODE_IS_DIR(node))
                        return log_error_errno(ENOTDIR, "Cannot add \"%s\": \"%s\" is a file in the image.",
                                               path, name);
                *ret = (IsoDir *) node;
                return 0;
        }
        r = iso_tree_add_new_dir(dir, name, &sub);
        if (r < 0)
                return log_error_errno(-iso_code_to_errno(r), "Cannot add directory \"%s\" for \"%s\": %s",
                                       name, path, iso_error_to_msg(r));
        node_set_attributes((IsoNode *) sub, 0755, 0, 0755);
        *ret = sub;
        return 0;
}

static int image_add_entry(IsoImage *image, IsoStashStreams *ctx, size_t index, int sort_weight) {
        const IsoSource *src = iso_stash_streams_source(ctx);
        _cleanup_free_ char *path = NULL;
        IsoDir *dir = iso_image_get_root(image);
        IsoNode *node = NULL;
        IsoStream *stream = NULL;
        IsoFile *file = NULL;
        IsoEntry entry;
        const IsoEntry *e = &entry;
        char *name, *slash;
        int r;

        src->get(index, &entry, src->userdata);
        path = strdup(e->image_path + (e->image_path[0] == '/'));
        if (!path)
                return log_oom();

        for (name = path; (slash = strchr(name, '/')); name = slash + 1) {
                *slash = '\0';
                r = dir_get_or_add(dir, name, e->image_path, &dir);
                if (r < 0)
                        return r;
        }

        r = iso_dir_get_node(dir, name, &node);
        if (r < 0)
                return iso_code_to_errno(r);

        if (e->is_dir) {
                if (r > 0 && ISO_NODE_IS_DIR(node)) {
                        node_set_attributes(node, e->mode, e->mtime_usec, 0755);
                        return 0;
                }
                if (r > 0) {
                        r = iso_node_remove(node);
                        if (r < 0)
                                return iso_code_to_errno(r);
                }
                r = iso_tree_add_new_dir(dir, name, (IsoDir **) &node);
                if (r < 0)
                        return log_error_errno(-iso_code_to_errno(r), "Cannot add directory \"%s\": %s",
                                               e->image_path, iso_error_to_msg(r));
                node_set_attributes(node, e->mode, e->mtime_usec, 0755);
                return 0;
        }

        if (r > 0) {
                if (ISO_NODE_IS_DIR(node))
                        return log_error_errno(EISDIR, "Cannot add file \"%s\": a directory of that name "
                                               "exists.", e->image_path);
                /* A file staged again, or one from the previous session: the new one replaces it. */
                r = iso_node_remove(node);
                if (r < 0)
                        return iso_code_to_errno(r);
        }
        r = iso_stash_stream_new(ctx, index, &stream);
        if (r < 0)
                return r;
        r = iso_image_add_new_file(image, dir, name, stream, &file);
        if (r < 0) {
                iso_stream_unref(stream);
                return log_error_errno(-iso_code_to_errno(r), "Cannot add \"%s\": %s", e->image_path,
                                       iso_error_to_msg(r));
        }
        node = (IsoNode *) file;
        node_set_attributes(node, e->mode, e->mtime_usec, 0644);
        iso_node_set_sort_weight(node, sort_weight);
        return 0;
}

static int check_volume_id(const char *id) {
        unsigned depth = 0;
        size_t units = 0;

        if (!id || !*id)
                return 0;
        /* A volume id obeys the rules of one Joliet name, and fits the Joliet descriptor. */
        if (joliet_name_check(id, NULL, &depth) != JOLIET_NAME_OK || depth != 1)
                return log_error_errno(EINVAL, "Invalid volume name \"%s\".", id);
        for (const unsigned char *p = (const unsigned char *) id; *p; p++) {
                if (*p >= 0xF0)
                        return log_error_errno(EINVAL, "Volume name \"%s\" has a character beyond U+FFFF, "
                                               "which a Joliet volume id cannot hold.", id);
                if ((*p & 0xC0) != 0x80)
                        units++;
        }
        if (units > JOLIET_VOLUME_ID_MAX)
                return log_error_errno(EINVAL, "Volume name \"%s\" is longer than %d characters.", id,
                                       JOLIET_VOLUME_ID_MAX);
        return 0;
}

static int check_entries(const IsoSource *src, const IsoOptions *o) {
        for (size_t i = 0; i < src->n; i++) {
                JolietNameError je;
                IsoEntry e;

                src->get(i, &e, src->userdata);
                if (!e.image_path)
                        return log_error_errno(EINVAL, "Entry %zu has no path in the image.", i);
                je = o->adapt_joliet_names ? disc_name_check(e.image_path, NULL, NULL) :
                                             joliet_name_check(e.image_path, NULL, NULL);
                if (je != JOLIET_NAME_OK)
                        return log_error_errno(EINVAL, "Invalid path in the image \"%s\": %s", e.image_path,
                                               joliet_name_error_to_string(je));
                if (!e.is_dir && e.size > ISO_MAX_SINGLE_EXTENT && o->iso_level < 3)
                        return log_error_errno(EFBIG, "\"%s\" is %" PRIu64 " bytes; files of 4 GiB and more "
                                               "need ISO level 3, the image is level %d.", e.image_path,
                                               e.size, o->iso_level);
        }
        return 0;
}


static void build_done(IsoBuild *b) {
        if (b->source) {
                /* cancel() stops libisofs' writer thread and joins it; free_data() then frees the
                 * image stream (and joins the thread itself if it still runs). */
                if (b->started && !b->ended && b->source->cancel)
                        b->source->cancel(b->source);
                if (b->source->free_data)
                        b->source->free_data(b->source);
                free(b->source);
                b->source = NULL;
        }
        if (b->opts)
                iso_write_opts_free(TAKE_PTR(b->opts));
        if (b->image)
                iso_image_unref(TAKE_PTR(b->image));
        b->streams = iso_stash_streams_free(b->streams);
}


/* libisofs gives a directory the time of the moment a node is added to it, as a file system
 * would: the same entries would make another image every second. Every directory touched by
 * this build (at or after `since`) gets the volume's time instead; the explicit ones get their
 * own again afterwards. */
static int dirs_set_time(IsoDir *dir, time_t since, uint64_t usec) {
        _cleanup_(dir_iter_freep) IsoDirIter *it = NULL;
        IsoNode *node;
        int r;

        if (iso_node_get_mtime((IsoNode *) dir) >= since)
                node_set_attributes((IsoNode *) dir, iso_node_get_permissions((IsoNode *) dir), usec, 0755);
        r = iso_dir_get_children(dir, &it);
        if (r < 0)
                return iso_code_to_errno(r);
        while (iso_dir_iter_next(it, &node) == 1)
                if (ISO_NODE_IS_DIR(node)) {
                        r = dirs_set_time((IsoDir *) node, since, usec);
                        if (r < 0)
                                return r;
                }
        return 0;
}

static int dirs_fix_times(IsoImage *image, const IsoSource *src, time_t since, time_t volume_time) {
        int r;

        r = dirs_set_time(iso_image_get_root(image), since, (uint64_t) volume_time * 1000000);
        if (r < 0)
                return r;
        for (size_t i = 0; i < src->n; i++) {
                _cleanup_free_ char *path = NULL;
                IsoNode *node;
                IsoEntry e;

                src->get(i, &e, src->userdata);
                if (!e.is_dir || e.mtime_usec == 0)
                        continue;
                if (asprintf(&path, "/%s", e.image_path + (e.image_path[0] == '/')) < 0)
                        return log_oom();
                if (iso_tree_path_to_node(image, path, &node) == 1 && ISO_NODE_IS_DIR(node))
                        node_set_attributes(node, e.mode, e.mtime_usec, 0755);
        }
        return 0;
}

/* Every entry into the image, in path order. */
static int add_entries(IsoImage *image, IsoStashStreams *streams) {
        const IsoSource *src = iso_stash_streams_source(streams);
        _cleanup_free_ size_t *order = NULL;
        size_t n = src->n;
        int r;

        order = malloc(MAX(n, (size_t) 1) * sizeof(size_t));
        if (!order)
                return log_oom();
        for (size_t i = 0; i < n; i++)
                order[i] = i;
        qsort_r(order, n, sizeof(size_t), compare_entries, (void *) src);
        for (size_t i = 0; i < n; i++) {
                /* Higher weights are written first: data in path order. */
                int weight = (int) MIN(n - i, (size_t) INT32_MAX);

                r = image_add_entry(image, streams, order[i], weight);
                if (r < 0) {
                        (void) iso_flush_messages(iso_image_get_msg_id(image), false);
                        return r;
                }
        }
        /* The order is freed before libisofs lays out its trees, the peak of the build. */
        return 0;
}

/* A name in the root that no entry took: the hidden nodes still need names of their own. */
static int root_free_name(IsoImage *image, const char *stem, const char *ext, char *buf, size_t n) {
        IsoDir *root = iso_image_get_root(image);

        for (unsigned i = 0; i < 1000; i++) {
                IsoNode *node = NULL;
                int r;

                if (i == 0)
                        snprintf(buf, n, "%s.%s", stem, ext);
                else
                        snprintf(buf, n, "%s-%u.%s", stem, i, ext);
                r = iso_dir_get_node(root, buf, &node);
                if (r < 0)
                        return iso_code_to_errno(r);
                if (r == 0)
                        return 0;
        }
        return -EEXIST;
}

/* The boot image, read whole (at most 32 MiB), as a hidden file whose data is written, and the
 * El Torito catalog pointing at it. No boot info table is patched into the image: it goes on the
 * disc as the client gave it. */
static int add_boot(IsoImage *image, const IsoOptions *o) {
        static const enum eltorito_boot_media_type types[] = { ELTORITO_NO_EMUL, ELTORITO_FLOPPY_EMUL,
                                                               ELTORITO_FLOPPY_EMUL, ELTORITO_FLOPPY_EMUL,
                                                               ELTORITO_HARD_DISC_EMUL };
        const int hide = LIBISO_HIDE_ON_RR | LIBISO_HIDE_ON_JOLIET | LIBISO_HIDE_ON_1999;
        char name[32], catalog[32], path[40], catalog_path[40];
        uint8_t id[28] = {};
        ElToritoBootImage *boot = NULL;
        IsoStream *stream = NULL;
        IsoFile *file = NULL;
        unsigned char *buf;
        size_t done = 0;
        int r;

        if (o->boot_emulation >= ELEMENTSOF(types) || o->boot_size > UINT64_C(65535) * 512)
                return log_error_errno(EINVAL, "Invalid boot image options.");
        buf = malloc(o->boot_size);
        if (!buf)
                return log_oom();
        while (done < o->boot_size) {
                ssize_t k = pread(o->boot_fd, buf + done, o->boot_size - done, (off_t) done);

                if (k <= 0) {
                        free(buf);
                        return log_error_errno(k < 0 ? errno : EIO, "Cannot read the boot image: %m");
                }
                done += (size_t) k;
        }
        r = iso_memory_stream_new(buf, o->boot_size, &stream); /* takes buf */
        if (r < 0) {
                free(buf);
                return iso_code_to_errno(r);
        }
        r = root_free_name(image, "boot", "img", name, sizeof name);
        if (r >= 0)
                r = root_free_name(image, "boot", "catalog", catalog, sizeof catalog);
        if (r < 0) {
                iso_stream_unref(stream);
                return r;
        }
        r = iso_image_add_new_file(image, iso_image_get_root(image), name, stream, &file);
        if (r < 0) {
                iso_stream_unref(stream);
                return log_error_errno(-iso_code_to_errno(r), "Cannot add the boot image: %s", iso_error_to_msg(r));
        }
        iso_node_set_hidden((IsoNode *) file, hide | LIBISO_HIDE_BUT_WRITE);
        node_set_attributes((IsoNode *) file, 0444, 0, 0444);
        snprintf(path, sizeof path, "/%s", name);
        snprintf(catalog_path, sizeof catalog_path, "/%s", catalog);
        r = iso_image_set_boot_image(image, path, types[o->boot_emulation], catalog_path, &boot);
        if (r < 0) {
                int q = iso_flush_messages(iso_image_get_msg_id(image), false);

                if (iso_error_get_code(r) == iso_error_get_code((int) ISO_BOOT_IMAGE_NOT_VALID))
                        return log_error_errno(ENOEXEC, "The boot image does not suit %s: %s",
                                               o->boot_emulation == 4 ? "hard-disk emulation" : "floppy emulation",
                                               iso_error_to_msg(r));
                return log_error_errno(q < 0 ? -q : -iso_code_to_errno(r), "Cannot make the image bootable: %s",
                                       iso_error_to_msg(r));
        }
        (void) iso_image_set_boot_catalog_hidden(image, hide);
        if (el_torito_set_boot_platform_id(boot, o->boot_platform) <= 0)
                return log_error_errno(EINVAL, "libisofs refused the boot platform id %u.", o->boot_platform);
        if (o->boot_id) {
                memcpy(id, o->boot_id, MIN(strlen(o->boot_id), (size_t) 24));
                if (el_torito_set_id_string(boot, id) < 0)
                        return log_error_errno(EINVAL, "libisofs refused the boot ID string.");
        }
        /* As mkisofs does without -boot-load-size: the BIOS loads the whole image. */
        if (types[o->boot_emulation] == ELTORITO_NO_EMUL)
                el_torito_set_load_size(boot, (short) (uint16_t) DIV_ROUND_UP(o->boot_size, 512));
        return 0;
}

/* The choices of iso.c, as libisofs' write options. */
static int make_write_opts(const IsoOptions *o, bool estimate_only, IsoWriteOpts **ret) {
        _cleanup_(write_opts_freep) IsoWriteOpts *opts = NULL;
        int r;

        r = iso_write_opts_new(&opts, 0);
        if (r < 0)
                return iso_code_to_errno(r);
        if (iso_write_opts_set_iso_level(opts, o->iso_level) < 0 ||
            iso_write_opts_set_rockridge(opts, o->rock_ridge) < 0 ||
            iso_write_opts_set_joliet(opts, o->joliet) < 0 ||
            iso_write_opts_set_joliet_utf16(opts, 1) < 0 ||
            iso_write_opts_set_joliet_longer_paths(opts, 1) < 0 ||
            iso_write_opts_set_allow_longer_paths(opts, 1) < 0 ||
            iso_write_opts_set_dir_rec_mtime(opts, 7) < 0 ||
            iso_write_opts_set_sort_files(opts, 1) < 0 ||
            /* Rock Ridge 1.10, as mkisofs writes it: PX without a file serial number. libisofs
             * numbers directories in an order that depends on where they lie in memory, and
             * the same entries must give the same image (a second copy, verification); imapid
             * writes no hard links, which is what the numbers are for. */
            iso_write_opts_set_rrip_version_1_10(opts, 1) < 0 ||
            iso_write_opts_set_fifo_size(opts, ISO_FIFO_BLOCKS) < 0 ||
            iso_write_opts_set_will_cancel(opts, estimate_only) < 0)
                return log_error_errno(EINVAL, "libisofs refused the image options.");
        /* Only the new session is produced; after an import it refers to the previous one's
         * data. The head is only of use to a real build. */
        if ((o->read_block && iso_write_opts_set_appendable(opts, 1) < 0) ||
            (o->next_lba > 0 && iso_write_opts_set_ms_block(opts, o->next_lba) < 0) ||
            (o->head && !estimate_only && iso_write_opts_set_overwrite_buf(opts, o->head) < 0))
                return log_error_errno(EINVAL, "libisofs refused the multi-session options.");
        /* Otherwise libisofs stamps the volume with the time the image is generated. */
        if (o->volume_time > 0 &&
            iso_write_opts_set_pvd_times(opts, o->volume_time, o->volume_time, 0, 0, (char *) "") < 0)
                return log_error_errno(EINVAL, "libisofs refused the volume's times.");
        *ret = TAKE_PTR(opts);
        return 0;
}

/* The staged entries, the boot image, and the Joliet names, into an image that holds what
 * was imported; then the times that make the same entries give the same image. */
static int add_everything(IsoImage *image, IsoStashStreams *streams, const IsoOptions *o, IsoImport *imp) {
        time_t since = time(NULL);
        int r;

        r = add_entries(image, streams);
        if (r < 0)
                return r;
        if (o->boot_size > 0) {
                r = add_boot(image, o);
                if (r < 0)
                        return r;
        }
        if (o->read_block && imp) {
                r = iso_import_collect_extents(image, imp);
                if (r < 0)
                        return r;
        }
        /* After the import, so that names of the previous session are adapted alike. */
        if (o->joliet && o->adapt_joliet_names) {
                r = iso_adapt_joliet_names(image);
                if (r < 0)
                        return r;
        }
        /* Last, after every node that adding may have stamped with the clock (the boot image,
         * the Joliet twins). */
        if (o->volume_time > 0)
                return dirs_fix_times(image, iso_stash_streams_source(streams), since, o->volume_time);
        return 0;
}

/* libisofs keeps process-wide state without a lock:
 * - every directory iterator of the process is in one list (node.c, iter_reg):
 *   iso_dir_get_children() and iso_dir_iter_free() change it, and removing a node walks it. Our
 *   walks of a tree do that, and so do libisofs' own in iso_image_import() and
 *   iso_image_create_burn_source();
 * - every image holds a reference on one local file system object (fs_local.c, lfs), counted
 *   without atomics: iso_image_new() takes it and the image's last unref drops it.
 * Two images built or freed at once (one per recorder of a burn to several, or a verification's
 * regenerated image beside a burn) corrupted either and crashed imapid. So building and freeing
 * take turns: a build holds the lock up to where libisofs' writer thread has the image, which
 * walks its own copy of the tree, and iso_build_done() holds it while it frees the image. */
static pthread_mutex_t build_lock = PTHREAD_MUTEX_INITIALIZER;

static int build_image(const IsoSource *src, const IsoOptions *o, bool estimate_only, IsoImport *imp,
                       IsoBuild *ret) {
        IsoImport ignored = {};
        /* Declared before the image, so freed after it. */
        _cleanup_(iso_stash_streams_freep) IsoStashStreams *streams = NULL;
        _cleanup_(image_unrefp) IsoImage *image = NULL;
        _cleanup_(write_opts_freep) IsoWriteOpts *opts = NULL;
        struct burn_source *source = NULL;
        const char *vol = o->volume_id ?: "";
        int imgid, r;

        if (o->iso_level < 1 || o->iso_level > 3)
                return log_error_errno(EINVAL, "Invalid ISO level %d (1..3).", o->iso_level);
        if (src->n > 0 && (!src->get || !src->open))
                return -EINVAL;
        r = check_volume_id(o->volume_id);
        if (r < 0)
                return r;
        r = check_entries(src, o);
        if (r < 0)
                return r;

        r = iso_stash_streams_new(src, &streams);
        if (r < 0)
                return r;

        r = iso_image_new(vol, &image);
        if (r < 0)
                return iso_code_to_errno(r);

        if (o->head && o->next_lba < 32)
                return log_error_errno(EINVAL, "A session after a head must start at block 32 or later.");
        if (o->read_block) {
                r = iso_import_previous(image, o);
                if (r < 0)
                        return r;
                r = iso_import_prune(image, o, imp ?: &ignored);
                iso_import_done(&ignored);
                if (r < 0)
                        return r;
                /* The previous session brings its own name; the new one is given, or kept. */
                if (o->volume_id) {
                        iso_image_set_volume_id(image, vol);
                        iso_image_set_volset_id(image, vol);
                }
        }
        iso_image_set_application_id(image, "IMAPID " PACKAGE_VERSION);

        r = add_everything(image, streams, o, imp);
        if (r < 0)
                return r;

        r = make_write_opts(o, estimate_only, &opts);
        if (r < 0)
                return r;

        r = iso_image_create_burn_source(image, opts, &source);
        if (r < 0) {
                int q = iso_flush_messages(iso_image_get_msg_id(image), false);

                return log_error_errno(q < 0 ? -q : -iso_code_to_errno(r), "Cannot lay out the image: %s",
                                       iso_error_to_msg(r));
        }

        /* The message id first: the order of evaluation inside an initializer is unspecified. */
        imgid = iso_image_get_msg_id(image);
        *ret = (IsoBuild) {
                .streams = TAKE_PTR(streams),
                .imgid = imgid,
                .image = TAKE_PTR(image),
                .opts = TAKE_PTR(opts),
                .source = source,
                .blocks = (uint64_t) source->get_size(source) / ISO_BLOCK,
                .started = !estimate_only,
        };
        return 0;
}

int iso_build_image(const IsoSource *src, const IsoOptions *o, bool estimate_only, IsoImport *imp,
                    IsoBuild *ret) {
        int r;

        pthread_mutex_lock(&build_lock);
        r = build_image(src, o, estimate_only, imp, ret);
        pthread_mutex_unlock(&build_lock);
        return r;
}

void iso_build_done(IsoBuild *b) {
        pthread_mutex_lock(&build_lock);
        build_done(b);
        pthread_mutex_unlock(&build_lock);
}

int iso_build_estimate(const IsoSource *src, const IsoOptions *o, uint64_t *ret_blocks) {
        IsoBuild b = {};
        uint64_t blocks;
        int r;

        r = iso_build_image(src, o, true, NULL, &b);
        if (r < 0) {
                /* Whatever libisofs said about it has been logged; don't leave it for the next. */
                (void) iso_flush_messages(-1, false);
                return r;
        }
        blocks = b.blocks;
        iso_build_done(&b);
        (void) iso_flush_messages(-1, false);
        *ret_blocks = blocks;
        return 0;
}
