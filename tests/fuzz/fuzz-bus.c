/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* See fuzz-bus.h. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz-bus.h"
#include "macro.h"

uint8_t fuzz_byte(FuzzInput *in) {
        uint8_t b;

        if (in->size == 0)
                return 0;
        b = in->data[0];
        in->data++;
        in->size--;
        return b;
}

static uint64_t fuzz_u64(FuzzInput *in) {
        uint64_t v = 0;

        for (unsigned i = 0; i < 8; i++)
                v |= (uint64_t) fuzz_byte(in) << (8 * i);
        return v;
}

/* A length byte, then that many bytes; an embedded NUL ends the string, as in D-Bus. */
static char *fuzz_string(FuzzInput *in) {
        size_t n = fuzz_byte(in);
        char *s;

        n = MIN(n, in->size);   /* MIN() evaluates its arguments twice */
        s = strndup((const char *) in->data, n);

        in->data += n;
        in->size -= n;
        return s;
}

sd_bus *fuzz_bus(void) {
        static sd_bus *bus = NULL;
        int fds[2];

        if (bus)
                return bus;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
                abort();
        if (sd_bus_new(&bus) < 0 || sd_bus_set_fd(bus, fds[0], fds[0]) < 0 || sd_bus_start(bus) < 0)
                abort();
        /* fds[1] stays open so that the start's AUTH has somewhere to go. */
        return bus;
}

/* One variant's type and value. */
static int append_variant(sd_bus_message *m, FuzzInput *in, unsigned depth) {
        static const char types[] = "bynqiuxtdsogv";
        _cleanup_free_ char *s = NULL;
        uint8_t t = fuzz_byte(in);
        uint64_t v;
        char sig[2];
        int r;

        /* Containers: an array of strings or ints, a struct, a nested variant. */
        switch (t % (sizeof(types) - 1 + 3)) {
        case sizeof(types) - 1:
                s = fuzz_string(in);
                if (!s)
                        return -ENOMEM;
                return sd_bus_message_append(m, "v", "as", 2, s, "");
        case sizeof(types):
                return sd_bus_message_append(m, "v", "ai", 2, (int32_t) fuzz_u64(in), (int32_t) fuzz_u64(in));
        case sizeof(types) + 1:
                s = fuzz_string(in);
                if (!s)
                        return -ENOMEM;
                return sd_bus_message_append(m, "v", "(is)", (int32_t) fuzz_u64(in), s);
        }

        sig[0] = types[t % (sizeof(types) - 1)];
        sig[1] = 0;
        if (sig[0] == 'v') {
                if (depth >= 3)
                        return sd_bus_message_append(m, "v", "s", "deep");
                r = sd_bus_message_open_container(m, 'v', "v");
                if (r < 0)
                        return r;
                r = append_variant(m, in, depth + 1);
                if (r < 0)
                        return r;
                return sd_bus_message_close_container(m);
        }
        r = sd_bus_message_open_container(m, 'v', sig);
        if (r < 0)
                return r;
        switch (sig[0]) {
        case 's':
        case 'o':
        case 'g':
                s = fuzz_string(in);
                if (!s)
                        return -ENOMEM;
                r = sd_bus_message_append_basic(m, sig[0], s);
                break;
        case 'b': {
                int b = fuzz_byte(in) & 1;

                r = sd_bus_message_append_basic(m, 'b', &b);
                break;
        }
        case 'd': {
                double d;

                v = fuzz_u64(in);
                memcpy(&d, &v, sizeof(d));
                r = sd_bus_message_append_basic(m, 'd', &d);
                break;
        }
        default:
                /* Integers: sd-bus takes the low bytes of the width the type has. */
                v = fuzz_u64(in);
                switch (sig[0]) {
                case 'y': { uint8_t x = v; r = sd_bus_message_append_basic(m, 'y', &x); break; }
                case 'n': { int16_t x = v; r = sd_bus_message_append_basic(m, 'n', &x); break; }
                case 'q': { uint16_t x = v; r = sd_bus_message_append_basic(m, 'q', &x); break; }
                case 'i': { int32_t x = v; r = sd_bus_message_append_basic(m, 'i', &x); break; }
                case 'u': { uint32_t x = v; r = sd_bus_message_append_basic(m, 'u', &x); break; }
                default: r = sd_bus_message_append_basic(m, sig[0], &v); break;
                }
        }
        if (r < 0)
                return r;
        return sd_bus_message_close_container(m);
}

int fuzz_bus_options(FuzzInput *in, const char *const *keys, size_t n_keys, sd_bus_message **ret,
                     size_t *ret_n_entries) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        size_t n = 0;
        int r;

        *ret = NULL;
        *ret_n_entries = 0;
        r = sd_bus_message_new_method_call(fuzz_bus(), &m, "org.imapid.Imapi1", "/org/imapid/Imapi1",
                                           "org.imapid.Fuzz", "Fuzz");
        if (r < 0)
                abort();
        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r < 0)
                abort();
        /* At most 64 entries: more only repeat what the dictionary's loop already does. */
        while (in->size > 0 && n < 64) {
                uint8_t k = fuzz_byte(in);
                _cleanup_free_ char *custom = NULL;
                const char *key;

                if (k % (n_keys + 1) < n_keys)
                        key = keys[k % (n_keys + 1)];
                else {
                        custom = fuzz_string(in);
                        if (!custom)
                                return -ENOMEM;
                        key = custom;
                }
                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r < 0)
                        abort();
                r = sd_bus_message_append_basic(m, 's', key);
                if (r < 0)
                        return 0;       /* not UTF-8: no such message reaches the daemon */
                r = append_variant(m, in, 0);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return 0;
                r = sd_bus_message_close_container(m);
                if (r < 0)
                        abort();
                n++;
        }
        r = sd_bus_message_close_container(m);
        if (r < 0)
                abort();
        r = sd_bus_message_seal(m, 1, 0);
        if (r < 0)
                abort();
        *ret = TAKE_PTR(m);
        *ret_n_entries = n;
        return 0;
}

void fuzz_bus_rewind(sd_bus_message *m) {
        if (sd_bus_message_rewind(m, true) < 0 || sd_bus_message_enter_container(m, 'a', "{sv}") <= 0)
                abort();
}

const char *fuzz_bus_next_key(sd_bus_message *m, const char **ret_contents) {
        const char *key;
        char type;
        int r;

        r = sd_bus_message_enter_container(m, 'e', "sv");
        if (r < 0)
                abort();
        if (r == 0)
                return NULL;
        if (sd_bus_message_read(m, "s", &key) < 0 || sd_bus_message_peek_type(m, &type, ret_contents) <= 0 ||
            type != 'v')
                abort();
        return key;
}

void fuzz_bus_end_entry(sd_bus_message *m) {
        char type;

        /* sd-bus leaves no container with something unread in it. */
        if (sd_bus_message_peek_type(m, &type, NULL) > 0 && sd_bus_message_skip(m, "v") < 0)
                abort();
        if (sd_bus_message_exit_container(m) < 0)
                abort();
}
