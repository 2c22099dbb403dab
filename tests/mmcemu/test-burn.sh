#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Stock cdrskin and xorriso burning and reading through the drive emulator.
#   test-burn.sh CASE
# Needs MMCEMU_RUN (the wrapper) and MMCEMU_LIB (libmmcemu.so) in the
# environment, as tests/mmcemu/meson.build sets them.  Each case works in
# its own temporary state directory, so cases can run in parallel.
set -euo pipefail

case_name="${1:?usage: test-burn.sh CASE}"
RUN="${MMCEMU_RUN:?}"
: "${MMCEMU_LIB:?}"
unset MMCEMU_STATE
PY=/usr/bin/python3

T=$(mktemp -d "${TMPDIR:-/tmp}/mmcemu-test.XXXXXX")
S="$T/state"
trap 'rm -rf "$T"' EXIT

fail() {
        echo "FAIL: $*" >&2
        exit 1
}

log() {
        echo "--- $*" >&2
}

# emu [wrapper options] -- command: run with the test's state directory.
emu() {
        "$RUN" --state "$S" "$@"
}

# Runs a command through the emulator, keeps its output in $T/out, echoes it to the log.
emu_out() {
        local rc=0
        emu "$@" > "$T/out" 2>&1 || rc=$?
        cat "$T/out" >&2
        return $rc
}

expect_out() {  # expect_out REGEX: the last emu_out output matches (extended regex, case-insensitive)
        grep -Eiq -- "$1" "$T/out" || fail "output does not match /$1/"
}

random_file() { # random_file PATH BYTES
        head -c "$2" /dev/urandom > "$1"
}

make_iso() {    # make_iso ISO DIR: an ISO 9660 image with Rock Ridge of DIR
        xorriso -as mkisofs -quiet -R -o "$1" "$2" >/dev/null 2>&1 || fail "mkisofs $2"
}

make_wav() {    # make_wav PATH SECTORS: 44.1 kHz 16-bit stereo of random samples
        "$PY" - "$1" "$2" <<'PYEOF'
import os, sys, wave
w = wave.open(sys.argv[1], "wb")
w.setnchannels(2)
w.setsampwidth(2)
w.setframerate(44100)
w.writeframes(os.urandom(2352 * int(sys.argv[2])))
w.close()
PYEOF
}

wav_pcm() {     # wav_pcm WAV: the sample bytes (44-byte canonical header)
        tail -c +45 "$1"
}

# same_prefix FILE DISCFILE: DISCFILE starts with FILE's bytes (tracks are padded).
same_prefix() {
        [ -f "$2" ] || fail "$2 does not exist"
        cmp -n "$(stat -c %s "$1")" "$1" "$2" || fail "$2 differs from $1"
}

medium_field() {        # medium_field DRIVE KEY
        sed -n "s/^$2 //p" "$S/sr$1/medium"
}

n_tracks() {
        grep -c '^track ' "$S/sr$1/medium" || true
}

n_sessions() {
        awk '$1 == "track" { print $3 }' "$S/sr$1/medium" | sort -u | wc -l
}

# Reads a whole data track back through the drive (READ(10) via libburn).
read_back() {   # read_back OUTFILE [START_LBA]: xorriso -check_media copies what it read
        emu_out -- xorriso -indev /dev/sr0 -check_media data_to="$1" ${2:+min_lba=$2} use=indev what=image -- ||
                fail "reading back through the drive failed"
}

cdrskin_burn() {        # cdrskin_burn ARGS...: must succeed
        emu_out -- cdrskin -v dev=/dev/sr0 gracetime=0 "$@" || fail "cdrskin $* failed"
        expect_out "burning done|Burning done|writing done"
}

cdrskin_must_fail() {
        if emu_out -- cdrskin -v dev=/dev/sr0 gracetime=0 "$@"; then
                fail "cdrskin $* succeeded but should have failed"
        fi
}

toc_expect() {  # toc_expect REGEX...: xorriso -toc output matches all
        emu_out -- xorriso -indev /dev/sr0 -toc || true
        for re in "$@"; do
                expect_out "$re"
        done
}

mkdir -p "$T/tree"
random_file "$T/tree/data.bin" 2500000
echo "hello from mmcemu" > "$T/tree/hello.txt"

case "$case_name" in
devices)
        emu --drives 1 --media cd-r --vendor ACME --product "Burner 9000" --revision 2.5 >/dev/null
        emu_out -- cdrskin --devices || fail "cdrskin --devices"
        expect_out "0 +dev='/dev/sr0' +rwrw-- : +'ACME *' +'Burner 9000'"
        emu_out -- xorriso -devices || fail "xorriso -devices"
        expect_out "0 +-dev '/dev/sr0' rwrw-- : +'ACME *' +'Burner 9000'"
        emu_out -- ls -l /dev/sr0 || fail "ls -l /dev/sr0"
        expect_out "^brw-rw---- .* 11, +0 .* /dev/sr0$"
        emu_out -- cdrskin dev=/dev/sr0 -checkdrive || fail "cdrskin -checkdrive"
        expect_out "Revision +: '2.5 *'"
        expect_out "Supported modes: TAO SAO"
        emu_out -- cdrskin dev=/dev/sr0 -atip || fail "cdrskin -atip"
        expect_out "ATIP start of lead in: +-11634 \\(97:26/66\\)"
        expect_out "Product Id: +97m26s66f/79m59s74f"
        ;;

no-medium)
        emu --media none >/dev/null
        emu_out -- xorriso -outdev /dev/sr0 -toc || true
        expect_out "Media status : is not present"
        cdrskin_must_fail -tao "$T/tree/data.bin"
        expect_out "No suitable media|no media|not present"
        emu_out -- dd if=/dev/sr0 of=/dev/null count=1 && fail "dd from an empty drive succeeded"
        expect_out "No medium found"
        # The same through the fault: a CD-R is in the state, but the drive reports none.
        emu --media cd-r --fault no-medium >/dev/null
        emu_out -- xorriso -outdev /dev/sr0 -toc || true
        expect_out "Media status : is not present"
        emu --no-faults >/dev/null
        emu_out -- xorriso -outdev /dev/sr0 -toc || true
        expect_out "Media current: CD-R"
        ;;

cd-r-tao-data)
        make_iso "$T/img.iso" "$T/tree"
        emu --media cd-r >/dev/null
        cdrskin_burn -tao "$T/img.iso"
        same_prefix "$T/img.iso" "$S/sr0/track-01.bin"
        [ "$(medium_field 0 closed)" = 1 ] || fail "disc not closed after a non-multi TAO burn"
        emu_out -- cdrskin dev=/dev/sr0 -toc || fail "cdrskin -toc"
        expect_out "track: +1 lba: +0 .* control: 4 mode: 1"
        expect_out "Media summary: 1 sessions, 1 tracks, closed CD-R"
        toc_expect "Media status : is written , is closed" "ISO session +: +1 , +0 ,"
        read_back "$T/back.iso"
        same_prefix "$T/img.iso" "$T/back.iso"
        emu_out -- xorriso -osirrox on -indev /dev/sr0 -extract /data.bin "$T/data.out" || fail "extract"
        cmp "$T/tree/data.bin" "$T/data.out" || fail "extracted file differs"
        emu -- isoinfo -i /dev/sr0 -R -x /data.bin > "$T/isoinfo.out" || fail "isoinfo -x"
        cmp "$T/tree/data.bin" "$T/isoinfo.out" || fail "isoinfo extract differs"
        ;;

cd-r-tao-two-tracks)
        make_iso "$T/img.iso" "$T/tree"
        random_file "$T/second.bin" 1000000
        emu --media cd-r >/dev/null
        cdrskin_burn -tao "$T/img.iso" "$T/second.bin"
        same_prefix "$T/img.iso" "$S/sr0/track-01.bin"
        same_prefix "$T/second.bin" "$S/sr0/track-02.bin"
        emu_out -- cdrskin dev=/dev/sr0 -toc || fail "cdrskin -toc"
        expect_out "track: +2 lba: +[0-9]+ .* control: 4 mode: 1"
        expect_out "Media summary: 1 sessions, 2 tracks, closed CD-R"
        toc_expect "ISO session +: +1 , +0 ," "Other track +: +2 ," "Media summary: 1 session"
        ;;

simulation)
        # cdrskin -dummy sets Test Write in page 05h: the drive goes through the motions, records nothing.
        make_iso "$T/img.iso" "$T/tree"
        for m in "cd-r -sao" "cd-r -tao" "dvd-r -sao"; do
                set -- $m
                emu --media "$1" >/dev/null
                cdrskin_burn -dummy "$2" "$T/img.iso"
                [ "$(n_tracks 0)" = 0 ] || fail "simulated burn recorded a track on $m"
                [ ! -e "$S/sr0/track-01.bin" ] || fail "simulated burn wrote data on $m"
                toc_expect "Media status : is blank"
        done
        ;;

cd-r-sao-data)
        make_iso "$T/img.iso" "$T/tree"
        emu --media cd-r >/dev/null
        cdrskin_burn -sao "$T/img.iso"
        same_prefix "$T/img.iso" "$S/sr0/track-01.bin"
        [ "$(medium_field 0 closed)" = 1 ] || fail "SAO disc not closed"
        emu_out -- cdrskin dev=/dev/sr0 -toc || fail "cdrskin -toc"
        expect_out "Media summary: 1 sessions, 1 tracks, closed CD-R"
        toc_expect "Media status : is written , is closed" "ISO session +: +1 , +0 ,"
        read_back "$T/back.iso"
        same_prefix "$T/img.iso" "$T/back.iso"
        ;;

cd-r-audio-sao|cd-r-audio-tao)
        mode=-sao
        [ "$case_name" = cd-r-audio-tao ] && mode=-tao
        make_wav "$T/t1.wav" 600
        make_wav "$T/t2.wav" 450
        make_wav "$T/t3.wav" 300
        emu --media cd-r >/dev/null
        cdrskin_burn "$mode" -audio "$T/t1.wav" "$T/t2.wav" "$T/t3.wav"
        [ "$(n_tracks 0)" = 3 ] || fail "expected 3 tracks"
        n=1
        for w in t1 t2 t3; do
                wav_pcm "$T/$w.wav" > "$T/$w.pcm"
                f="$S/sr0/track-0$n.bin"
                [ "$(stat -c %s "$f")" = "$(stat -c %s "$T/$w.pcm")" ] || fail "track $n size"
                cmp "$T/$w.pcm" "$f" || fail "track $n differs from $w.wav"
                n=$((n + 1))
        done
        emu_out -- cdrskin dev=/dev/sr0 -toc || fail "cdrskin -toc"
        expect_out "track: +1 lba: +0 .* control: 0 mode: 0"
        expect_out "track: +3 lba: .* control: 0 mode: 0"
        expect_out "Media summary: 1 sessions, 3 tracks, closed CD-R"
        toc_expect "Other track +: +3 ," "Non-data blks: 1350"
        ;;

cd-r-audio-cdtext)
        # CD-TEXT in the SAO lead-in: what cdrskin writes it reads back from the disc (READ TOC
        # format 5), the same packs a second time from a new process.
        make_wav "$T/t1.wav" 300
        make_wav "$T/t2.wav" 300
        cat > "$T/sheet.v07t" <<'EOF2'
Input Sheet Version = 0.7T
Text Code = 8859
Language Code = English
Album Title = A Long Album Title Over Several Packs
Artist Name = The Emulated Band
Track 01 Title = First
Track 01 Artist = Singer A
Track 02 Title = Second Song
Track 02 Artist = Singer B
EOF2
        emu --media cd-r >/dev/null
        # A simulation sends the lead-in's text too, and nothing is recorded.
        cdrskin_burn -dummy -sao -audio input_sheet_v07t="$T/sheet.v07t" "$T/t1.wav" "$T/t2.wav"
        [ "$(n_tracks 0)" = 0 ] && [ -z "$(medium_field 0 cdtext)" ] || fail "a simulation recorded something"
        cdrskin_burn -sao -audio input_sheet_v07t="$T/sheet.v07t" "$T/t1.wav" "$T/t2.wav"
        [ -n "$(medium_field 0 cdtext)" ] || fail "no CD-TEXT recorded in the medium file"
        for i in 1 2; do
                emu_out -- cdrskin dev=/dev/sr0 cdtext_to_v07t=- || fail "cdrskin cdtext_to_v07t"
                for re in "Album Title += A Long Album Title Over Several Packs$" \
                          "Artist Name += The Emulated Band$" "Track 01 Title += First$" \
                          "Track 01 Artist += Singer A$" "Track 02 Title += Second Song$" \
                          "Track 02 Artist += Singer B$" "Text Code += 8859" "Language Code += English"; do
                        expect_out "$re"
                done
        done
        emu_out -- cdrskin dev=/dev/sr0 cdtext_to_textfile="$T/packs.cdt" || fail "cdtext_to_textfile"
        # The file is a 4-byte header and the packs; the same packs the medium keeps.
        tail -c +5 "$T/packs.cdt" | head -c "$(stat -c %s "$S/sr0/cdtext.bin")" | cmp - "$S/sr0/cdtext.bin" ||
                fail "cdtext_to_textfile differs from the recorded packs"
        # Blanking a CD-RW takes the text with it.
        emu --media cd-rw >/dev/null
        cdrskin_burn -sao -audio input_sheet_v07t="$T/sheet.v07t" "$T/t1.wav" "$T/t2.wav"
        emu_out -- cdrskin dev=/dev/sr0 gracetime=0 blank=fast || fail "blanking"
        [ -z "$(medium_field 0 cdtext)" ] && [ ! -e "$S/sr0/cdtext.bin" ] || fail "CD-TEXT survived blanking"
        # A drive without R-W sub-channel writing (feature 002Eh R-W off) refuses the lead-in's text.
        emu --media cd-r --no-cdtext >/dev/null
        cdrskin_must_fail -sao -audio input_sheet_v07t="$T/sheet.v07t" "$T/t1.wav" "$T/t2.wav"
        [ "$(n_tracks 0)" = 0 ] || fail "tracks written after the refused cue sheet"
        cdrskin_burn -sao -audio "$T/t1.wav" "$T/t2.wav"
        emu_out -- cdrskin dev=/dev/sr0 cdtext_to_v07t=- || true
        if grep -q "Album Title" "$T/out"; then fail "CD-TEXT on a disc written without it"; fi
        ;;

cd-r-multisession)
        emu --media cd-r >/dev/null
        emu_out -- xorriso -outdev /dev/sr0 -map "$T/tree" /s1 -close off -commit || fail "session 1"
        toc_expect "Media status : is written , is appendable"
        mkdir -p "$T/tree2"
        random_file "$T/tree2/second.bin" 700000
        emu_out -- xorriso -dev /dev/sr0 -map "$T/tree2" /s2 -close off -commit || fail "session 2"
        [ "$(n_sessions 0)" = 2 ] || fail "expected 2 sessions in the medium file"
        toc_expect "ISO session +: +1 , +0 ," "ISO session +: +2 , +[0-9]+ ," "Media summary: 2 sessions" \
                "Media status : is written , is appendable"
        emu_out -- xorriso -osirrox on -indev /dev/sr0 -extract /s2/second.bin "$T/second.out" \
                -extract /s1/data.bin "$T/data.out" || fail "extract"
        cmp "$T/tree2/second.bin" "$T/second.out" || fail "file from session 2 differs"
        cmp "$T/tree/data.bin" "$T/data.out" || fail "file from session 1 differs"
        emu_out -- cdrskin dev=/dev/sr0 -msinfo || fail "cdrskin -msinfo"
        expect_out "^[0-9]+,[0-9]+$"
        # cdrskin appends a third session and closes the disc.
        make_iso "$T/img3.iso" "$T/tree2"
        cdrskin_burn -tao "$T/img3.iso"
        emu_out -- cdrskin dev=/dev/sr0 -toc || fail "cdrskin -toc"
        expect_out "Media summary: 3 sessions, 3 tracks, closed CD-R"
        same_prefix "$T/img3.iso" "$S/sr0/track-03.bin"
        ;;

cd-rw-blank)
        make_iso "$T/img.iso" "$T/tree"
        emu --media cd-rw >/dev/null
        cdrskin_burn -tao -multi "$T/img.iso"
        toc_expect "Media current: CD-RW" "Media status : is written , is appendable"
        emu_out -- cdrskin -v dev=/dev/sr0 gracetime=0 blank=fast || fail "blank=fast"
        [ "$(n_tracks 0)" = 0 ] || fail "tracks left after blanking"
        [ ! -e "$S/sr0/track-01.bin" ] || fail "track file left after blanking"
        toc_expect "Media status : is blank"
        cdrskin_burn -sao "$T/img.iso"
        same_prefix "$T/img.iso" "$S/sr0/track-01.bin"
        # A drive that takes 3 s to blank reports progress while it works.
        emu --erase-seconds 3 >/dev/null
        emu_out -- cdrskin -v dev=/dev/sr0 gracetime=0 blank=all || fail "blank=all"
        expect_out "blanking \\( done [1-9][0-9]?\\.[0-9]%"
        toc_expect "Media status : is blank"
        # Blanking a written CD-R is refused.
        emu --media cd-r >/dev/null
        cdrskin_burn -tao -multi "$T/img.iso"
        if emu_out -- cdrskin -v dev=/dev/sr0 gracetime=0 blank=fast; then
                fail "blanking a CD-R succeeded"
        fi
        ;;

dvd-rw-blank)
        make_iso "$T/img.iso" "$T/tree"
        emu --media dvd-rw >/dev/null
        cdrskin_burn -tao -multi "$T/img.iso"
        same_prefix "$T/img.iso" "$S/sr0/track-01.bin"
        toc_expect "Media current: DVD-RW sequential recording" "Media status : is written , is appendable"
        emu_out -- cdrskin -v dev=/dev/sr0 gracetime=0 blank=fast || fail "blank=fast"
        [ "$(n_tracks 0)" = 0 ] || fail "tracks left after blanking"
        toc_expect "Media status : is blank"
        cdrskin_burn -sao "$T/img.iso"
        same_prefix "$T/img.iso" "$S/sr0/track-01.bin"
        toc_expect "Media status : is written , is closed"
        ;;

dvd-rw-format-ro)
        # xorriso formats a sequential DVD-RW to Restricted Overwrite (FORMAT UNIT 00h, full size) ...
        make_iso "$T/img.iso" "$T/tree"
        emu --media dvd-rw >/dev/null
        toc_expect "Media current: DVD-RW sequential recording" "Media status : is blank"
        emu_out -- xorriso -outdev /dev/sr0 -format as_needed || fail "xorriso -format as_needed"
        expect_out "Formatting done"
        [ "$(medium_field 0 medium)" = dvd-rw-ro ] || fail "not in Restricted Overwrite after formatting"
        [ "$(medium_field 0 formatted-blocks)" = 2295104 ] || fail "DVD-RW not formatted to full size"
        toc_expect "Media current: DVD-RW restricted overwrite" "Media status : is blank"
        # ... writes it like a DVD+RW, the first session at LBA 32, the next one after it ...
        emu_out -- xorriso -outdev /dev/sr0 -map "$T/tree" / -commit || fail "session 1"
        mkdir -p "$T/tree2"
        random_file "$T/tree2/second.bin" 700000
        emu_out -- xorriso -dev /dev/sr0 -map "$T/tree2" /two -commit || fail "session 2"
        toc_expect "Media current: DVD-RW restricted overwrite" "Media status : is written , is appendable" \
                "ISO session +: +1 , +32 ," "ISO session +: +2 , +[0-9]+ ," "Media summary: 2 sessions"
        emu_out -- xorriso -osirrox on -indev /dev/sr0 -extract / "$T/ext" || fail "extract"
        cmp "$T/tree/data.bin" "$T/ext/data.bin" || fail "session 1 file differs"
        cmp "$T/tree/hello.txt" "$T/ext/hello.txt" || fail "session 1 text differs"
        cmp "$T/tree2/second.bin" "$T/ext/two/second.bin" || fail "session 2 file differs"
        # The disc's blocks are in track-01.bin at LBA x 2048: session 1's volume descriptor at 32 + 16.
        pvd=$(dd if="$S/sr0/track-01.bin" bs=2048 skip=48 count=1 status=none | head -c 6 | tail -c 5)
        [ "$pvd" = CD001 ] || fail "no ISO volume descriptor at LBA 48 of track-01.bin"
        # ... and deformats it back to a blank sequential DVD-RW (BLANK, full), which burns sequentially.
        emu_out -- xorriso -outdev /dev/sr0 -blank deformat || fail "xorriso -blank deformat"
        [ "$(medium_field 0 medium)" = dvd-rw ] || fail "not sequential after deformat"
        [ ! -e "$S/sr0/track-01.bin" ] || fail "data left after deformat"
        toc_expect "Media current: DVD-RW sequential recording" "Media status : is blank"
        cdrskin_burn -tao -multi "$T/img.iso"
        same_prefix "$T/img.iso" "$S/sr0/track-01.bin"
        toc_expect "Media current: DVD-RW sequential recording" "Media status : is written , is appendable"
        ;;

dvd-rw-ro-cdrskin)
        # cdrskin's way: a 128 MiB quick format (15h) filled with zeros and closed; a burn, for which
        # libburn reopens the session (13h, 0 blocks) and closes it again; the quickest deformat
        # (minimal BLANK).
        make_iso "$T/img.iso" "$T/tree"
        emu --media dvd-rw >/dev/null
        emu_out -- cdrskin -v dev=/dev/sr0 gracetime=0 blank=format_overwrite || fail "format_overwrite"
        [ "$(medium_field 0 medium)" = dvd-rw-ro ] || fail "format_overwrite: not in Restricted Overwrite"
        [ "$(medium_field 0 formatted-blocks)" = 65536 ] && [ "$(medium_field 0 intermediate)" = 0 ] ||
                fail "format_overwrite: expected a closed 128 MiB formatted session"
        cmp -s -n 134217728 /dev/zero "$S/sr0/track-01.bin" || fail "format_overwrite did not write zeros"
        cdrskin_burn "$T/img.iso"
        same_prefix "$T/img.iso" "$S/sr0/track-01.bin"
        [ "$(medium_field 0 intermediate)" = 0 ] || fail "session left intermediate after the burn"
        toc_expect "Media current: DVD-RW restricted overwrite" "ISO session +: +1 , +0 ,"
        emu_out -- cdrskin -v dev=/dev/sr0 gracetime=0 blank=deformat_sequential_quickest ||
                fail "blank=deformat_sequential_quickest"
        toc_expect "Media current: DVD-RW sequential recording" "Media status : is blank"
        # Quickest format: an empty intermediate session, which xorriso writes from LBA 0.
        emu_out -- cdrskin -v dev=/dev/sr0 gracetime=0 blank=format_overwrite_quickest ||
                fail "blank=format_overwrite_quickest"
        [ "$(medium_field 0 intermediate)" = 1 ] || fail "format_overwrite_quickest: not intermediate"
        emu_out -- xorriso -outdev /dev/sr0 -map "$T/tree" / -commit || fail "burn onto intermediate DVD-RW"
        [ "$(medium_field 0 intermediate)" = 0 ] || fail "intermediate session not closed by the burn"
        toc_expect "Media current: DVD-RW restricted overwrite" "ISO session +: +1 , +0 ,"
        emu_out -- xorriso -osirrox on -indev /dev/sr0 -extract /data.bin "$T/data.out" || fail "extract"
        cmp "$T/tree/data.bin" "$T/data.out" || fail "file from the intermediate DVD-RW differs"
        ;;

overwritable-read-capacity)
        # A drive reports the whole formatted area in READ CAPACITY, written or not, and reads
        # never-written blocks as zeros.  Small discs (20000 blocks) so that reading the end is quick.
        make_iso "$T/img.iso" "$T/tree"
        for m in dvd+rw bd-re dvd-rw-ro; do
                emu --media "$m" --capacity 20000 >/dev/null
                cdrskin_burn "$T/img.iso"
                same_prefix "$T/img.iso" "$S/sr0/track-01.bin"
                written=$(( $(stat -c %s "$S/sr0/track-01.bin") / 2048 ))
                [ "$written" -lt 20000 ] || fail "$m: the burn was not small"
                # xorriso -check_media reads the session and lists the rest up to READ CAPACITY as untested.
                emu_out -- xorriso -indev /dev/sr0 -check_media use=indev -- || fail "$m: -check_media"
                expect_out "Media region : +[0-9]+ , +[0-9]+ , \\+ good"
                end=$(awk '/^Media region :/ { e = $4 + $6 } END { print e }' "$T/out")
                [ "$end" = 20000 ] || fail "$m: READ CAPACITY covers $end blocks, not the formatted 20000"
                # what=disc sweeps READ CAPACITY: the last, never-written blocks read (READ(10)) as zeros.
                emu_out -- xorriso -indev /dev/sr0 -check_media use=indev what=disc min_lba=19968 \
                        data_to="$T/tail.bin" -- || fail "$m: -check_media what=disc"
                expect_out "Media region : +19968 , +32 , \\+ good"
                cmp -s -n 65536 /dev/zero <(tail -c 65536 "$T/tail.bin") || fail "$m: unwritten not zero"
                # The block device agrees: its size and a dd of the last block.
                [ "$(emu -- blockdev --getsize64 /dev/sr0)" = $((20000 * 2048)) ] || fail "$m: BLKGETSIZE64"
                emu -- dd if=/dev/sr0 bs=2048 skip=19999 count=1 of="$T/last.bin" status=none ||
                        fail "$m: dd"
                cmp -s -n 2048 /dev/zero "$T/last.bin" && [ "$(stat -c %s "$T/last.bin")" = 2048 ] ||
                        fail "$m: dd of a never-written block did not give 2048 zero bytes"
                emu -- dd if=/dev/sr0 bs=2048 skip=20000 count=1 of="$T/past.bin" status=none ||
                        fail "$m: dd past the end"
                [ ! -s "$T/past.bin" ] || fail "$m: read() past READ CAPACITY returned data"
        done
        ;;

dvd+rw-xorriso)
        make_iso "$T/img.iso" "$T/tree"
        emu --media dvd+rw >/dev/null
        [ "$(medium_field 0 formatted)" = 0 ] || fail "new DVD+RW should be unformatted"
        cdrskin_burn "$T/img.iso"
        [ "$(medium_field 0 formatted)" = 1 ] || fail "DVD+RW not formatted by the burn"
        same_prefix "$T/img.iso" "$S/sr0/track-01.bin"
        toc_expect "Media current: DVD\\+RW" "ISO session +: +1 , +0 ,"
        # xorriso overwrites it with a new session of its own.
        emu_out -- xorriso -outdev /dev/sr0 -blank as_needed -map "$T/tree" /x -commit || fail "xorriso burn"
        emu_out -- xorriso -osirrox on -indev /dev/sr0 -extract /x/data.bin "$T/data.out" || fail "extract"
        cmp "$T/tree/data.bin" "$T/data.out" || fail "extracted file differs"
        read_back "$T/back.iso"
        cmp -n 2048 "$T/back.iso" "$S/sr0/track-01.bin" || fail "read back differs from track file"
        ;;

bd-r-xorriso)
        emu --media bd-r >/dev/null
        emu_out -- xorriso -outdev /dev/sr0 -map "$T/tree" / -close on -commit || fail "xorriso burn"
        toc_expect "Media current: BD-R sequential recording" "Media status : is written , is closed" \
                "ISO session +: +1 , +0 ,"
        emu_out -- xorriso -osirrox on -indev /dev/sr0 -extract /data.bin "$T/data.out" || fail "extract"
        cmp "$T/tree/data.bin" "$T/data.out" || fail "extracted file differs"
        # An ISO image with cdrskin onto a second BD-R, multi-session kept open.
        make_iso "$T/img.iso" "$T/tree"
        emu --media bd-r >/dev/null
        cdrskin_burn -multi "$T/img.iso"
        same_prefix "$T/img.iso" "$S/sr0/track-01.bin"
        toc_expect "Media status : is written , is appendable"
        read_back "$T/back.iso"
        same_prefix "$T/img.iso" "$T/back.iso"
        ;;

dvd-r-cdrskin)
        make_iso "$T/img.iso" "$T/tree"
        emu --media dvd-r >/dev/null
        cdrskin_burn -sao "$T/img.iso"
        same_prefix "$T/img.iso" "$S/sr0/track-01.bin"
        toc_expect "Media current: DVD-R sequential recording" "Media status : is written , is closed"
        emu --media dvd-r >/dev/null
        cdrskin_burn -tao -multi "$T/img.iso"
        same_prefix "$T/img.iso" "$S/sr0/track-01.bin"
        toc_expect "Media status : is written , is appendable"
        ;;

dvd+r-multisession)
        emu --media dvd+r >/dev/null
        emu_out -- xorriso -outdev /dev/sr0 -map "$T/tree" /s1 -close off -commit || fail "session 1"
        mkdir -p "$T/tree2"
        random_file "$T/tree2/second.bin" 500000
        emu_out -- xorriso -dev /dev/sr0 -map "$T/tree2" /s2 -close on -commit || fail "session 2"
        toc_expect "Media current: DVD\\+R$" "Media summary: 2 sessions" "Media status : is written , is closed"
        emu_out -- xorriso -osirrox on -indev /dev/sr0 -extract /s2/second.bin "$T/second.out" \
                -extract /s1/data.bin "$T/data.out" || fail "extract"
        cmp "$T/tree2/second.bin" "$T/second.out" || fail "session 2 file differs"
        cmp "$T/tree/data.bin" "$T/data.out" || fail "session 1 file differs"
        ;;

bd-re-cdrskin)
        make_iso "$T/img.iso" "$T/tree"
        emu --media bd-re >/dev/null
        cdrskin_burn "$T/img.iso"
        same_prefix "$T/img.iso" "$S/sr0/track-01.bin"
        toc_expect "Media current: BD-RE" "ISO session +: +1 , +0 ,"
        ;;

cd-rom-read)
        make_iso "$T/img.iso" "$T/tree"
        emu --media cd-rom --image "$T/img.iso" >/dev/null
        toc_expect "Media current: CD-ROM" "Media status : is written , is closed"
        emu_out -- xorriso -osirrox on -indev /dev/sr0 -extract /data.bin "$T/data.out" || fail "extract"
        cmp "$T/tree/data.bin" "$T/data.out" || fail "extracted file differs"
        # The block device itself reads like the sr driver's: dd and isoinfo see the image.
        emu -- dd if=/dev/sr0 bs=2048 of="$T/dd.iso" status=none || fail "dd from /dev/sr0"
        cmp "$T/img.iso" "$T/dd.iso" || fail "dd image differs"
        [ "$(emu -- blockdev --getsize64 /dev/sr0)" = "$(stat -c %s "$T/img.iso")" ] || fail "BLKGETSIZE64"
        emu -- isoinfo -i /dev/sr0 -R -x /data.bin > "$T/isoinfo.out" || fail "isoinfo -x"
        cmp "$T/tree/data.bin" "$T/isoinfo.out" || fail "isoinfo extract differs"
        cdrskin_must_fail -tao "$T/img.iso"
        ;;

two-drives)
        make_iso "$T/img.iso" "$T/tree"
        emu --drives 2 --drive 0 --media cd-r --vendor ALPHA --drive 1 --media dvd+rw --vendor BETA \
                --speeds 2770,5540 >/dev/null
        emu_out -- cdrskin --devices || fail "cdrskin --devices"
        expect_out "dev='/dev/sr0' +rwrw-- : +'ALPHA"
        expect_out "dev='/dev/sr1' +rwrw-- : +'BETA"
        emu_out -- cdrskin -v dev=/dev/sr1 gracetime=0 "$T/img.iso" || fail "burn on sr1"
        same_prefix "$T/img.iso" "$S/sr1/track-01.bin"
        [ ! -e "$S/sr0/track-01.bin" ] || fail "sr0 was written"
        emu_out -- xorriso -outdev /dev/sr1 -list_speeds || fail "list_speeds"
        expect_out "Write speed +: +5540k"
        expect_out "Write speed +: +2770k"
        emu_out -- xorriso -indev /dev/sr0 -toc || true
        expect_out "Media current: CD-R"
        expect_out "Media status : is blank"
        ;;

exclusive-open)
        emu --media cd-r >/dev/null
        # Hold /dev/sr0 with O_EXCL in one process; another gets EBUSY, as from the kernel.
        emu -- "$PY" - "$T" <<'PYEOF' || fail "exclusive open semantics"
import errno, os, subprocess, sys
fd = os.open("/dev/sr0", os.O_RDWR | os.O_EXCL | os.O_NONBLOCK)
try:
    os.open("/dev/sr0", os.O_RDWR | os.O_EXCL | os.O_NONBLOCK)
    sys.exit("second O_EXCL open in the same process succeeded")
except OSError as e:
    assert e.errno == errno.EBUSY, e
plain = os.open("/dev/sr0", os.O_RDONLY | os.O_NONBLOCK)   # without O_EXCL it is allowed
os.close(plain)
r = subprocess.run(["/usr/bin/python3", "-c",
                    "import os\nos.open('/dev/sr0', os.O_RDWR | os.O_EXCL | os.O_NONBLOCK)"],
                   capture_output=True, text=True)
assert r.returncode != 0 and "Device or resource busy" in r.stderr, r.stderr
os.close(fd)
r = subprocess.run(["/usr/bin/python3", "-c",
                    "import os\nos.close(os.open('/dev/sr0', os.O_RDWR | os.O_EXCL | os.O_NONBLOCK))"])
assert r.returncode == 0, "open after release failed"
PYEOF
        ;;

sgio-direct)
        emu --media cd-r >/dev/null
        emu -- "$PY" "${MMCEMU_SRCDIR:?}/sgio-check.py" "$S" "$RUN" || fail "SG_IO transport checks"
        ;;

fd-check)
        # MMCEMU_FDCHECK records the fd mistakes that a stray close() leaves behind; a program
        # that makes none leaves the record empty. Stock xorriso first, then the mistakes.
        emu --media cd-r >/dev/null
        MMCEMU_FDCHECK="$T/clean.log" emu_out -- xorriso -outdev /dev/sr0 -toc || fail "xorriso -toc"
        [ ! -s "$T/clean.log" ] || { cat "$T/clean.log" >&2; fail "a clean run left a record"; }
        MMCEMU_FDCHECK="$T/fd.log" emu -- "$PY" - "$T/file" <<'PYEOF' || fail "the fd mistakes"
import ctypes, fcntl, os, sys
libc = ctypes.CDLL(None, use_errno=True)
drive = os.open("/dev/sr0", os.O_RDONLY | os.O_NONBLOCK)
libc.syscall(3, drive)          # SYS_close: behind the emulator's back
other = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
assert other == drive, (other, drive)
try:
    fcntl.ioctl(other, 0x2282, b"\0" * 4)     # SG_GET_VERSION_NUM on what is now a file
except OSError:
    pass
os.close(other)
try:
    os.close(other)             # a double close
except OSError:
    pass
print(other)
PYEOF
        grep -q "STALE ioctl([0-9]*): a drive's fd, but it is '$T/file'" "$T/fd.log" || fail "no STALE record"
        grep -q "EBADF close([0-9]*)" "$T/fd.log" || fail "no EBADF record"
        grep -q "libmmcemu.so" "$T/fd.log" || fail "no backtrace"
        ;;

fault-write-protect)
        make_iso "$T/img.iso" "$T/tree"
        emu --media cd-r --fault write-protect >/dev/null
        cdrskin_must_fail -tao "$T/img.iso"
        expect_out "Write protected"
        [ "$(n_tracks 0)" = 0 ] || fail "a write-protected disc got a track"
        ;;

fault-loss-of-streaming)
        emu --media cd-r --fault loss-of-streaming=500 >/dev/null
        cdrskin_must_fail -tao "$T/tree/data.bin"
        expect_out "loss of streaming"
        emu --media dvd+rw --fault loss-of-streaming=300 >/dev/null
        make_iso "$T/img.iso" "$T/tree"
        cdrskin_must_fail "$T/img.iso"
        expect_out "loss of streaming"
        ;;

fault-write-error)
        emu --media cd-r --fault write-error=100 >/dev/null
        cdrskin_must_fail -tao "$T/tree/data.bin"
        expect_out "\\[3 0C 00\\]"
        ;;

fault-runtime-injection)
        # A slow drive (1500 kB/s), so the burn is still running when the fault arrives.
        random_file "$T/big.bin" 6000000
        emu --media cd-r --write-rate 1500 --buffer-kib 512 >/dev/null
        ( emu -- cdrskin -v dev=/dev/sr0 gracetime=0 -tao "$T/big.bin" > "$T/burn.log" 2>&1; echo $? > "$T/rc" ) &
        for _ in $(seq 300); do
                [ -s "$S/sr0/track-01.bin" ] && break
                sleep 0.1
        done
        [ -s "$S/sr0/track-01.bin" ] || fail "burn did not start"
        echo "write-protect" > "$S/sr0/faults"
        wait
        cat "$T/burn.log" >&2
        [ "$(cat "$T/rc")" != 0 ] || fail "burn succeeded despite the injected fault"
        grep -q "Write protected" "$T/burn.log" || fail "no write-protect error reported"
        [ "$(stat -c %s "$S/sr0/track-01.bin")" -lt 6000000 ] || fail "whole track written"
        # The tray forced open in the middle of a DVD burn: the medium is gone.
        emu --media dvd-r --no-faults >/dev/null
        ( emu -- cdrskin -v dev=/dev/sr0 gracetime=0 -tao "$T/big.bin" > "$T/burn.log" 2>&1; echo $? > "$T/rc" ) &
        for _ in $(seq 300); do
                [ -s "$S/sr0/track-01.bin" ] && break
                sleep 0.1
        done
        [ -s "$S/sr0/track-01.bin" ] || fail "DVD burn did not start"
        echo "tray-open" > "$S/sr0/faults"
        wait
        cat "$T/burn.log" >&2
        [ "$(cat "$T/rc")" != 0 ] || fail "DVD burn succeeded with the tray open"
        grep -q "Medium not present" "$T/burn.log" || fail "no 'Medium not present' error"
        ;;

fault-removed)
        emu --media cd-r --fault removed >/dev/null
        emu_out -- cdrskin --devices || true
        expect_out "No drives found|0 found"
        emu --no-faults >/dev/null
        random_file "$T/big.bin" 6000000
        emu --write-rate 1500 --buffer-kib 512 >/dev/null
        ( emu -- cdrskin -v dev=/dev/sr0 gracetime=0 -tao "$T/big.bin" > "$T/burn.log" 2>&1; echo $? > "$T/rc" ) &
        for _ in $(seq 300); do
                [ -s "$S/sr0/track-01.bin" ] && break
                sleep 0.1
        done
        echo "removed" > "$S/sr0/faults"
        wait
        cat "$T/burn.log" >&2
        [ "$(cat "$T/rc")" != 0 ] || fail "burn succeeded on a removed drive"
        grep -q "Lost connection to drive" "$T/burn.log" || fail "drive loss not reported"
        ;;

fault-busy)
        emu --media cd-r --fault busy >/dev/null
        emu_out -- cdrskin dev=/dev/sr0 -toc && fail "cdrskin -toc on a busy drive succeeded"
        expect_out "busy"
        ;;

fault-small-medium)
        emu --media cd-r --capacity 1000 >/dev/null
        random_file "$T/big.bin" 3000000
        cdrskin_must_fail -tao "$T/big.bin"
        emu --media dvd+rw --capacity 1000 >/dev/null
        emu_out -- xorriso -outdev /dev/sr0 -map "$T/big.bin" /big.bin -commit && fail "xorriso overfilled the disc"
        true
        ;;

buffer-underrun|buffer-burnfree)
        # 1000 kB/s drive with a 256 KiB buffer, fed by a pipe that stalls for 3 s:
        # the buffer runs dry.  Without BURN-Free that is loss of streaming.
        random_file "$T/part1" 1048576
        random_file "$T/part2" 1048576
        emu --media cd-r --write-rate 1000 --buffer-kib 256 --buffer-record >/dev/null
        opts=()
        [ "$case_name" = buffer-underrun ] && opts=(driveropts=noburnfree)
        rc=0
        { cat "$T/part1"; sleep 3; cat "$T/part2"; } |
                emu -- cdrskin -v dev=/dev/sr0 gracetime=0 fs=64k "${opts[@]}" -tao tsize=2097152 - \
                > "$T/out" 2>&1 || rc=$?
        cat "$T/out" >&2
        # The drive's record: a line per WRITE, the fill never above the 256 KiB, and the
        # laser on (D) once the buffer was full.
        R="$S/sr0/buffer.log"
        [ -s "$R" ] || fail "no buffer record"
        awk '$3 != 262144 || $2 > $3 { exit 1 }' "$R" || fail "buffer record: a fill above the capacity"
        grep -q ' D$' "$R" || fail "buffer record: the laser never started"
        if [ "$case_name" = buffer-underrun ]; then
                [ $rc != 0 ] || fail "burn survived a drained buffer without BURN-Free"
                expect_out "loss of streaming"
                grep -q ' U$' "$R" || fail "buffer record: the underrun is not in it"
        else
                grep -q ' U$' "$R" && fail "buffer record: an underrun with BURN-Free"
                [ $rc = 0 ] || fail "burn with BURN-Free failed"
                cat "$T/part1" "$T/part2" > "$T/all"
                same_prefix "$T/all" "$S/sr0/track-01.bin"
        fi
        ;;

libburn-status)
        # What a libburn application (like imapid) sees for each medium and state.
        L="${MMCEMU_TEST_LIBBURN:?}"
        check() {       # check WRAPPER-MEDIA-ARGS... -- KEY=VALUE...
                local args=() want
                while [ "$1" != -- ]; do args+=("$1"); shift; done
                shift
                emu "${args[@]}" >/dev/null
                emu -- "$L" /dev/sr0 > "$T/lb" 2>&1 || { cat "$T/lb" >&2; fail "test-libburn ${args[*]}"; }
                for want in "$@"; do
                        grep -qx -- "$want" "$T/lb" || { cat "$T/lb" >&2; fail "${args[*]}: no '$want'"; }
                done
        }
        check --media none -- status=empty
        check --media cd-r -- status=blank profile=0x0009 erasable=0 available_blocks=359849 multi_session=1
        check --media cd-r --status appendable -- status=appendable profile=0x0009
        check --media cd-r --status closed -- status=full
        check --media cd-rw --status closed -- status=full profile=0x000a erasable=1
        check --media cd-rom -- status=full profile=0x0008
        check --media dvd-r -- status=blank profile=0x0011
        check --media dvd-r --status appendable -- status=appendable
        check --media dvd-rw -- status=blank profile=0x0014 erasable=1
        check --media dvd-rw-ro -- status=blank profile=0x0013 erasable=1 available_blocks=2295104 \
                multi_session=0
        check --media dvd-rw-ro --unformatted -- status=blank profile=0x0013
        check --media dvd+r -- status=blank profile=0x001b
        check --media dvd+r --status closed -- status=full
        check --media dvd+rw -- status=blank profile=0x001a
        check --media bd-r --capacity 100000 -- status=blank profile=0x0041 available_blocks=100000
        check --media bd-r --status closed -- status=full profile=0x0041
        check --media bd-re -- status=blank profile=0x0043
        check --media cd-r --vendor ACME --product "Burner 9000" --revision 2.5 --speeds 1764,3528 -- \
                vendor=ACME product="Burner 9000" revision=2.5 write_speed=1764 write_speed=3528
        check --media cd-r --fault no-medium -- status=empty
        ;;

tray-eject)
        emu --media cd-r >/dev/null
        emu_out -- cdrskin dev=/dev/sr0 -eject || fail "cdrskin -eject"
        [ "$(medium_field 0 tray)" = open ] || fail "tray not open after eject"
        # The next program's grab loads the tray again, as libburn does with a real drive.
        toc_expect "Media current: CD-R" "Media status : is blank"
        [ "$(medium_field 0 tray)" = closed ] || fail "tray not closed by the load"
        # A tray held open (fault) cannot be loaded: no medium.
        emu --fault tray-open >/dev/null
        emu_out -- xorriso -outdev /dev/sr0 -toc || true
        expect_out "Media status : is not present"
        # A medium change signalled before a program starts does not keep it from the disc
        # (the UNIT ATTENTION for running programs is checked in sgio-direct).
        emu --fault medium-changed >/dev/null
        toc_expect "Media current: CD-R" "Media status : is blank"
        ;;

*)
        fail "unknown case $case_name"
        ;;
esac
echo "PASS: $case_name"
