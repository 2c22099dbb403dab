/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* JSON output for scripts: one document per line (or per event with --json progress). */

#include <math.h>
#include <stdbool.h>

#include "json.h"

static void json_escaped(FILE *f, const char *s);

static void json_key(JsonWriter *w, const char *key) {
        if (w->depth > 0 && w->need_comma[w->depth])
                fputc(',', w->f);
        if (w->depth > 0)
                w->need_comma[w->depth] = true;
        if (key) {
                json_escaped(w->f, key);
                fputc(':', w->f);
        }
}

static void json_escaped(FILE *f, const char *s) {
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) (s ?: ""); *p; p++) {
                if (*p == '"' || *p == '\\')
                        fprintf(f, "\\%c", *p);
                else if (*p < 0x20)
                        fprintf(f, "\\u%04x", *p);
                else
                        fputc(*p, f);
        }
        fputc('"', f);
}

void json_begin_object(JsonWriter *w, const char *key) {
        json_key(w, key);
        fputc('{', w->f);
        w->depth++;
        w->need_comma[w->depth] = false;
}

void json_end_object(JsonWriter *w) {
        fputc('}', w->f);
        w->depth--;
}

void json_begin_array(JsonWriter *w, const char *key) {
        json_key(w, key);
        fputc('[', w->f);
        w->depth++;
        w->need_comma[w->depth] = false;
}

void json_end_array(JsonWriter *w) {
        fputc(']', w->f);
        w->depth--;
}

void json_string(JsonWriter *w, const char *key, const char *value) {
        json_key(w, key);
        json_escaped(w->f, value);
}

void json_int(JsonWriter *w, const char *key, int64_t value) {
        json_key(w, key);
        fprintf(w->f, "%lld", (long long) value);
}

void json_uint(JsonWriter *w, const char *key, uint64_t value) {
        json_key(w, key);
        fprintf(w->f, "%llu", (unsigned long long) value);
}

void json_double(JsonWriter *w, const char *key, double value) {
        json_key(w, key);
        if (isfinite(value))
                fprintf(w->f, "%.6g", value);
        else
                fputs("null", w->f);
}

void json_bool(JsonWriter *w, const char *key, bool value) {
        json_key(w, key);
        fputs(value ? "true" : "false", w->f);
}

void json_null(JsonWriter *w, const char *key) {
        json_key(w, key);
        fputs("null", w->f);
}

char *json_key_from_name(const char *name, char *buf, size_t size) {
        size_t n = 0;

        if (size == 0)
                return buf;
        for (const char *c = name; *c && n + 2 < size; c++) {
                bool upper = *c >= 'A' && *c <= 'Z';
                bool after_word = c > name && ((c[-1] >= 'a' && c[-1] <= 'z') || (c[-1] >= '0' && c[-1] <= '9'));
                /* The last capital of a run before a lower-case letter starts a word ("HTTPServer"). */
                bool ends_run = c > name && c[-1] >= 'A' && c[-1] <= 'Z' && c[1] >= 'a' && c[1] <= 'z';

                if (upper && (after_word || ends_run))
                        buf[n++] = '_';
                buf[n++] = upper ? (char) (*c - 'A' + 'a') : *c;
        }
        buf[n] = 0;
        return buf;
}

void json_finish(JsonWriter *w) {
        fputc('\n', w->f);
        fflush(w->f);
}
