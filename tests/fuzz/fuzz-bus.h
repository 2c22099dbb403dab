/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Building the a{sv} of a method call from fuzzer bytes, as the daemon gets it: sd-bus has
 * already checked the signature against the vtable, so the fuzzer varies what a valid message can
 * carry (keys, the variants' types and values), not the wire format, which is sd-bus' to parse.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

typedef struct FuzzInput {
        const uint8_t *data;
        size_t size;
} FuzzInput;

uint8_t fuzz_byte(FuzzInput *in);

/* A bus that can make messages: an sd_bus on one end of a socketpair, started (sd-bus makes no
 * message on a bus that was never started) but never talked to. Made once per process. */
sd_bus *fuzz_bus(void);

/* A sealed method call, read position at its start, holding an a{sv} whose entries come from in:
 * per entry a key (one of keys[], n_keys of them, or a string from the input) and a variant.
 * Returns 0 and *ret NULL for input that makes no valid message (a string that is not UTF-8). */
int fuzz_bus_options(FuzzInput *in, const char *const *keys, size_t n_keys, sd_bus_message **ret,
                     size_t *ret_n_entries);

/* Reading a dictionary of fuzz_bus_options() again, for the oracles: fuzz_bus_rewind() goes back
 * into the a{sv}; fuzz_bus_next_key() enters the next entry and returns its key, the variant's
 * type in *ret_contents (NULL at the end); fuzz_bus_end_entry() leaves the entry, past what is
 * unread. Any failure aborts: the message was valid when it was made. */
void fuzz_bus_rewind(sd_bus_message *m);
const char *fuzz_bus_next_key(sd_bus_message *m, const char **ret_contents);
void fuzz_bus_end_entry(sd_bus_message *m);
