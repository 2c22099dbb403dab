/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The names of `imapictl burn`, checked and their Joliet adaptations reported (see names.h). */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "json.h"
#include "jolietname.h"
#include "macro.h"
#include "names.h"

/* The summary names this many examples; --verbose all. */
#define NAMES_SHOWN 3

struct NameList {
        bool strict;
        char **paths;
        size_t n, allocated;
};

NameList *name_list_new(bool strict) {
        NameList *l = calloc(1, sizeof(NameList));

        if (l)
                l->strict = strict;
        return l;
}

NameList *name_list_free(NameList *l) {
        if (!l)
                return NULL;
        for (size_t i = 0; i < l->n; i++)
                free(l->paths[i]);
        free(l->paths);
        free(l);
        return NULL;
}

int name_list_add(NameList *l, const char *path) {
        JolietNameError e;
        char *copy;

        e = l->strict ? joliet_name_check(path, NULL, NULL) : disc_name_check(path, NULL, NULL);
        if (e != JOLIET_NAME_OK) {
                fprintf(stderr, "imapictl: '%s' cannot be a name on the disc: %s%s; nothing was staged.\n", path,
                        joliet_name_error_to_string(e), l->strict ? " (--strict-names)" : "");
                return CTL_EXIT_USAGE;
        }
        if (l->n == l->allocated) {
                size_t a = l->allocated ? l->allocated * 2 : 256;
                char **p = reallocarray(l->paths, a, sizeof(char *));

                if (!p)
                        goto oom;
                l->paths = p;
                l->allocated = a;
        }
        copy = strdup(path);
        if (!copy)
                goto oom;
        l->paths[l->n++] = copy;
        return 0;
oom:
        fprintf(stderr, "imapictl: %s\n", strerror(ENOMEM));
        return CTL_EXIT_FAILED;
}

int name_list_report(NameList *l, bool verbose, bool json) {
        JolietAdaptation *a = NULL;
        size_t n = 0;

        /* Strict: every name was checked to be a Joliet name as it is. */
        if (!l->strict && joliet_tree_adapt((const char *const *) l->paths, l->n, &a, &n) < 0) {
                fprintf(stderr, "imapictl: %s\n", strerror(ENOMEM));
                return CTL_EXIT_FAILED;
        }
        /* Nothing to say when every name is kept: scripts see the output they always did. */
        if (json && n > 0) {
                JsonWriter w = { .f = stdout };

                json_begin_object(&w, NULL);
                json_string(&w, "event", "names");
                json_bool(&w, "strict", l->strict);
                json_uint(&w, "adapted", n);
                json_begin_array(&w, "names");
                for (size_t i = 0; i < n; i++) {
                        json_begin_object(&w, NULL);
                        json_string(&w, "path", a[i].path);
                        json_string(&w, "joliet_path", a[i].joliet_path);
                        json_end_object(&w);
                }
                json_end_array(&w);
                json_end_object(&w);
                json_finish(&w);
        } else if (!json && n > 0) {
                size_t shown = verbose ? n : MIN(n, (size_t) NAMES_SHOWN);

                fprintf(stderr, "imapictl: %zu %s adapted for Windows, which reads the Joliet tree; Linux "
                        "reads every name as it is (Rock Ridge)%s:\n", n, n == 1 ? "name is" : "names are",
                        shown < n ? ", for example" : "");
                for (size_t i = 0; i < shown; i++)
                        fprintf(stderr, "  %s -> %s\n", a[i].path, a[i].joliet_path);
                if (shown < n)
                        fprintf(stderr, "  ... and %zu more (--verbose lists them all; --strict-names refuses "
                                "them instead).\n", n - shown);
        }
        fflush(stdout);
        joliet_adaptations_free(a, n);
        return 0;
}
