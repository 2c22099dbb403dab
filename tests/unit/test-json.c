/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* client/json.c: the keys' style, and the writer's output. */

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "macro.h"
#include "tap.h"

int main(void) {
        static const char *const names[][2] = {
                { "WriteSpeed", "write_speed" },
                { "MaxWriteSpeed", "max_write_speed" },
                { "AudioGapSize", "audio_gap_size" },
                { "EnableBufferUnderrunFree", "enable_buffer_underrun_free" },
                { "BufferUnderrunFreeCapable", "buffer_underrun_free_capable" },
                { "already_snake", "already_snake" },
                { "Speed2X", "speed2_x" },
        };
        char key[64], *text = NULL;
        size_t size = 0;
        FILE *f;

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                json_key_from_name(names[i][0], key, sizeof key);
                CHECK(streq(key, names[i][1]), "%s is %s (got %s)", names[i][0], names[i][1], key);
        }
        json_key_from_name("EnableBufferUnderrunFree", key, 8);
        CHECK(strlen(key) < 8, "a short buffer is not overrun: '%s'", key);

        f = open_memstream(&text, &size);
        JsonWriter w = { .f = f };
        json_begin_object(&w, NULL);
        json_string(&w, "a", "x\"y");
        json_null(&w, "b");
        json_double(&w, "c", 0.0 / 0.0);
        json_begin_array(&w, "d");
        json_uint(&w, NULL, 1);
        json_int(&w, NULL, -2);
        json_end_array(&w);
        json_end_object(&w);
        json_finish(&w);
        fclose(f);
        CHECK(streq(text, "{\"a\":\"x\\\"y\",\"b\":null,\"c\":null,\"d\":[1,-2]}\n"), "document: %s", text);
        free(text);
        return tap_done();
}
