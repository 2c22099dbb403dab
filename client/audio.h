/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Audio files for imapictl burn --audio: decoding (libsndfile: WAV, FLAC, and what else it
 * reads), resampling to 44.1 kHz (libsamplerate, best sinc quality), and conversion to CD-DA:
 * 16-bit little-endian stereo, whole 2352-byte blocks, the last one padded with silence.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUDIO_CD_RATE 44100
#define AUDIO_CD_BLOCK 2352
#define AUDIO_CD_MIN_BLOCKS 300         /* 4 s, the Red Book minimum of a track */

typedef struct AudioFile AudioFile;

/* Opens and checks path (read by the client, never by imapid). On failure returns -errno or
 * -EINVAL with a sentence in *ret_error (malloc'ed) naming the problem. */
int audio_file_open(const char *path, AudioFile **ret, char **ret_error);
AudioFile *audio_file_free(AudioFile *f);

/* The CD-DA blocks the file will give (after resampling, rounded up). */
uint64_t audio_file_blocks(const AudioFile *f);
/* "44100 Hz stereo", "22050 Hz mono, resampled" */
const char *audio_file_describe(const AudioFile *f);
double audio_file_seconds(const AudioFile *f);

/* The tags libsndfile reads (WAV INFO chunk, FLAC and Ogg Vorbis comments, ...). */
typedef enum AudioTag {
        AUDIO_TAG_TITLE,
        AUDIO_TAG_ARTIST,
        AUDIO_TAG_ALBUM,
        _AUDIO_TAG_MAX,
} AudioTag;
/* The tag as UTF-8 (a tag that is not UTF-8 is taken as ISO-8859-1), a new string; NULL if the
 * file has none (or an empty one). */
char *audio_file_tag(const AudioFile *f, AudioTag t);

/* Fills buf (size a multiple of 4, at least one block) with the next CD-DA bytes. Returns the
 * bytes produced, 0 at the end (the total is then a whole number of blocks), or -errno. */
ssize_t audio_file_read(AudioFile *f, uint8_t *buf, size_t size);

static inline void audio_file_freep(AudioFile **f) {
        audio_file_free(*f);
}
