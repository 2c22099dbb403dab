/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdlib.h>
#include <string.h>

#include "strpool.h"

#define CHUNK_SIZE (64U * 1024U)

struct StrPoolChunk {
        StrPoolChunk *next;
        size_t size;            /* of data */
        char data[];
};

void strpool_init(StrPool *p) {
        *p = (StrPool) {};
}

void strpool_done(StrPool *p) {
        while (p->chunks) {
                StrPoolChunk *c = p->chunks;

                p->chunks = c->next;
                free(c);
        }
        strpool_init(p);
}

const char *strpool_add(StrPool *p, const char *s) {
        size_t n = strlen(s) + 1;
        char *copy;

        if (n > p->left) {
                /* A name longer than a chunk gets a chunk of its own. */
                size_t size = n > CHUNK_SIZE - sizeof(StrPoolChunk) ? n : CHUNK_SIZE - sizeof(StrPoolChunk);
                StrPoolChunk *c = malloc(sizeof(StrPoolChunk) + size);

                if (!c)
                        return NULL;
                c->next = p->chunks;
                c->size = size;
                p->chunks = c;
                p->left = size;
        }
        copy = p->chunks->data + (p->chunks->size - p->left);
        memcpy(copy, s, n);
        p->left -= n;
        return copy;
}
