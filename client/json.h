/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A minimal JSON writer for --json output: objects, arrays, strings and numbers. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>

typedef struct JsonWriter {
        FILE *f;
        unsigned depth;
        bool need_comma[32];
} JsonWriter;

void json_begin_object(JsonWriter *w, const char *key);
void json_end_object(JsonWriter *w);
void json_begin_array(JsonWriter *w, const char *key);
void json_end_array(JsonWriter *w);
void json_string(JsonWriter *w, const char *key, const char *value);
void json_int(JsonWriter *w, const char *key, int64_t value);
void json_uint(JsonWriter *w, const char *key, uint64_t value);
void json_double(JsonWriter *w, const char *key, double value);
void json_bool(JsonWriter *w, const char *key, bool value);
void json_null(JsonWriter *w, const char *key);
/* A D-Bus or IMAPI name in the keys' style: WriteSpeed is write_speed (imapictl(1), JSON). */
char *json_key_from_name(const char *name, char *buf, size_t size);
/* Ends the document with a newline. */
void json_finish(JsonWriter *w);
