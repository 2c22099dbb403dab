/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzzes joliet_name_check() with arbitrary bytes as a client-supplied path. Invariants: an
 * accepted path's normalized form is accepted again, unchanged (a fixed point), with the same
 * depth; it never starts with "/" and has depth-1 separators; a refused path leaves the outputs
 * untouched; every verdict has a sentence.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jolietname.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
