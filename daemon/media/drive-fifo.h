/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The buffer between a write's data source and libburn: a ring of memory that a thread of its
 * own keeps filled from the source while libburn's write thread takes blocks out of it.
 *
 * libburn's own FIFO (burn_fifo_source_new()) is not used: its threads share one process-wide
 * lock whose "held" flag is a plain variable, so two threads releasing and taking it at the
 * same moment can leave the lock held for good, and every later FIFO start or free, on any
 * drive, then waits forever. This one shares nothing between writes.
 */
#pragma once

#include <libburn/libburn.h>
#include <stdbool.h>
#include <stddef.h>

/* A burn_source of imapid's own (libburn.h, struct burn_source): a copy of callbacks with data and
 * one reference, calloc'ed as burn_source_free() frees it (after free_data); NULL without memory. */
struct burn_source *drive_source_new(const struct burn_source *callbacks, void *data);

/* A version 1 burn_source (libburn.h) reading from inp, which it takes a reference of, through
 * a ring of `bytes` (rounded up to whole chunks). The filling thread starts at the first read. */
struct burn_source *drive_fifo_new(struct burn_source *inp, size_t bytes);

/* The ring's size and how much of it holds data; false once the source has been read to its
 * end (or failed) and the ring is empty, or before the first read. Any thread. */
bool drive_fifo_status(struct burn_source *fifo, size_t *ret_size, size_t *ret_filled);
