/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A libburn client for the emulator tests: grabs one drive and prints what
 * libburn makes of it, one "key=value" per line.  Built with the project's
 * sanitizers, so under -Db_sanitize=address it also proves that an
 * ASan-instrumented program runs with the (uninstrumented) emulator
 * preloaded, as imapid's integration tests will.
 *
 *   test-libburn /dev/srN [eject]
 */
#include <libburn/libburn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *status_name(enum burn_disc_status s) {
        switch (s) {
        case BURN_DISC_UNREADY: return "unready";
        case BURN_DISC_BLANK: return "blank";
        case BURN_DISC_EMPTY: return "empty";
        case BURN_DISC_APPENDABLE: return "appendable";
        case BURN_DISC_FULL: return "full";
        case BURN_DISC_UNGRABBED: return "ungrabbed";
        case BURN_DISC_UNSUITABLE: return "unsuitable";
        }
        return "?";
}

int main(int argc, char **argv) {
        struct burn_drive_info *info = NULL;
        struct burn_drive *d;
        struct burn_multi_caps *caps = NULL;
        struct burn_speed_descriptor *speeds = NULL, *sp;
        char name[80], adr[BURN_DRIVE_ADR_LEN];
        int profile = 0, r;
        enum burn_disc_status st;

        if (argc < 2) {
                fprintf(stderr, "usage: %s /dev/srN [eject]\n", argv[0]);
                return 2;
        }
        if (!burn_initialize())
                return 1;
        burn_msgs_set_severities("NEVER", "SORRY", "test-libburn: ");
        snprintf(adr, sizeof adr, "%s", argv[1]);
        if (burn_drive_scan_and_grab(&info, adr, 1) <= 0) {
                printf("grab=failed\n");
                burn_finish();
                return 1;
        }
        d = info[0].drive;
        while ((st = burn_disc_get_status(d)) == BURN_DISC_UNREADY)
                usleep(100000);
        printf("vendor=%s\nproduct=%s\nrevision=%s\n", info[0].vendor, info[0].product, info[0].revision);
        printf("status=%s\n", status_name(st));
        if (burn_disc_get_profile(d, &profile, name) > 0 && profile > 0)
                printf("profile=0x%04x\nprofile_name=%s\n", profile, name);
        printf("erasable=%d\n", burn_disc_erasable(d));
        if (st == BURN_DISC_BLANK || st == BURN_DISC_APPENDABLE) {
                printf("available_blocks=%lld\n", (long long) (burn_disc_available_space(d, NULL) / 2048));
                if (burn_disc_get_multi_caps(d, BURN_WRITE_NONE, &caps, 0) > 0)
                        printf("multi_session=%d\n", caps->multi_session);
                burn_disc_free_multi_caps(&caps);
        }
        if (burn_drive_get_speedlist(d, &speeds) > 0) {
                for (sp = speeds; sp; sp = sp->next)
                        printf("write_speed=%d\n", sp->write_speed);
                burn_drive_free_speedlist(&speeds);
        }
        r = argc > 2 && strcmp(argv[2], "eject") == 0;
        burn_drive_release(d, r);
        burn_drive_info_free(info);
        burn_finish();
        return 0;
}
