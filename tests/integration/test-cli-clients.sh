#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# busctl, gdbus and dbus-send against imapid: introspection, properties, and the exact D-Bus error
# names of IDiscRecorder's rules. Run through with-imapid.py, which provides the bus and daemon.
set -u
ADDR=$IMAPI_BUS_ADDRESS
NAME=org.imapid.Imapi1
REC=/org/imapid/Imapi1/recorders/stdio0
IFACE=org.imapid.Imapi1.Recorder
ERR=org.imapid.Imapi1.Error
n=0 failed=0

check() {       # check DESCRIPTION COMMAND... : the command must succeed
        n=$((n + 1))
        local what=$1; shift
        if "$@"; then echo "ok $n - $what"; else echo "not ok $n - $what"; failed=$((failed + 1)); fi
}

# busctl prints only the message of an error; its debug log shows the error name received.
busctl_error_name() {
        SYSTEMD_LOG_LEVEL=debug busctl --address="$ADDR" call "$@" 2>&1 |
                sed -n 's/.*type=error .*error-name=\([^ ]*\) .*/\1/p' | tail -n 1
}

export -f busctl_error_name
export ADDR

# busctl
check "busctl tree lists the recorder" \
        bash -c "busctl --address='$ADDR' tree --list $NAME | grep -qx '$REC'"
check "busctl introspect shows QueryMediaType(ii)" \
        bash -c "busctl --address='$ADDR' introspect $NAME $REC $IFACE | grep -Eq '^\.QueryMediaType +method +- +ii'"
check "busctl get-property Vendor" \
        bash -c "[ \"\$(busctl --address='$ADDR' get-property $NAME $REC $IFACE Vendor)\" = 's \"YOYODYNE\"' ]"
check "busctl: QueryMediaType before OpenExclusive is IMAPI_E_NOTOPENED" \
        bash -c "[ \"\$(busctl_error_name $NAME $REC $IFACE QueryMediaType)\" = '$ERR.IMAPI_E_NOTOPENED' ]"
check "busctl: unknown property is ignored with IMAPI_S_PROPERTIESIGNORED" \
        bash -c "[ \"\$(busctl --address='$ADDR' call $NAME $REC $IFACE SetRecorderProperties 'a{sv}' 1 Foo s bar)\" = 'u 262656' ]"
check "busctl: AudioGapSize 500 is E_INVALIDARG" \
        bash -c "[ \"\$(busctl_error_name $NAME $REC $IFACE SetRecorderProperties 'a{sv}' 1 AudioGapSize i 500)\" = '$ERR.E_INVALIDARG' ]"
# gdbus
check "gdbus introspect" \
        bash -c "gdbus introspect -a '$ADDR' -d $NAME -o $REC | grep -q 'OpenExclusive(in  a{sv} options)'"
out=$(gdbus call -a "$ADDR" -d $NAME -o $REC -m $IFACE.Close '{}' 2>&1)
check "gdbus: Close without OpenExclusive is IMAPI_E_NOTOPENED with the HRESULT first" \
        bash -c "[[ '$out' == *'GDBus.Error:$ERR.IMAPI_E_NOTOPENED: 0x8004020B: '* ]]"
out=$(gdbus call -a "$ADDR" -d $NAME -o $REC -m $IFACE.SetRecorderProperties "{'MaxWriteSpeed': <8>}")
check "gdbus: read-only MaxWriteSpeed gives IMAPI_S_PROPERTIESIGNORED" [ "$out" = "(uint32 262656,)" ]

# dbus-send, while a python-dbus client holds the recorder
holder_fifo=$IMAPI_TMP/holder
mkfifo "$holder_fifo"
/usr/bin/python3 -c "
import dbus, sys, os
bus = dbus.bus.BusConnection('$ADDR')
dbus.Interface(bus.get_object('$NAME', '$REC'), '$IFACE').OpenExclusive({})
print('held', flush=True)
sys.stdin.read()
" < "$holder_fifo" > "$IMAPI_TMP/holder.out" &
holder=$!
exec 7>"$holder_fifo"
for _ in $(seq 200); do grep -q held "$IMAPI_TMP/holder.out" 2>/dev/null && break; sleep 0.05; done
out=$(gdbus call -a "$ADDR" -d $NAME -o $REC -m $IFACE.OpenExclusive '{}' 2>&1)
check "gdbus: OpenExclusive held by another client is IMAPI_E_DEVICE_STILL_IN_USE" \
        bash -c "[[ '$out' == *'GDBus.Error:$ERR.IMAPI_E_DEVICE_STILL_IN_USE: 0x80040226: '* ]]"
# dbus-send cannot build a{sv}; QueryMediaType takes no arguments.
out=$(dbus-send --bus="$ADDR" --print-reply --dest=$NAME $REC $IFACE.QueryMediaType 2>&1)
check "dbus-send: QueryMediaType by a client that does not hold the recorder is IMAPI_E_NOTOPENED" \
        bash -c "[[ '$out' == 'Error $ERR.IMAPI_E_NOTOPENED: 0x8004020B: '* ]]"
out=$(dbus-send --bus="$ADDR" --print-reply --dest=$NAME $REC org.freedesktop.DBus.Properties.Get \
        string:$IFACE string:State 2>&1)
check "dbus-send: State is RECORDER_OPENED while held" bash -c "[[ '$out' == *'uint32 1'* ]]"
exec 7>&-
wait $holder

echo "1..$n"
[ $failed -eq 0 ]
