/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The memory floor of an image build: a bare libisofs program.
 *
 *   isofs-floor [--iso-level=N] TREE...
 *
 * Builds an image of the TREEs (each a folder of the image's root named after it, as imapictl
 * burn TREE... makes them) with libisofs alone, with the options imapid writes (ISO level 2 by
 * default, Rock Ridge, Joliet with UTF-16 and longer paths, directory mtimes, data sorted, a
 * 512 KiB FIFO, as imapid's) and
 * reads the whole image out of libisofs' burn source into nothing, as a writer to /dev/null
 * would. Prints one JSON object: {"seconds": S, "bytes": N, "files": F, "vmhwm_kib": K}.
 *
 * libisofs keeps a node (and a stream) per file for the whole build: that is the least memory
 * any program writing this tree through libisofs needs, so bench/run compares imapid's peak
 * RSS with this program's.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* struct burn_source, which libisofs hands its image out through, is libburn's. */
#include <libburn/libburn.h>
#include <libisofs/libisofs.h>

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static long count_files(IsoDir *dir) {
        IsoDirIter *it = NULL;
        IsoNode *node;
        long n = 0;

        if (iso_dir_get_children(dir, &it) < 0)
                return 0;
        while (iso_dir_iter_next(it, &node) == 1)
                n += iso_node_get_type(node) == LIBISO_DIR ? count_files((IsoDir *) node) : 1;
        iso_dir_iter_free(it);
        return n;
}

/* The peak RSS of this program since its exec (getrusage() would count the pages of the
 * process it was forked from). */
static long vmhwm_kib(void) {
        char line[256];
        long kib = -1;
        FILE *f = fopen("/proc/self/status", "re");

        if (!f)
                return -1;
        while (fgets(line, sizeof line, f))
                if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
                        break;
        fclose(f);
        return kib;
}

static int set_options(IsoWriteOpts *opts, int level) {
        if (iso_write_opts_set_iso_level(opts, level) < 0 || iso_write_opts_set_rockridge(opts, 1) < 0 ||
            iso_write_opts_set_joliet(opts, 1) < 0 || iso_write_opts_set_joliet_utf16(opts, 1) < 0 ||
            iso_write_opts_set_joliet_longer_paths(opts, 1) < 0 ||
            iso_write_opts_set_allow_longer_paths(opts, 1) < 0 || iso_write_opts_set_dir_rec_mtime(opts, 7) < 0 ||
            iso_write_opts_set_sort_files(opts, 1) < 0 ||
            iso_write_opts_set_fifo_size(opts, 256) < 0)   /* 512 KiB, as imapid's */
                return -EINVAL;
        return 0;
}

int main(int argc, char *argv[]) {
        static char buf[64 * 2048];
        struct burn_source *src = NULL;
        IsoWriteOpts *opts = NULL;
        IsoImage *image = NULL;
        const char *trees[64];
        size_t n_trees = 0;
        unsigned long long bytes = 0;
        int level = 2, r, k;
        long files;
        double t0;

        for (int i = 1; i < argc; i++)
                if (strncmp(argv[i], "--iso-level=", 12) == 0)
                        level = atoi(argv[i] + 12);
                else if (argv[i][0] != '-' && n_trees < sizeof trees / sizeof trees[0])
                        trees[n_trees++] = argv[i];
                else {
                        fprintf(stderr, "usage: %s [--iso-level=N] TREE...\n", argv[0]);
                        return EXIT_FAILURE;
                }
        if (n_trees == 0 || level < 1 || level > 3) {
                fprintf(stderr, "usage: %s [--iso-level=1..3] TREE...\n", argv[0]);
                return EXIT_FAILURE;
        }

        t0 = now();
        r = iso_init();
        if (r >= 0 && iso_set_local_charset((char *) "UTF-8", 0) <= 0)
                r = -1;
        if (r >= 0)
                r = iso_image_new("FLOOR", &image);
        if (r >= 0) {
                iso_tree_set_follow_symlinks(image, 0);
                iso_tree_set_ignore_hidden(image, 0);
        }
        for (size_t i = 0; r >= 0 && i < n_trees; i++) {
                const char *base = strrchr(trees[i], '/') ? strrchr(trees[i], '/') + 1 : trees[i];
                IsoDir *dir = NULL;

                r = iso_tree_add_new_dir(iso_image_get_root(image), base, &dir);
                if (r >= 0)
                        r = iso_tree_add_dir_rec(image, dir, trees[i]);
        }
        if (r >= 0)
                r = iso_write_opts_new(&opts, 0);
        if (r >= 0)
                r = set_options(opts, level);
        if (r >= 0)
                r = iso_image_create_burn_source(image, opts, &src);
        if (r < 0) {
                fprintf(stderr, "isofs-floor: cannot build the image (libisofs 0x%x)\n", (unsigned) r);
                return EXIT_FAILURE;
        }
        files = count_files(iso_image_get_root(image));
        while ((k = src->read_xt(src, (unsigned char *) buf, (int) sizeof buf)) > 0)
                bytes += (unsigned long long) k;
        if (k < 0) {
                fprintf(stderr, "isofs-floor: writing the image failed\n");
                return EXIT_FAILURE;
        }
        printf("{\"seconds\": %.3f, \"bytes\": %llu, \"files\": %ld, \"vmhwm_kib\": %ld}\n", now() - t0, bytes,
               files, vmhwm_kib());
        src->free_data(src);
        free(src);
        iso_write_opts_free(opts);
        iso_image_unref(image);
        iso_finish();
        return EXIT_SUCCESS;
}
