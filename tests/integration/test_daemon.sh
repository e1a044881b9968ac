# Rung 3: a real libvirtd, started here with the shim preloaded (private
# socket dir and pid file, stopped by its pid), and virsh over its socket.
# The test driver drops its state when the last client leaves, so each
# scenario is one virsh session.
. "$(dirname "$0")/lib.sh"

CONFIG=$WORK/config SYSFS=$WORK/sysfs
make_config "$CONFIG"
make_sysfs "$SYSFS"
add_rom "$CONFIG" vbios_1002_1638.bin
add_snippet "$CONFIG" igpu.xml '<passthrough vm="win11">
  <pci address="08:00.0" vendor="1002" product="1638" rom="vbios_1002_1638.bin"/>
  <pci address="08:00.1" vendor="1002" product="1637"/>
</passthrough>'
add_snippet "$CONFIG" usb.xml '<passthrough vm="win11"><pci vendor="1022" product="1639"/></passthrough>'
add_snippet "$CONFIG" missing-rom.xml '<passthrough vm="no-rom"><pci address="05:00.0" rom="nope.bin"/></passthrough>'

start_daemon "$CONFIG" "$SYSFS" || exit 1
pass "libvirtd started with the shim (pid $DAEMON_PID)"
check "the shim is mapped in libvirtd" grep -qF "$SHIM" "/proc/$DAEMON_PID/maps"

remote() { virsh -c "$DAEMON_URI" "$@"; }
# The shim in the client too: both patch, each device must appear once.
remote_with_shim() {
    env SYNOPASSTHRU_CONFIG_DIR="$CONFIG" LD_PRELOAD="$SHIM" virsh -c "$DAEMON_URI" "$@"
}
section() { sed -n "/<name>$2</,/<\/domain>/p" "$1"; }

test_domain win11 > "$WORK/win11.xml"
test_domain plain > "$WORK/plain.xml"
test_domain no-rom > "$WORK/norom.xml"
test_domain late > "$WORK/late.xml"

# Scenario 1: a matched and an unmatched VM.
remote "create $WORK/win11.xml; dumpxml win11; create $WORK/plain.xml; dumpxml plain" \
    > "$WORK/s1" 2> "$WORK/s1.err"
check "matched and unmatched VMs start through libvirtd" test $? -eq 0
section "$WORK/s1" win11 > "$WORK/s1.win11"
section "$WORK/s1" plain > "$WORK/s1.plain"
contains "matched VM: GPU, audio and two USB controllers" "$WORK/s1.win11" "<hostdev mode='subsystem' type='pci' managed='no'>" 4
contains "matched VM: absolute ROM path" "$WORK/s1.win11" "<rom file='$CONFIG/rom/vbios_1002_1638.bin'/>" 1
contains "unmatched VM: untouched" "$WORK/s1.plain" "<hostdev" 0

# Scenario 2: the shim in both virsh and the daemon.
remote_with_shim "create $WORK/win11.xml; dumpxml win11" > "$WORK/s2" 2> "$WORK/s2.err"
check "create with the shim on both sides" test $? -eq 0
for fn in 0x0 0x1; do
    contains "host 08:00.$fn appears once" "$WORK/s2" \
        "<address domain='0x0000' bus='0x08' slot='0x00' function='$fn'/>" 1
done
contains "host 08:00.3 appears once" "$WORK/s2" "<address domain='0x0000' bus='0x08' slot='0x00' function='0x3'/>" 1

# Scenario 3: a refused VM; the daemon keeps running.
remote "create $WORK/norom.xml" > "$WORK/s3" 2> "$WORK/s3.err"
check "VM with a missing ROM is refused" test $? -ne 0
contains "the client sees the shim's message" "$WORK/s3.err" \
    "error: synopassthru: VM 'no-rom': ROM $CONFIG/rom/nope.bin for 0000:05:00.0: No such file or directory"
check "libvirtd is still running" daemon_alive
remote "create $WORK/plain.xml; list --name" > "$WORK/s3b" 2>&1
# `list --name` prints one name a line: the whole line, not the file name
# an error message would carry.
check "and still starts VMs" grep -qx plain "$WORK/s3b"

# Scenario 3b: a ROM that belongs to another device is refused.
add_rom "$CONFIG" nvidia.bin wrong-ids
add_snippet "$CONFIG" wrongrom.xml '<passthrough vm="wrongrom"><pci address="08:00.0" rom="nvidia.bin"/></passthrough>'
test_domain wrongrom > "$WORK/wrongrom.xml"
remote "create $WORK/wrongrom.xml" > "$WORK/s3c" 2>&1
check "VM whose ROM is for another device is refused" test $? -ne 0
contains "naming the ROM, the device and both IDs" "$WORK/s3c" \
    "ROM $CONFIG/rom/nvidia.bin for 0000:08:00.0 (1002:1638) belongs to another device: its images name 10de:1b80"

# Scenario 4: a snippet added while the daemon runs applies to the next start.
add_snippet "$CONFIG" late.xml '<passthrough vm="late"><pci address="06:00.0"/></passthrough>'
remote "create $WORK/late.xml; dumpxml late" > "$WORK/s4" 2> "$WORK/s4.err"
check "create after adding a snippet" test $? -eq 0
contains "the new snippet is applied without a restart" "$WORK/s4" \
    "<address domain='0x0000' bus='0x06' slot='0x00' function='0x0'/>" 1

# Scenario 5: a broken snippet refuses its VM and nothing else.
add_snippet "$CONFIG" late.xml '<passthrough vm="late"><pci address="06:00.0"></passthrough>'
remote "create $WORK/late.xml" > "$WORK/s5" 2> "$WORK/s5.err"
check "a VM whose snippet is broken is refused" test $? -ne 0
contains "with file, line and cause" "$WORK/s5.err" "synopassthru: VM 'late': $CONFIG/vm.d/late.xml:1: Opening and ending tag mismatch"
remote "create $WORK/plain.xml" > "$WORK/s5b" 2>&1
check "other VMs still start" test $? -eq 0

# Scenario 6: six VMs start at the same moment and name the same device:
# libvirtd's worker pool runs them in parallel; exactly one gets it.
add_snippet "$CONFIG" pool.xml '<passthrough vm="Pool"><pci address="05:00.0" vendor="8086" product="10fb"/></passthrough>'
pids=()
for i in 1 2 3 4 5 6; do
    test_domain "pool-$i" "Pool" > "$WORK/pool-$i.xml"
    remote "create $WORK/pool-$i.xml; dumpxml pool-$i" > "$WORK/pool-$i.out" 2>&1 &
    pids+=($!)
done
winners=0 losers=0
for i in 1 2 3 4 5 6; do
    if wait "${pids[$((i - 1))]}"; then winners=$((winners + 1)); winner=pool-$i
    else losers=$((losers + 1)); fi
done
check "exactly one of six parallel starts got the device" test "$winners" -eq 1
check "the five others were refused" test "$losers" -eq 5
cat "$WORK"/pool-*.out > "$WORK/pool.all"
contains "each refusal names the VM that holds it" "$WORK/pool.all" \
    "device 0000:05:00.0 is held by VM '${winner:-?}'" 5
contains "six whole audit records for the parallel starts" "$CONFIG/audit.log" '"title":"Pool"},"snippets"' 6
check "the device is on vfio-pci for the winner" test "$(driver_of "$SYSFS" 0000:05:00.0)" = vfio-pci

check "libvirtd is alive at the end" daemon_alive
contains "audit: records for the matched starts" "$CONFIG/audit.log" '"result":"ok"' 5
contains "audit: records for the refusals" "$CONFIG/audit.log" '"result":"refused"' 8
check "every audit line is whole JSON" python3 -c '
import json, sys
for line in open(sys.argv[1]): json.loads(line)' "$CONFIG/audit.log"

# Scenario 7: a hostile domain for a VM a snippet names, its title 130 KB of
# references to a DOCTYPE's entities that stand for 1.3 GB, is refused, and
# the daemon's memory does not grow: the shim never expands an entity (it
# once did, and libvirtd went from 2 GB to 3 GB).
add_snippet "$CONFIG" hostile.xml '<passthrough vm="hostile"><pci address="06:00.0"/></passthrough>'
python3 - "$WORK/hostile.xml" <<'PY'
import sys
dtd = '<!DOCTYPE domain [<!ENTITY a "%s"><!ENTITY b "%s">]>\n' % ("y" * 3000, "&a;" * 10)
open(sys.argv[1], "w").write(dtd + "<domain type='test'><name>hostile</name><title>%s</title>"
    "<memory unit='KiB'>65536</memory><os><type arch='x86_64'>hvm</type></os></domain>\n"
    % ("&b;" * 43334))
PY
kb() { awk -v key="$1:" '$1 == key { print $2 }' "/proc/$DAEMON_PID/status"; }
remote "create $WORK/plain.xml" > /dev/null 2>&1   # warm: the same path once, harmless
rss_before=$(kb VmRSS)
# 5 resets the peak (VmHWM) to the current RSS (Linux 4.0+).
echo 5 > "/proc/$DAEMON_PID/clear_refs" 2>/dev/null || true
hwm_before=$(kb VmHWM)
remote "create $WORK/hostile.xml" > "$WORK/s7" 2>&1
check "a DOCTYPE domain for a named VM is refused" test $? -ne 0
contains "the client is told why" "$WORK/s7" \
    "error: synopassthru: VM 'hostile': domain XML with a DOCTYPE is not supported"
rss_after=$(kb VmRSS) hwm_after=$(kb VmHWM)
echo "MEASURE daemon VmRSS ${rss_before} -> ${rss_after} kB, VmHWM ${hwm_before} -> ${hwm_after} kB"
check "libvirtd's RSS grew by less than 4 MB ($rss_before -> $rss_after kB)" \
    test $((rss_after - rss_before)) -lt 4096
check "and so did its peak ($hwm_before -> $hwm_after kB)" test $((hwm_after - hwm_before)) -lt 4096
check "libvirtd still starts VMs" remote "create $WORK/plain.xml"

pid=$DAEMON_PID
stop_daemon
check "libvirtd stopped by its pid" test -z "$DAEMON_PID"
check "and is gone" bash -c "! kill -0 $pid 2>/dev/null"
