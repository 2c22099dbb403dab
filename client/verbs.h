/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The verbs of imapictl; each returns an exit code (see ctl.h). */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

int verb_devices(int argc, char *argv[], sd_bus *bus);
int verb_media(int argc, char *argv[], sd_bus *bus);
int verb_eject(int argc, char *argv[], sd_bus *bus);
int verb_properties(int argc, char *argv[], sd_bus *bus);
int verb_burn(int argc, char *argv[], sd_bus *bus);
int verb_burn_audio(int argc, char *argv[], sd_bus *bus);
int verb_erase(int argc, char *argv[], sd_bus *bus);
int verb_jobs(int argc, char *argv[], sd_bus *bus);
int verb_cancel(int argc, char *argv[], sd_bus *bus);
int verb_watch(int argc, char *argv[], sd_bus *bus);
int verb_copy(int argc, char *argv[], sd_bus *bus);

/* The options of burn and erase, parsed with the global ones in imapictl.c. */
#define BURN_RECORDERS_MAX 16   /* RecordDiscTo's limit */
typedef struct BurnArgs {
        const char *recorders[BURN_RECORDERS_MAX];      /* --recorder, in the order given */
        size_t n_recorders;
        bool all_recorders;     /* --all-recorders */
        bool keep;              /* --keep: burn again to new discs without staging again */
        const char *volume_name;
        bool simulate, eject, no_verify, close_disc, replace;
        int speed;              /* times the medium's 1x; 0: the recorder's WriteSpeed */
        unsigned speed_kbps;    /* kB/s, overrides speed; 0: unset */
        int iso_level;          /* 1..3; 0: imapid chooses */
        bool full;              /* erase --full */
        const char *format;     /* erase --format: "restricted-overwrite" or "sequential" (DVD-RW) */
        bool audio;             /* burn --audio: an audio CD, one track per file */
        bool tao;               /* --audio --tao: track-at-once (no CD-TEXT) */
        bool no_cdtext;         /* --audio --no-cdtext: no CD-TEXT, not even from the tags */
        const char *album_text[2];      /* --album-title, --album-performer (index: AudioTag) */
        const char *track_text[99][2];  /* --title=N:TEXT, --performer=N:TEXT */
        bool audio_only;        /* one of the --audio options above was given */
        const char *image;      /* burn --image: a disc image burned as it is */
        bool strict_names;      /* burn --strict-names: IMAPI's Joliet names, no adapting */
        bool verbose;           /* burn --verbose: every adapted name */
        const char *boot_image; /* burn --boot-image: El Torito boot image of a data disc */
        int boot_emulation;     /* --boot-emulation: 0 none, 1 floppy (the type from the size), 4 hd */
        int boot_platform;      /* --boot-platform: 0 x86, 1 PowerPC, 2 Mac, 0xEF EFI */
} BurnArgs;

extern BurnArgs arg_burn;

/* The options of copy (verb-copy.c); --simulate, --eject, --no-verify and --speed are burn's. */
#define COPY_TO_MAX 16
typedef struct CopyArgs {
        const char *from;
        const char *to[COPY_TO_MAX];
        size_t n_to;
} CopyArgs;

extern CopyArgs arg_copy;
