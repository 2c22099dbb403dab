/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Decoding and converting audio files to CD-DA (see audio.h). */

#include <errno.h>
#include <fcntl.h>
#include <samplerate.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "audio.h"
#include "macro.h"

/* Frames decoded per step. */
#define STEP_FRAMES 4096

struct AudioFile {
        SNDFILE *sf;
        SF_INFO info;
        bool resample;
        SRC_STATE *src;
        double ratio;
        bool input_done, output_done;
        uint64_t bytes_out;

        float *in;              /* decoded, interleaved stereo, not yet resampled */
        long in_frames, in_pos;
        float *out;             /* resampled */
        short *pcm;
        char description[64];
};

AudioFile *audio_file_free(AudioFile *f) {
        if (!f)
                return NULL;
        if (f->sf)
                sf_close(f->sf);
        if (f->src)
                src_delete(f->src);
        free(f->in);
        free(f->out);
        free(f->pcm);
        free(f);
        return NULL;
}

int audio_file_open(const char *path, AudioFile **ret, char **ret_error) {
        _cleanup_(audio_file_freep) AudioFile *f = NULL;
        int fd, err;

        *ret_error = NULL;
        f = calloc(1, sizeof(AudioFile));
        if (!f)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                err = errno;
                if (asprintf(ret_error, "%s: %s", path, strerror(err)) < 0)
                        *ret_error = NULL;
                return -err;
        }
        f->sf = sf_open_fd(fd, SFM_READ, &f->info, 1);
        if (!f->sf) {
                if (asprintf(ret_error, "%s: not an audio file that can be decoded (%s)", path,
                             sf_strerror(NULL)) < 0)
                        *ret_error = NULL;
                return -EINVAL;
        }
        if (f->info.channels < 1 || f->info.channels > 2) {
                if (asprintf(ret_error, "%s: %d channels; an audio CD takes mono or stereo only", path,
                             f->info.channels) < 0)
                        *ret_error = NULL;
                return -EINVAL;
        }
        if (f->info.samplerate < 8000 || f->info.samplerate > 384000 || f->info.frames <= 0) {
                if (asprintf(ret_error, "%s: %s", path, f->info.frames <= 0 ? "no audio in it" :
                             "its sample rate cannot be converted to 44.1 kHz") < 0)
                        *ret_error = NULL;
                return -EINVAL;
        }
        f->resample = f->info.samplerate != AUDIO_CD_RATE;
        f->ratio = (double) AUDIO_CD_RATE / f->info.samplerate;
        f->in = calloc(STEP_FRAMES * 2, sizeof(float));
        f->pcm = calloc(STEP_FRAMES * 2 * 2, sizeof(short));
        if (!f->in || !f->pcm)
                return -ENOMEM;
        if (f->resample) {
                /* The sinc converter is band-limited and phase-linear: as good as it gets. */
                f->src = src_new(SRC_SINC_BEST_QUALITY, 2, &err);
                f->out = calloc((size_t) (STEP_FRAMES * f->ratio + 16) * 2, sizeof(float));
                if (!f->src || !f->out) {
                        if (asprintf(ret_error, "%s: cannot set up resampling: %s", path,
                                     f->src ? "out of memory" : src_strerror(err)) < 0)
                                *ret_error = NULL;
                        return -ENOMEM;
                }
        }
        snprintf(f->description, sizeof f->description, "%d Hz %s%s", f->info.samplerate,
                 f->info.channels == 1 ? "mono" : "stereo", f->resample ? ", resampled to 44100 Hz" : "");
        *ret = TAKE_PTR(f);
        return 0;
}

uint64_t audio_file_blocks(const AudioFile *f) {
        double frames = (double) f->info.frames * f->ratio;

        return DIV_ROUND_UP((uint64_t) (frames + 0.5), (uint64_t) 588);
}

double audio_file_seconds(const AudioFile *f) {
        return (double) f->info.frames / f->info.samplerate;
}

const char *audio_file_describe(const AudioFile *f) {
        return f->description;
}

/* 16-bit samples in host order to little-endian CD-DA bytes. */
static void put_samples(uint8_t *p, const short *s, size_t n) {
        for (size_t i = 0; i < n; i++) {
                uint16_t v = (uint16_t) s[i];

                p[2 * i] = (uint8_t) (v & 0xff);
                p[2 * i + 1] = (uint8_t) (v >> 8);
        }
}

/* Next frames of stereo 16-bit at 44.1 kHz into f->pcm; returns their count, 0 at the end. */
static long next_frames(AudioFile *f, long max) {
        long n;

        max = MIN(max, (long) STEP_FRAMES);
        if (!f->resample) {
                /* Read as 16-bit: exact for 16-bit sources, libsndfile's rounding otherwise. */
                n = (long) sf_readf_short(f->sf, f->pcm, max);
                if (f->info.channels == 1)
                        for (long i = n - 1; i >= 0; i--)
                                f->pcm[2 * i] = f->pcm[2 * i + 1] = f->pcm[i];
                return n;
        }
        for (;;) {
                SRC_DATA d = {};
                int err;

                if (f->output_done)
                        return 0;
                if (f->in_pos >= f->in_frames && !f->input_done) {
                        f->in_frames = (long) sf_readf_float(f->sf, f->in, STEP_FRAMES / 2);
                        f->in_pos = 0;
                        if (f->in_frames <= 0) {
                                f->in_frames = 0;
                                f->input_done = true;
                        } else if (f->info.channels == 1)
                                for (long i = f->in_frames - 1; i >= 0; i--)
                                        f->in[2 * i] = f->in[2 * i + 1] = f->in[i];
                }
                d.data_in = f->in + 2 * f->in_pos;
                d.input_frames = f->in_frames - f->in_pos;
                d.data_out = f->out;
                d.output_frames = MIN(max, (long) (STEP_FRAMES / 2 * f->ratio + 8));
                d.src_ratio = f->ratio;
                d.end_of_input = f->input_done;
                err = src_process(f->src, &d);
                if (err != 0)
                        return -EIO;
                f->in_pos += d.input_frames_used;
                if (d.output_frames_gen > 0) {
                        src_float_to_short_array(f->out, f->pcm, (int) d.output_frames_gen * 2);
                        return d.output_frames_gen;
                }
                if (f->input_done && d.input_frames_used == 0) {
                        f->output_done = true;
                        return 0;
                }
        }
}

ssize_t audio_file_read(AudioFile *f, uint8_t *buf, size_t size) {
        size_t done = 0;

        while (done + 4 <= size) {
                long n = next_frames(f, (long) ((size - done) / 4));

                if (n < 0)
                        return n;
                if (n == 0)
                        break;
                put_samples(buf + done, f->pcm, (size_t) n * 2);
                done += (size_t) n * 4;
        }
        if (done == 0 && f->bytes_out % AUDIO_CD_BLOCK != 0) {
                /* The end: silence up to a whole block. */
                done = MIN(size, (size_t) (AUDIO_CD_BLOCK - f->bytes_out % AUDIO_CD_BLOCK));
                memset(buf, 0, done);
        }
        f->bytes_out += done;
        return (ssize_t) done;
}

static bool valid_utf8(const unsigned char *s) {
        while (*s) {
                int n = *s < 0x80 ? 0 : (*s & 0xe0) == 0xc0 ? 1 : (*s & 0xf0) == 0xe0 ? 2 : (*s & 0xf8) == 0xf0 ? 3 : -1;

                if (n < 0 || (n == 1 && *s < 0xc2))
                        return false;
                for (int i = 1; i <= n; i++)
                        if ((s[i] & 0xc0) != 0x80)
                                return false;
                s += 1 + n;
        }
        return true;
}

char *audio_file_tag(const AudioFile *f, AudioTag t) {
        static const int which[_AUDIO_TAG_MAX] = {
                [AUDIO_TAG_TITLE] = SF_STR_TITLE,
                [AUDIO_TAG_ARTIST] = SF_STR_ARTIST,
                [AUDIO_TAG_ALBUM] = SF_STR_ALBUM,
        };
        const unsigned char *v = (const unsigned char *) sf_get_string(f->sf, which[t]);
        char *s, *q;

        if (!v || !*v)
                return NULL;
        if (valid_utf8(v))
                return strdup((const char *) v);
        /* Older WAV writers put ISO-8859-1 in the INFO chunk. */
        s = q = malloc(strlen((const char *) v) * 2 + 1);
        if (!s)
                return NULL;
        for (; *v; v++)
                if (*v < 0x80)
                        *q++ = (char) *v;
                else {
                        *q++ = (char) (0xc0 | *v >> 6);
                        *q++ = (char) (0x80 | (*v & 0x3f));
                }
        *q = 0;
        return s;
}
