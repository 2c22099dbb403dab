/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* imapictl: the command-line client of imapid, as a table of verbs. */

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <imapi/imapi.h>

#include "ctl.h"
#include "macro.h"
#include "polkit-agent.h"
#include "verbs.h"

typedef struct Verb {
        const char *name;
        int min_args, max_args; /* counting the verb itself */
        int (*run)(int argc, char *argv[], sd_bus *bus);
} Verb;

static const Verb verbs[] = {
        { "devices", 1, 1, verb_devices },
        { "media", 1, 2, verb_media },
        { "eject", 1, 2, verb_eject },
        { "properties", 2, 64, verb_properties },
        { "burn", 1, INT_MAX, verb_burn },
        { "erase", 1, 2, verb_erase },
        { "jobs", 1, 1, verb_jobs },
        { "cancel", 2, 2, verb_cancel },
        { "watch", 2, 2, verb_watch },
        { "copy", 1, 1, verb_copy },
};

static void help(void) {
        printf("Usage: imapictl [OPTIONS...] COMMAND ...\n"
               "\n"
               "Control the imapid optical disc burning service.\n"
               "\n"
               "Commands:\n"
               "  devices                      List recorders\n"
               "  media [RECORDER]             Show the disc in a recorder\n"
               "  eject [RECORDER]             Eject the disc\n"
               "  properties RECORDER [NAME=VALUE...]\n"
               "                               Show or set recorder properties (WriteSpeed,\n"
               "                               AudioGapSize, EnableBufferUnderrunFree)\n"
               "  burn [OPTIONS] PATH...       Burn files and folders as a Joliet data disc,\n"
               "                               each at the root of the disc as 'cp -r' would\n"
               "                               place it\n"
               "  burn --image=FILE            Burn a disc image (.iso) as it is, block for block\n"
               "  copy --from=RECORDER --to=RECORDER...\n"
               "                               Copy a data disc to a blank disc in each --to\n"
               "                               recorder (the --from one too: swap the discs)\n"
               "  erase [--full] [RECORDER]    Erase a rewritable disc or an image file\n"
               "  jobs                         List running jobs\n"
               "  cancel JOB                   Cancel a job\n"
               "  watch JOB                    Follow a job until it ends; the exit status\n"
               "                               tells its outcome\n"
               "\n"
               "A JOB is its number in 'jobs' or its D-Bus object path.\n"
               "\n"
               "A RECORDER is its index in 'devices', its id (sr0), its device (/dev/sr0),\n"
               "its image file (stdio:/path) or its D-Bus object path. Without one, the first\n"
               "recorder is used.\n"
               "\n"
               "Options:\n"
               "  -h --help                Show this help\n"
               "     --version             Show the version\n"
               "     --bus-address=ADDRESS Talk to imapid on this D-Bus address (a bus, or\n"
               "                           unix:path=SOCKET for its peer-to-peer socket)\n"
               "     --socket=PATH         Talk to imapid on its peer-to-peer socket\n"
               "     --json                Print JSON for scripts\n"
               "     --no-ask-password     Do not ask for authentication\n"
               "\n"
               "Options of burn:\n"
               "     --recorder=RECORDER   Burn with this recorder (default: the first); given more\n"
               "                           than once, burn the same disc in each of them at once\n"
               "     --all-recorders       Burn in every recorder whose disc can take the burn;\n"
               "                           the others are skipped, each with the reason\n"
               "     --keep                After a burn that succeeded, ask for new discs and burn\n"
               "                           them too from what is staged, until end of input\n"
               "     --simulate            Go through the burn with the laser off\n"
               "     --eject               Eject the disc after a successful burn\n"
               "     --speed=X             Write at X times the medium's 1x speed\n"
               "     --speed-kbps=N        Write at N kB/s (also for image-file recorders)\n"
               "     --volume-name=NAME    The volume name (default: the date)\n"
               "     --strict-names        Refuse names that Joliet cannot hold as they are\n"
               "                           (IMAPI's rules) instead of adapting them for Windows\n"
               "     --verbose             List every name adapted for Windows (by default a\n"
               "                           summary; Linux sees the names as they are)\n"
               "     --no-verify           Do not read the disc back to compare it\n"
               "     --iso-level=N         ISO 9660 level 1, 2 or 3 (default: 3 if a file is\n"
               "                           4 GiB or larger, else 2)\n"
               "     --close               Close the disc: no more sessions can be added\n"
               "     --replace             Write a new file system over what a rewritable disc\n"
               "                           or image file holds (otherwise a burn adds to it)\n"
               "     --audio               Burn an audio CD: each PATH is an audio file (WAV,\n"
               "                           FLAC, ...; other rates are resampled to 44.1 kHz)\n"
               "                           that becomes one track, with CD-TEXT (title,\n"
               "                           performer, album) from the files' tags\n"
               "     --tao                 --audio: write track-at-once (no CD-TEXT then)\n"
               "     --album-title=TEXT    --audio: the disc's CD-TEXT title (default: the\n"
               "                           first file's album tag)\n"
               "     --album-performer=TEXT --audio: the disc's performer (default: the artist\n"
               "                           tag, if every file has the same)\n"
               "     --title=N:TEXT        --audio: track N's title (default: its title tag)\n"
               "     --performer=N:TEXT    --audio: track N's performer (default: its artist tag)\n"
               "     --no-cdtext           --audio: write no CD-TEXT\n"
               "     --image=FILE          Burn FILE, a disc image (ISO 9660, hybrid ISO), as the\n"
               "                           disc itself rather than as a file on a data disc; the\n"
               "                           disc must be blank (or, with --replace, rewritable)\n"
               "     --boot-image=FILE     Make the data disc bootable (El Torito) with the boot\n"
               "                           image FILE; the disc must be blank (or, with\n"
               "                           --replace, rewritable)\n"
               "     --boot-emulation=TYPE none (default), floppy (FILE of 1200, 1440 or 2880 KiB)\n"
               "                           or hd (FILE starts with an MBR of one partition)\n"
               "     --boot-platform=ID    x86 (default), ppc, mac or efi\n"
               "Options of copy (and --simulate, --eject, --no-verify, --speed of burn):\n"
               "     --from=RECORDER       The recorder with the data disc to copy\n"
               "     --to=RECORDER         A recorder with a blank disc for the copy; may be\n"
               "                           given more than once (the disc is read once)\n"
               "     --full                Blank or format the whole disc, not only what finds\n"
               "                           its files (the table of contents or the file system's\n"
               "                           first blocks)\n"
               "     --format=MODE         DVD-RW: change it to restricted-overwrite (written in\n"
               "                           place like a DVD+RW) or back to sequential recording\n"
               "\n"
               "burn and erase show progress as one updating line on a terminal, a line per\n"
               "update otherwise, and one JSON object per line with --json; a burn to several\n"
               "recorders shows a line per recorder and ends with a table of each one's result.\n"
               "Ctrl-C while staging stops and discards what was staged; during the burn it\n"
               "cancels the job and waits for it to end. A second Ctrl-C (or SIGTERM) stops\n"
               "waiting; imapid still finishes the cancellation and cleans up. Ctrl-C in watch\n"
               "leaves the job running.\n"
               "burn follows symbolic links named on the command line and skips those inside\n"
               "folders, with a warning, as it skips devices, FIFOs and sockets.\n"
               "\n"
               "Without --socket or --bus-address, imapictl uses $IMAPI_BUS_ADDRESS if set; else\n"
               "the system bus if %s is running or activatable there; else\n"
               "%s if it exists (socket activation without the bus).\n"
               "\n"
               "Exit status: 0 success, 1 the operation failed, 2 usage error (for burn also a\n"
               "PATH that does not exist, a name that is not UTF-8 or that no disc can hold,\n"
               "or a folder loop, found before anything is staged), 3 imapid cannot be reached, 4 no such recorder or\n"
               "job, 5 cancelled, 6 a burn to several recorders failed on some of them (the table\n"
               "says which discs are good). See imapictl(1).\n",
               IMAPI_BUS_NAME, DEFAULT_SOCKET_PATH);
}

enum {
        ARG_VERSION = 0x100,
        ARG_BUS_ADDRESS,
        ARG_SOCKET,
        ARG_JSON,
        ARG_NO_ASK_PASSWORD,
        ARG_RECORDER,
        ARG_SIMULATE,
        ARG_EJECT,
        ARG_SPEED,
        ARG_SPEED_KBPS,
        ARG_VOLUME_NAME,
        ARG_NO_VERIFY,
        ARG_ISO_LEVEL,
        ARG_CLOSE,
        ARG_REPLACE,
        ARG_FULL,
        ARG_FORMAT,
        ARG_IMAGE,
        ARG_AUDIO,
        ARG_STRICT_NAMES,
        ARG_VERBOSE,
        ARG_BOOT_IMAGE,
        ARG_BOOT_EMULATION,
        ARG_BOOT_PLATFORM,
        ARG_TAO,
        ARG_NO_CDTEXT,
        ARG_ALBUM_TITLE,
        ARG_ALBUM_PERFORMER,
        ARG_TITLE,
        ARG_PERFORMER,
        ARG_FROM,
        ARG_TO,
        ARG_ALL_RECORDERS,
        ARG_KEEP,
        ARG_END_,       /* not an option: the count */
};

/* A whole decimal number in [min, max], or a usage error naming the option. */
static int parse_number(const char *option, const char *s, long min, long max, long *ret) {
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < min || v > max) {
                fprintf(stderr, "imapictl: --%s takes a number from %ld to %ld, not '%s'.\n", option, min,
                        max, s);
                return -CTL_EXIT_USAGE;
        }
        *ret = v;
        return 0;
}

/* An option that takes a value, given twice, would leave one of the values unused: refused
 * (a usage error naming both, and why it is taken once: reason, or "give it once"), never
 * dropped. */
static int check_repeated(const struct option *options, int c, const char **given, const char *reason) {
        const struct option *o = options;

        while (o->name && o->val != c)
                o++;
        if (!o->name || o->has_arg != required_argument)
                return 0;
        if (given[c - ARG_VERSION]) {
                fprintf(stderr, "imapictl: --%s was given twice ('%s' and '%s'); %s.\n", o->name,
                        given[c - ARG_VERSION], optarg, reason ?: "give it once");
                return -CTL_EXIT_USAGE;
        }
        given[c - ARG_VERSION] = optarg;
        return 0;
}

/* Only burn goes to several recorders; any other command given --recorder twice refuses it as
 * check_repeated() does. */
static int check_recorders(const char *verb) {
        if (streq(verb, "burn") || arg_burn.n_recorders < 2)
                return 0;
        fprintf(stderr, "imapictl: --recorder was given twice ('%s' and '%s'); only burn goes to several "
                "recorders.\n", arg_burn.recorders[0], arg_burn.recorders[1]);
        return CTL_EXIT_USAGE;
}

static int parse_argv(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "bus-address", required_argument, NULL, ARG_BUS_ADDRESS },
                { "socket", required_argument, NULL, ARG_SOCKET },
                { "json", no_argument, NULL, ARG_JSON },
                { "no-ask-password", no_argument, NULL, ARG_NO_ASK_PASSWORD },
                { "recorder", required_argument, NULL, ARG_RECORDER },
                { "all-recorders", no_argument, NULL, ARG_ALL_RECORDERS },
                { "keep", no_argument, NULL, ARG_KEEP },
                { "simulate", no_argument, NULL, ARG_SIMULATE },
                { "eject", no_argument, NULL, ARG_EJECT },
                { "speed", required_argument, NULL, ARG_SPEED },
                { "speed-kbps", required_argument, NULL, ARG_SPEED_KBPS },
                { "volume-name", required_argument, NULL, ARG_VOLUME_NAME },
                { "no-verify", no_argument, NULL, ARG_NO_VERIFY },
                { "iso-level", required_argument, NULL, ARG_ISO_LEVEL },
                { "close", no_argument, NULL, ARG_CLOSE },
                { "replace", no_argument, NULL, ARG_REPLACE },
                { "full", no_argument, NULL, ARG_FULL },
                { "format", required_argument, NULL, ARG_FORMAT },
                { "audio", no_argument, NULL, ARG_AUDIO },
                { "tao", no_argument, NULL, ARG_TAO },
                { "no-cdtext", no_argument, NULL, ARG_NO_CDTEXT },
                { "album-title", required_argument, NULL, ARG_ALBUM_TITLE },
                { "album-performer", required_argument, NULL, ARG_ALBUM_PERFORMER },
                { "title", required_argument, NULL, ARG_TITLE },
                { "performer", required_argument, NULL, ARG_PERFORMER },
                { "image", required_argument, NULL, ARG_IMAGE },
                { "from", required_argument, NULL, ARG_FROM },
                { "to", required_argument, NULL, ARG_TO },
                { "strict-names", no_argument, NULL, ARG_STRICT_NAMES },
                { "verbose", no_argument, NULL, ARG_VERBOSE },
                { "boot-image", required_argument, NULL, ARG_BOOT_IMAGE },
                { "boot-emulation", required_argument, NULL, ARG_BOOT_EMULATION },
                { "boot-platform", required_argument, NULL, ARG_BOOT_PLATFORM },
                {}
        };
        const char *given[ARG_END_ - ARG_VERSION] = {};
        long v;
        int c, r;

        /* Options may stand anywhere, before or after the verb. */
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                /* --title and --performer are given once per track, --to and burn's --recorder once
                 * per recorder (check_recorders()). */
                if (c >= ARG_VERSION && !IN_SET(c, ARG_RECORDER, ARG_TITLE, ARG_PERFORMER, ARG_TO)) {
                        r = check_repeated(options, c, given, c == ARG_FROM ? "a copy reads one disc" : NULL);
                        if (r < 0)
                                return r;
                }
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("imapictl %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_BUS_ADDRESS:
                        arg.bus_address = optarg;
                        break;
                case ARG_SOCKET:
                        arg.socket_path = optarg;
                        break;
                case ARG_JSON:
                        arg.json = true;
                        break;
                case ARG_NO_ASK_PASSWORD:
                        arg.no_ask = true;
                        break;
                case ARG_RECORDER:
                        if (arg_burn.n_recorders >= BURN_RECORDERS_MAX) {
                                fprintf(stderr, "imapictl: at most %d --recorder recorders.\n", BURN_RECORDERS_MAX);
                                return -CTL_EXIT_USAGE;
                        }
                        arg_burn.recorders[arg_burn.n_recorders++] = optarg;
                        break;
                case ARG_ALL_RECORDERS:
                        arg_burn.all_recorders = true;
                        break;
                case ARG_KEEP:
                        arg_burn.keep = true;
                        break;
                case ARG_FROM:
                        arg_copy.from = optarg;
                        break;
                case ARG_TO:
                        if (arg_copy.n_to >= COPY_TO_MAX) {
                                fprintf(stderr, "imapictl: at most %d --to recorders.\n", COPY_TO_MAX);
                                return -CTL_EXIT_USAGE;
                        }
                        arg_copy.to[arg_copy.n_to++] = optarg;
                        break;
                case ARG_SIMULATE:
                        arg_burn.simulate = true;
                        break;
                case ARG_EJECT:
                        arg_burn.eject = true;
                        break;
                case ARG_SPEED:
                        /* The limits imapid takes (RecordDisc's write_speed, write_speed_kbps). */
                        r = parse_number("speed", optarg, 1, 1000, &v);
                        if (r < 0)
                                return r;
                        arg_burn.speed = (int) v;
                        break;
                case ARG_SPEED_KBPS:
                        r = parse_number("speed-kbps", optarg, 1, 1000000, &v);
                        if (r < 0)
                                return r;
                        arg_burn.speed_kbps = (unsigned) v;
                        break;
                case ARG_VOLUME_NAME:
                        arg_burn.volume_name = optarg;
                        break;
                case ARG_NO_VERIFY:
                        arg_burn.no_verify = true;
                        break;
                case ARG_ISO_LEVEL:
                        r = parse_number("iso-level", optarg, 1, 3, &v);
                        if (r < 0)
                                return r;
                        arg_burn.iso_level = (int) v;
                        break;
                case ARG_CLOSE:
                        arg_burn.close_disc = true;
                        break;
                case ARG_STRICT_NAMES:
                        arg_burn.strict_names = true;
                        break;
                case ARG_VERBOSE:
                        arg_burn.verbose = true;
                        break;
                case ARG_REPLACE:
                        arg_burn.replace = true;
                        break;
                case ARG_FULL:
                        arg_burn.full = true;
                        break;
                case ARG_FORMAT:
                        if (!streq(optarg, "restricted-overwrite") && !streq(optarg, "sequential")) {
                                fprintf(stderr, "imapictl: --format takes restricted-overwrite or sequential.\n");
                                return -CTL_EXIT_USAGE;
                        }
                        arg_burn.format = optarg;
                        break;
                case ARG_AUDIO:
                        arg_burn.audio = true;
                        break;
                case ARG_TAO:
                        arg_burn.tao = arg_burn.audio_only = true;
                        break;
                case ARG_NO_CDTEXT:
                        arg_burn.no_cdtext = arg_burn.audio_only = true;
                        break;
                case ARG_ALBUM_TITLE:
                case ARG_ALBUM_PERFORMER:
                        arg_burn.album_text[c == ARG_ALBUM_TITLE ? 0 : 1] = optarg;
                        arg_burn.audio_only = true;
                        break;
                case ARG_TITLE:
                case ARG_PERFORMER: {
                        const char *name = c == ARG_TITLE ? "title" : "performer", *colon = strchr(optarg, ':');
                        char number[8] = "";

                        /* N:TEXT, N the track from 1; the text may hold further colons. */
                        if (colon && (size_t) (colon - optarg) < sizeof number)
                                memcpy(number, optarg, (size_t) (colon - optarg));
                        if (!colon) {
                                fprintf(stderr, "imapictl: --%s takes N:TEXT, N the track (1 to 99).\n", name);
                                return -CTL_EXIT_USAGE;
                        }
                        r = parse_number(name, number, 1, 99, &v);
                        if (r < 0)
                                return r;
                        if (arg_burn.track_text[v - 1][c == ARG_TITLE ? 0 : 1]) {
                                fprintf(stderr, "imapictl: --%s was given twice for track %ld ('%s' and '%s').\n",
                                        name, v, arg_burn.track_text[v - 1][c == ARG_TITLE ? 0 : 1], colon + 1);
                                return -CTL_EXIT_USAGE;
                        }
                        arg_burn.track_text[v - 1][c == ARG_TITLE ? 0 : 1] = colon + 1;
                        arg_burn.audio_only = true;
                        break;
                }
                case ARG_IMAGE:
                        arg_burn.image = optarg;
                        break;
                case ARG_BOOT_IMAGE:
                        arg_burn.boot_image = optarg;
                        break;
                case ARG_BOOT_EMULATION:
                        arg_burn.boot_emulation = streq(optarg, "none") ? 0 : streq(optarg, "floppy") ? 1 :
                                                  streq(optarg, "hd") ? 4 : -1;
                        if (arg_burn.boot_emulation < 0) {
                                fprintf(stderr, "imapictl: --boot-emulation takes none, floppy or hd.\n");
                                return -CTL_EXIT_USAGE;
                        }
                        break;
                case ARG_BOOT_PLATFORM:
                        arg_burn.boot_platform = streq(optarg, "x86") ? 0 : streq(optarg, "ppc") ? 1 :
                                                 streq(optarg, "mac") ? 2 : streq(optarg, "efi") ? 0xEF : -1;
                        if (arg_burn.boot_platform < 0) {
                                fprintf(stderr, "imapictl: --boot-platform takes x86, ppc, mac or efi.\n");
                                return -CTL_EXIT_USAGE;
                        }
                        break;
                default:
                        return -CTL_EXIT_USAGE;
                }
        }
        return 1;
}

int main(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const Verb *verb = NULL;
        int r, nargs;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return -r;
        if (optind >= argc) {
                fprintf(stderr, "imapictl: missing command (see 'imapictl --help').\n");
                return CTL_EXIT_USAGE;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, argv[optind]))
                        verb = &verbs[i];
        if (!verb) {
                fprintf(stderr, "imapictl: unknown command '%s' (see 'imapictl --help').\n", argv[optind]);
                return CTL_EXIT_USAGE;
        }
        r = check_recorders(verb->name);
        if (r != 0)
                return r;
        nargs = argc - optind;
        if (nargs < verb->min_args || nargs > verb->max_args) {
                fprintf(stderr, "imapictl: wrong number of arguments for '%s' (see 'imapictl --help').\n",
                        verb->name);
                return CTL_EXIT_USAGE;
        }

        r = ctl_connect(&bus);
        if (r != 0)
                return r;
        /* Before the first call that may need a password, as systemctl does. */
        if (!arg.no_ask)
                (void) polkit_agent_open();
        r = verb->run(nargs, argv + optind, bus);
        polkit_agent_close();
        return r;
}
