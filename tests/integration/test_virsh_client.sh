# Rung 2: the shim preloaded into a real libvirt client, `virsh -c test:///default`.
. "$(dirname "$0")/lib.sh"

CONFIG=$WORK/config SYSFS=$WORK/sysfs
make_config "$CONFIG"
make_sysfs "$SYSFS"
add_rom "$CONFIG" vbios_1002_1638.bin
add_snippet "$CONFIG" igpu.xml '<passthrough vm="Living room">
  <pci address="08:00.0" vendor="1002" product="1638" rom="vbios_1002_1638.bin"/>
  <pci address="08:00.1"/>
</passthrough>'
add_snippet "$CONFIG" broken-rom.xml '<passthrough vm="no-rom">
  <pci address="05:00.0" rom="missing.bin"/>
</passthrough>'

run_virsh() {
    env SYNOPASSTHRU_CONFIG_DIR="$CONFIG" LD_PRELOAD="$SHIM" virsh -c test:///default "$@"
}

test_domain vm-uuid-1 "Living room" > "$WORK/matched.xml"
test_domain other-vm > "$WORK/unmatched.xml"
test_domain no-rom > "$WORK/norom.xml"

run_virsh "create $WORK/matched.xml; dumpxml vm-uuid-1; create $WORK/unmatched.xml; dumpxml other-vm" \
    > "$WORK/out" 2> "$WORK/err"
check "virsh create through the shim succeeds" test $? -eq 0
sed -n '/<name>vm-uuid-1</,/<\/domain>/p' "$WORK/out" > "$WORK/matched.dump"
sed -n '/<name>other-vm</,/<\/domain>/p' "$WORK/out" > "$WORK/unmatched.dump"
contains "matched VM has two hostdevs" "$WORK/matched.dump" "<hostdev mode='subsystem' type='pci' managed='no'>" 2
contains "its ROM has the absolute path" "$WORK/matched.dump" "<rom file='$CONFIG/rom/vbios_1002_1638.bin'/>" 1
contains "host 08:00.0 is there" "$WORK/matched.dump" "<address domain='0x0000' bus='0x08' slot='0x00' function='0x0'/>" 1
contains "both functions share guest slot 0x1f" "$WORK/matched.dump" "bus='0x00' slot='0x1f'" 2
contains "function 0 is multifunction" "$WORK/matched.dump" "multifunction='on'" 1
contains "unmatched VM has no hostdev" "$WORK/unmatched.dump" "<hostdev" 0

run_virsh "create $WORK/norom.xml" > "$WORK/out2" 2> "$WORK/err2"
check "a VM whose ROM is missing is refused" test $? -ne 0
contains "the refusal names VM, ROM, device and cause" "$WORK/err2" \
    "error: synopassthru: VM 'no-rom': ROM $CONFIG/rom/missing.bin for 0000:05:00.0: No such file or directory"

contains "one bind record for the matched start" "$CONFIG/audit.log" '"event":"bind","api":"virDomainCreateXML","vm":{"name":"vm-uuid-1"' 1
contains "one start record for it" "$CONFIG/audit.log" '"event":"start","api":"virDomainCreateXML","vm":{"name":"vm-uuid-1"' 1
contains "the record says ok and libvirt succeeded" "$CONFIG/audit.log" '"result":"ok"' 1
contains "one audit record for the refusal" "$CONFIG/audit.log" '"result":"refused"' 1
contains "no record for the unmatched VM" "$CONFIG/audit.log" 'other-vm' 0
check "the audit log is mode 0600" test "$(stat -c %a "$CONFIG/audit.log")" = 600
