#!/bin/sh
# Renders each man page given on the command line and fails if man or groff says anything:
# a warning is a broken page. With $MAN_VERSION set, the page's title line must also carry that
# version and a date (meson fills both in). Used by 'meson test --suite docs'.
set -u
status=0
for page in "$@"; do
        if command -v man >/dev/null 2>&1; then
                out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null)
        else
                out=$(LC_ALL=C.UTF-8 groff -man -ww -z -K utf8 "$page" 2>&1)
        fi
        rc=$?
        if [ $rc -ne 0 ] || [ -n "$out" ]; then
                printf '%s: rendering failed (exit %d):\n%s\n' "$page" "$rc" "$out" >&2
                status=1
        elif [ -n "${MAN_VERSION:-}" ] &&
             ! grep -Eq "^\.TH [^ ]+ [0-9] \"[0-9]{4}-[0-9]{2}-[0-9]{2}\" \"imapid $MAN_VERSION\" " "$page"; then
                printf '%s: the .TH line lacks the date or "imapid %s":\n%s\n' "$page" "$MAN_VERSION" \
                        "$(grep -m1 '^\.TH' "$page")" >&2
                status=1
        else
                printf 'ok %s\n' "$page"
        fi
done
exit $status
