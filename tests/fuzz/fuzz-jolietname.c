/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzzes joliet_name_check() with arbitrary bytes as a client-supplied path. Invariants: an
 * accepted path's normalized form is accepted again, unchanged (a fixed point), with the same
 * depth; it never starts with "/" and has depth-1 separators; a refused path leaves the outputs
 * untouched; every verdict has a sentence.
 *
 * And the adaptation of names for the Joliet tree: a path that disc_name_check() accepts (every
 * path joliet_name_check() accepts must be) has its components adapted as the names of one
 * folder, and the path itself through joliet_tree_adapt(). Every Joliet name that comes out is
 * one joliet_name_check() accepts as a component, holds none of " < > |, does not end in "." or
 * space, is unique in its folder even ignoring ASCII case, and a second adaptation keeps it as
 * it is (a fixed point).
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jolietname.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_joliet_component(const char *name) {
        size_t len = strlen(name);

        if (joliet_name_check(name, NULL, NULL) != JOLIET_NAME_OK || strchr(name, '/') ||
            strpbrk(name, "\"<>|") || len == 0 || name[len - 1] == '.' || name[len - 1] == ' ' ||
            !joliet_component_is_windows_legal(name))
                abort();
}

static bool same_ignoring_ascii_case(const char *a, const char *b) {
        for (; *a && *b; a++, b++)
                if ((*a >= 'a' && *a <= 'z' ? *a - 32 : *a) != (*b >= 'a' && *b <= 'z' ? *b - 32 : *b))
                        return false;
        return *a == *b;
}

/* The components of an accepted path, as the children of one folder. */
static void check_adapt_folder(const char *normalized) {
        _cleanup_free_ char *copy = strdup(normalized);
        const char *names[64];
        char *joliet[64], *again[64];
        const char *out[64];
        size_t n = 0;

        if (!copy)
                return;
        for (char *save = NULL, *c = strtok_r(copy, "/", &save); c && n < ELEMENTSOF(names);
             c = strtok_r(NULL, "/", &save)) {
                bool dup = false;

                for (size_t i = 0; i < n; i++)
                        dup = dup || streq(names[i], c);
                if (!dup)
                        names[n++] = c;
        }
        if (joliet_dir_adapt(names, n, joliet) < 0)
                return;
        for (size_t i = 0; i < n; i++) {
                out[i] = joliet[i] ?: names[i];
                check_joliet_component(out[i]);
                for (size_t j = 0; j < i; j++)
                        if (same_ignoring_ascii_case(out[i], out[j]))
                                abort();
        }
        if (joliet_dir_adapt(out, n, again) == 0)
                for (size_t i = 0; i < n; i++)
                        if (again[i])
                                abort();
        for (size_t i = 0; i < n; i++)
                free(joliet[i]);
}

static void check_adapt_tree(const char *normalized) {
        JolietAdaptation *a = NULL;
        size_t n = 0;

        if (joliet_tree_adapt(&normalized, 1, &a, &n) < 0)
                return;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *jp = strdup(a[i].joliet_path);
                size_t components = 0;

                if (!jp)
                        break;
                /* The adapted path is as deep as the staged one, a prefix of the input. */
                if (strncmp(normalized, a[i].path, strlen(a[i].path)) != 0)
                        abort();
                for (char *save = NULL, *c = strtok_r(jp, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                        check_joliet_component(c);
                        components++;
                }
                for (const char *p = a[i].path; *p; p++)
                        components -= *p == '/';
                if (components != 1)
                        abort();
        }
        joliet_adaptations_free(a, n);
}

static void check_adapt(const char *path, JolietNameError strict) {
        _cleanup_free_ char *normalized = NULL;
        JolietNameError e = disc_name_check(path, &normalized, NULL);

        if (!joliet_name_error_to_string(e))
                abort();
        /* What Joliet holds as it is, every tree holds. */
        if (strict == JOLIET_NAME_OK && e != JOLIET_NAME_OK)
                abort();
        if (e != JOLIET_NAME_OK || !normalized)
                return;
        check_adapt_folder(normalized);
        check_adapt_tree(normalized);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *path = NULL, *normalized = NULL, *again = NULL;
        char *sentinel = (char *) "sentinel";
        unsigned depth = 0, depth2 = 0, separators = 0;
        JolietNameError e;

        /* Paths arrive as D-Bus strings: NUL-terminated, so an embedded NUL ends the path. */
        path = malloc(size + 1);
        if (!path)
                return 0;
        memcpy(path, data, size);
        path[size] = '\0';

        normalized = sentinel;
        depth = 4242;
        e = joliet_name_check(path, &normalized, &depth);
        if (!joliet_name_error_to_string(e))
                abort();
        check_adapt(path, e);
        if (e != JOLIET_NAME_OK) {
                if (normalized != sentinel || depth != 4242)
                        abort();
                normalized = NULL;
                return 0;
        }
        if (!normalized)
                return 0; /* out of memory */

        if (normalized[0] == '/' || depth < 1 || depth > JOLIET_MAX_DEPTH)
                abort();
        for (const char *p = normalized; *p; p++)
                if (*p == '/')
                        separators++;
        if (separators + 1 != depth)
                abort();
        /* Normalizing only ever drops the one leading "/". */
        if (!streq(normalized, path + (path[0] == '/')))
                abort();

        if (joliet_name_check(normalized, &again, &depth2) != JOLIET_NAME_OK)
                abort();
        if (!again)
                return 0;
        if (!streq(again, normalized) || depth2 != depth)
                abort();
        return 0;
}
