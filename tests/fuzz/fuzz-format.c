/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzzes the disc master formats as clients name them: SetActiveDiscMasterFormat's string
 * (core/master.c's parser, included as it is) and what EnumDiscMasterFormats and
 * GetActiveDiscMasterFormat answer. The input is the string. Invariants, against a model written
 * apart: a string is taken exactly when it is "joliet", "redbook" or "image" or one of the three
 * IIDs, in any case, an IID with or without its braces; it then selects that format; everything
 * else is refused (MASTER_FORMAT_NONE, which master_set_format() turns into E_INVALIDARG). Each
 * format's IID and name, as the bus reports them, parse back to the format, and
 * EnumDiscMasterFormats lists each format once.
 */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/master.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
        const char *name, *iid;
        MasterFormat format;
} model[] = {
        { "joliet", IMAPI_IID_IJOLIETDISCMASTER, MASTER_FORMAT_JOLIET },
        { "redbook", IMAPI_IID_IREDBOOKDISCMASTER, MASTER_FORMAT_REDBOOK },
        { "image", IMAPI_IID_IIMAGEDISCMASTER, MASTER_FORMAT_IMAGE },
};

/* ASCII only, as the locale of a daemon is no business of a client's string. */
static char ascii_tolower_(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
}

static bool same_ignoring_case(const char *a, size_t n, const char *b) {
        if (strlen(b) != n)
                return false;
        for (size_t i = 0; i < n; i++)
                if (ascii_tolower_(a[i]) != ascii_tolower_(b[i]))
                        return false;
        return true;
}

static MasterFormat model_parse(const char *s) {
        size_t n = strlen(s);

        for (size_t i = 0; i < ELEMENTSOF(model); i++) {
                if (same_ignoring_case(s, n, model[i].name) || same_ignoring_case(s, n, model[i].iid))
                        return model[i].format;
                if (n == strlen(model[i].iid) + 2 && s[0] == '{' && s[n - 1] == '}' &&
                    same_ignoring_case(s + 1, n - 2, model[i].iid))
                        return model[i].format;
        }
        return MASTER_FORMAT_NONE;
}

static void check_reported_names(void) {
        size_t n = 0;

        for (size_t i = 0; i < ELEMENTSOF(model); i++) {
                if (parse_format(master_format_to_iid(model[i].format)) != model[i].format ||
                    parse_format(master_format_to_name(model[i].format)) != model[i].format)
                        abort();
        }
        for (const char *const *iid = master_format_iids; *iid; iid++, n++)
                if (parse_format(*iid) == MASTER_FORMAT_NONE)
                        abort();
        if (n != ELEMENTSOF(model))
                abort();
        for (size_t i = 0; i < n; i++)
                for (size_t j = i + 1; j < n; j++)
                        if (parse_format(master_format_iids[i]) == parse_format(master_format_iids[j]))
                                abort();
        if (parse_format("") != MASTER_FORMAT_NONE || *master_format_to_iid(MASTER_FORMAT_NONE) != 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static bool checked = false;
        _cleanup_free_ char *s = NULL;

        if (!checked) {
                check_reported_names();
                checked = true;
        }
        /* A D-Bus string: no NUL inside (sd-bus refuses one before a handler runs). */
        if (memchr(data, 0, size))
                return 0;
        s = strndup((const char *) data, size);
        if (!s)
                return 0;
        if (parse_format(s) != model_parse(s))
                abort();
        return 0;
}
