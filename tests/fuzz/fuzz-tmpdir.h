/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A temporary folder for the targets that need files (a stash, an image file), removed with
 * everything in it when the target exits. */
#pragma once

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char *fuzz_tmpdir_path;

static int fuzz_tmpdir_remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        (void) remove(path);
        return 0;
}

static void fuzz_tmpdir_remove(void) {
        if (fuzz_tmpdir_path)
                (void) nftw(fuzz_tmpdir_path, fuzz_tmpdir_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* template as mkdtemp() takes it; aborts when it cannot be made. */
static inline void fuzz_tmpdir_make(char *template) {
        if (!mkdtemp(template))
                abort();
        fuzz_tmpdir_path = template;
        atexit(fuzz_tmpdir_remove);
}
