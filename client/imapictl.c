/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* imapictl: the command-line client of imapid, as a table of verbs. */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <imapi/imapi.h>

#include "ctl.h"
#include "macro.h"
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
               "Without --socket or --bus-address, imapictl uses $IMAPI_BUS_ADDRESS if set; else\n"
               "the system bus if %s is running or activatable there; else\n"
               "%s if it exists (socket activation without the bus).\n"
               "\n"
               "Exit status: 0 success, 1 the operation failed, 2 usage error, 3 imapid cannot be\n"
               "reached, 4 no such recorder or job, 5 cancelled. See imapictl(1).\n",
               IMAPI_BUS_NAME, DEFAULT_SOCKET_PATH);
}

enum {
        ARG_VERSION = 0x100,
        ARG_BUS_ADDRESS,
        ARG_SOCKET,
        ARG_JSON,
        ARG_NO_ASK_PASSWORD,
};

static int parse_argv(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "bus-address", required_argument, NULL, ARG_BUS_ADDRESS },
                { "socket", required_argument, NULL, ARG_SOCKET },
                { "json", no_argument, NULL, ARG_JSON },
                { "no-ask-password", no_argument, NULL, ARG_NO_ASK_PASSWORD },
                {}
        };
        int c;

        /* Options may stand anywhere, before or after the verb. */
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
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
                default:
                        return -CTL_EXIT_USAGE;
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
        nargs = argc - optind;
        if (nargs < verb->min_args || nargs > verb->max_args) {
                fprintf(stderr, "imapictl: wrong number of arguments for '%s' (see 'imapictl --help').\n",
                        verb->name);
                return CTL_EXIT_USAGE;
        }

        r = ctl_connect(&bus);
        if (r != 0)
                return r;
        return verb->run(nargs, argv + optind, bus);
}
