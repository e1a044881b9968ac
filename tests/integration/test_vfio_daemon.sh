# The vfio step through a real libvirtd (shim preloaded) on a fake AMD APU
# host with the kernel model: devices go to vfio-pci before the domain is
# created, refusals leave every driver as it was, a hanging unbind is cut
# off by the timeout while libvirtd keeps serving, and a failed create
# gives the devices back.
. "$(dirname "$0")/lib.sh"

CONFIG=$WORK/config SYSFS=$WORK/sysfs
HELPER_TIMEOUT_MS=1500 make_config "$CONFIG"
make_sysfs "$SYSFS" amd-apu
add_snippet "$CONFIG" igpu.xml '<passthrough vm="win11">
  <pci address="08:00.0" vendor="1002" product="1638"/>
  <pci address="08:00.1" vendor="1002" product="1637"/>
</passthrough>'
add_snippet "$CONFIG" nic.xml '<passthrough vm="router"><pci address="03:00.0" vendor="8086" product="15f3"/></passthrough>'
add_snippet "$CONFIG" usb.xml '<passthrough vm="usb-vm"><pci address="08:00.3"/></passthrough>'
add_snippet "$CONFIG" nobind.xml '<passthrough vm="nobind" bind="no"><pci address="08:00.6"/></passthrough>'
add_snippet "$CONFIG" bad.xml '<passthrough vm="badmem"><pci address="06:00.0"/></passthrough>'

start_daemon "$CONFIG" "$SYSFS" || exit 1
remote() { virsh -c "$DAEMON_URI" "$@"; }
drivers() { for a in "$@"; do printf '%s=%s ' "$a" "$(driver_of "$SYSFS" "$a")"; done; }

# 1. Bound before the domain exists: the audit log has "bind" before "start".
test_domain win11 > "$WORK/win11.xml"
remote "create $WORK/win11.xml; dumpxml win11" > "$WORK/s1" 2>&1
check "win11 starts" test $? -eq 0
contains "with its two functions" "$WORK/s1" "<hostdev mode='subsystem' type='pci' managed='no'>" 2
check "08:00.0 and 08:00.1 are on vfio-pci" \
    test "$(drivers 0000:08:00.0 0000:08:00.1)" = "0000:08:00.0=vfio-pci 0000:08:00.1=vfio-pci "
grep -o '"event":"[a-z]*"' "$CONFIG/audit.log" > "$WORK/events"
check "the audit log records the bind, then the start" \
    test "$(tr '\n' ' ' < "$WORK/events")" = '"event":"bind" "event":"start" '
contains "the bind record says what each device had" "$CONFIG/audit.log" '"bound 0000:08:00.0 was=amdgpu"' 2
check "the state dir holds both devices for win11" grep -q '^vm=win11$' "$CONFIG/state/0000:08:00.0.hold"

# 2. A non-viable group is refused, naming the culprits; nothing is unbound.
before=$(drivers 0000:03:00.0 0000:02:00.0 0000:02:00.1)
test_domain router > "$WORK/router.xml"
remote "create $WORK/router.xml" > "$WORK/s2" 2>&1
check "router is refused" test $? -ne 0
contains "the refusal names the group and a culprit" "$WORK/s2" "IOMMU group 2 is not viable, it also holds 0000:02:00.0 [1022:43ee]"
check "no driver changed" test "$(drivers 0000:03:00.0 0000:02:00.0 0000:02:00.1)" = "$before"

# 3. bind="no": the device is injected but left alone.
test_domain nobind > "$WORK/nobind.xml"
remote "create $WORK/nobind.xml; dumpxml nobind" > "$WORK/s3" 2>&1
check "bind=no VM starts" test $? -eq 0
contains "its device is injected" "$WORK/s3" "function='0x6'/>" 1
check "and keeps its host driver" test "$(driver_of "$SYSFS" 0000:08:00.6)" = snd_hda_intel

# 4. libvirt refuses the domain after the bind: the device goes back.
printf "<domain type='test'><name>badmem</name><memory>lots</memory><os><type>hvm</type></os></domain>" > "$WORK/badmem.xml"
remote "create $WORK/badmem.xml" > "$WORK/s4" 2>&1
check "libvirt refuses badmem" test $? -ne 0
check "its TPU is back without a driver" test "$(driver_of "$SYSFS" 0000:06:00.0)" = ""
check "and no hold is left" test ! -e "$CONFIG/state/0000:06:00.0.hold"
contains "the audit record has libvirt's error" "$CONFIG/audit.log" '"libvirt":{"ok":false,"error":"' 1

# 5. A driver that hangs in unbind: refused within the timeout, daemon alive.
touch "$SYSFS/bus/pci/drivers/xhci_hcd/.hang-unbind"
test_domain usb-vm > "$WORK/usb.xml"
start=$EPOCHREALTIME
remote "create $WORK/usb.xml" > "$WORK/s5" 2>&1 &
hung=$!
sleep 0.3
remote "list --all --name" > "$WORK/s5-list" 2>&1
check "libvirtd serves other clients meanwhile" test $? -eq 0
wait $hung
check "the start with the hanging driver is refused" test $? -ne 0
elapsed=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
check "within the timeout (1500 ms; took $elapsed ms)" test "$elapsed" -lt 4000
contains "the message says the helper was killed" "$WORK/s5" "did not finish within 1500 ms and was killed"
check "libvirtd is alive" daemon_alive
rm -f "$SYSFS/bus/pci/drivers/xhci_hcd/.hang-unbind"

# 6. release gives the iGPU back to amdgpu: win11 counts as running (its
# hold is under two minutes old), so only by force, and the refusal names it.
SYNOPASSTHRU_SYSFS_ROOT=$SYSFS "$CLI" --config "$CONFIG" release 0000:08:00.0 > "$WORK/s6a" 2>&1
check "release while win11 counts as running is refused" test $? -eq 1
contains "naming win11" "$WORK/s6a" "is held by VM 'win11', which still counts as running"
check "the iGPU stays on vfio-pci" test "$(driver_of "$SYSFS" 0000:08:00.0)" = vfio-pci
SYNOPASSTHRU_SYSFS_ROOT=$SYSFS "$CLI" --config "$CONFIG" release --force 0000:08:00.0 0000:08:00.1 > "$WORK/s6" 2>&1
check "release --force succeeds" test $? -eq 0
check "amdgpu and snd_hda_intel have them back" \
    test "$(drivers 0000:08:00.0 0000:08:00.1)" = "0000:08:00.0=amdgpu 0000:08:00.1=snd_hda_intel "
check "new_id was never used" test ! -e "$SYSFS/.new_id-used"

# 7. release="yes": once the VM stops, its device is back on its host driver.
add_snippet "$CONFIG" ccp.xml '<passthrough vm="ccp-vm" release="yes"><pci address="08:00.2"/></passthrough>'
test_domain ccp-vm > "$WORK/ccp.xml"
remote "create $WORK/ccp.xml" > "$WORK/s7" 2>&1
check "a release=yes VM starts" test $? -eq 0
check "with its device on vfio-pci" test "$(driver_of "$SYSFS" 0000:08:00.2)" = vfio-pci
contains "the hold says to release it" "$CONFIG/state/0000:08:00.2.hold" "release=1"
remote "destroy ccp-vm" > "$WORK/s7b" 2>&1
check "the VM is destroyed" test $? -eq 0
for _ in $(seq 1 50); do
    [ "$(driver_of "$SYSFS" 0000:08:00.2)" = ccp ] && break
    sleep 0.1
done
check "the device is back on its host driver" test "$(driver_of "$SYSFS" 0000:08:00.2)" = ccp
check "and its hold is gone" test ! -e "$CONFIG/state/0000:08:00.2.hold"
check "libvirtd is alive at the end" daemon_alive
