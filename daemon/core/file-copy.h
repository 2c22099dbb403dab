/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One file the client passed (SetImage's disc image, SetBootImage's boot image), copied whole
 * into a disc master's stash in a worker: counted against the user's share and reserved in the
 * stash first, AddProgress while it runs if asked, checked to have the size that was examined,
 * then handed to the format's commit on the event loop, or removed. The master counts as busy
 * while *slot is set.
 */
#pragma once

#include "core/master.h"

typedef struct FileCopy FileCopy;

typedef struct FileCopyOps {
        const char *what;               /* "image", for messages */
        const char *call;               /* "SetImage", for the log */
        bool progress;                  /* AddProgress signals while it copies */
        uint32_t changed_hresult;       /* a file that changed size while it was copied */
        /* On the loop: the copy becomes the master's (>= 0), or a negative errno. */
        int (*commit)(Master *m, uint32_t copy, uint64_t size, uint64_t cost);
} FileCopyOps;

/* fd (a regular file, examined: size bytes, costing cost in the stash) must stay open until done
 * is called. Returns 1: done follows (async.h). */
int file_copy_start(Master *m, int fd, uint64_t size, uint64_t cost, const FileCopyOps *ops, FileCopy **slot,
                    core_done_fn done, void *userdata, ImapiError *error);
/* The copy stops at its next chunk; done then reports IMAPI_E_USERABORT. */
void file_copy_cancel(FileCopy *c);
