/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Runs a libFuzzer target over files and directories of inputs, for compilers without
 * -fsanitize=fuzzer: every checked-in corpus input is then a regression test in `meson test`.
 */

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(int dir_fd, const char *name) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ uint8_t *buf = NULL;
        struct stat st;
        size_t done = 0;

        fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0) {
                fprintf(stderr, "%s: %m\n", name);
                return -errno;
        }
        buf = malloc(st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        while (done < (size_t) st.st_size) {
                ssize_t n = read(fd, buf + done, st.st_size - done);

                if (n < 0) {
                        fprintf(stderr, "%s: %m\n", name);
                        return -errno;
                }
                if (n == 0)
                        break;
                done += n;
        }
        (void) LLVMFuzzerTestOneInput(buf, done);
        return 1;
}

int main(int argc, char *argv[]) {
        unsigned n = 0;

        for (int i = 1; i < argc; i++) {
                struct stat st;

                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "%s: %m\n", argv[i]);
                        return EXIT_FAILURE;
                }
                if (S_ISDIR(st.st_mode)) {
                        DIR *d = opendir(argv[i]);
                        struct dirent *de;

                        if (!d) {
                                fprintf(stderr, "%s: %m\n", argv[i]);
                                return EXIT_FAILURE;
                        }
                        while ((de = readdir(d))) {
                                if (de->d_name[0] == '.')
                                        continue;
                                if (run_file(dirfd(d), de->d_name) < 0) {
                                        closedir(d);
                                        return EXIT_FAILURE;
                                }
                                n++;
                        }
                        closedir(d);
                } else {
                        if (run_file(AT_FDCWD, argv[i]) < 0)
                                return EXIT_FAILURE;
                        n++;
                }
        }
        printf("%u inputs ran\n", n);
        /* An empty corpus proves nothing: fail rather than pass silently. */
        return n > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
