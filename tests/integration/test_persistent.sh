# Persistent domains through the real libvirtd (shim preloaded): define +
# start gets the devices in the live domain while the stored definition
# stays as the manager wrote it; a start interrupted after storing the
# patched definition is healed by the next one; live XML written back by
# define loses what the shim added, raw <hostdev> elements (USB, SCSI)
# included; two clients starting one VM at once; a VM manager's domain
# whose emulated display gives way (video="none") and whose guest is not
# told it runs under KVM (hypervisor="hidden"), the definition it had given
# back when its live XML is defined.
. "$(dirname "$0")/lib.sh"

CONFIG=$WORK/config SYSFS=$WORK/sysfs
make_config "$CONFIG"
make_sysfs "$SYSFS" amd-apu
add_rom "$CONFIG" vbios_1002_1638.bin
add_snippet "$CONFIG" desk.xml '<passthrough vm="desk">
  <pci address="08:00.0" vendor="1002" product="1638" rom="vbios_1002_1638.bin" functions="all"/>
</passthrough>'
add_snippet "$CONFIG" tpu.xml '<passthrough vm="frigate"><pci address="06:00.0"/></passthrough>'
add_snippet "$CONFIG" race.xml '<passthrough vm="race"><pci address="05:00.0"/></passthrough>'
add_snippet "$CONFIG" marked.xml '<passthrough vm="marked"><pci address="01:00.0"/></passthrough>'
add_snippet "$CONFIG" office.xml '<passthrough vm="office">
  <hostdev mode="subsystem" type="usb"><source><vendor id="0x046d"/><product id="0xc52b"/></source></hostdev>
  <hostdev mode="subsystem" type="scsi"><source><adapter name="scsi_host2"/><address bus="0" target="1" unit="0"/></source></hostdev>
</passthrough>'
add_snippet "$CONFIG" office2.xml '<passthrough vm="office2">
  <hostdev mode="subsystem" type="usb"><source><vendor id="0x046d"/><product id="0xc52b"/></source></hostdev>
</passthrough>'
add_snippet "$CONFIG" living.xml '<passthrough vm="Living room" video="none" hypervisor="hidden">
  <pci address="08:00.3" vendor="1022" product="1639"/>
</passthrough>'
add_snippet "$CONFIG" shown.xml '<passthrough vm="shown" video="none"><pci address="08:00.4"/></passthrough>'
# Faults are injected through a test hook: the test build of the shim.
export SYNOPASSTHRU_TEST_FAULT_FILE=$WORK/fault
SP_SHIM=$TEST_SHIM start_daemon "$CONFIG" "$SYSFS" || exit 1
remote() { virsh -c "$DAEMON_URI" "$@"; }

# vmm_domain NAME TITLE [DEVICES]: the shape of a domain the VM manager
# writes: its UI name in <title>, host-passthrough, a VNC display on an
# emulated vmvga.
vmm_domain() {
    cat <<XML
<domain type='kvm'>
  <name>$1</name>
  <title>$2</title>
  <memory unit='KiB'>65536</memory>
  <os>
    <type arch='x86_64' machine='pc-i440fx-2.2'>hvm</type>
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
  <cpu mode='host-passthrough' check='none'/>
  <devices>${3:-}
    <graphics type='vnc' port='-1' autoport='yes'/>
    <video>
      <model type='vmvga' vram='16384' heads='1' primary='yes'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>
    </video>
  </devices>
</domain>
XML
}

# The test driver forgets everything when its last client leaves: keep one
# connection open for the whole test.
mkfifo "$WORK/hold"
virsh -c "$DAEMON_URI" < "$WORK/hold" > "$WORK/holder.out" 2>&1 &
HOLDER=$!
exec 9> "$WORK/hold"
echo "uri" >&9
for _ in $(seq 1 100); do
    grep -q "^test+unix" "$WORK/holder.out" && break
    sleep 0.1
done
check "a client holds the test driver's state open" grep -q "^test+unix" "$WORK/holder.out"
trap 'rc=$?; exec 9>&-; kill $HOLDER 2>/dev/null; wait $HOLDER 2>/dev/null; (exit $rc); finish' EXIT

# 1. define, then start.
test_domain desk > "$WORK/desk.xml"
remote "define $WORK/desk.xml" > /dev/null 2>&1
remote "dumpxml --inactive desk" > "$WORK/desk.defined"
remote "start desk" > "$WORK/s1" 2>&1
check "a defined VM starts" test $? -eq 0
remote "dumpxml desk" > "$WORK/desk.live"
remote "dumpxml --inactive desk" > "$WORK/desk.inactive"
contains "the live domain has the iGPU and its HDMI audio (functions=all)" "$WORK/desk.live" "<hostdev mode='subsystem' type='pci' managed='no'>" 2
contains "but not the PSP the host uses" "$WORK/desk.live" "bus='0x08' slot='0x00' function='0x2'/>" 0
contains "nor the USB controllers" "$WORK/desk.live" "bus='0x08' slot='0x00' function='0x3'/>" 0
contains "and the ROM" "$WORK/desk.live" "<rom file='$CONFIG/rom/vbios_1002_1638.bin'/>" 1
check "the stored definition is byte for byte what was defined" cmp -s "$WORK/desk.defined" "$WORK/desk.inactive"
check "the devices were bound" test "$(driver_of "$SYSFS" 0000:08:00.1)" = vfio-pci

# 2. The manager writes the live XML back: nothing of ours is kept.
remote "define $WORK/desk.live" > /dev/null 2>&1
remote "dumpxml --inactive desk" > "$WORK/desk.back"
contains "a define of live XML keeps none of our hostdevs" "$WORK/desk.back" "<hostdev" 0
contains "and no marker" "$WORK/desk.back" "urn:synopassthru" 0
remote "destroy desk" > /dev/null 2>&1
remote "start desk; dumpxml desk" > "$WORK/desk.again" 2>&1
contains "a restart has each device once" "$WORK/desk.again" "bus='0x08' slot='0x00' function='0x1'/>" 1

# 3. A start that dies after storing the patched definition, then a heal.
test_domain frigate > "$WORK/frigate.xml"
remote "define $WORK/frigate.xml" > /dev/null 2>&1
remote "dumpxml --inactive frigate" > "$WORK/frigate.defined"
echo stop-after-redefine > "$WORK/fault"
remote "start frigate" > "$WORK/s3" 2>&1
check "the faulted start fails" test $? -ne 0
remote "dumpxml --inactive frigate" > "$WORK/frigate.left"
contains "it left the definition patched" "$WORK/frigate.left" "ua-sp-0000-06-00-0" 1
contains "and marked" "$WORK/frigate.left" "urn:synopassthru:original:1" 1
rm -f "$WORK/fault"
remote "start frigate" > "$WORK/s3b" 2>&1
check "the next start succeeds" test $? -eq 0
remote "dumpxml --inactive frigate" > "$WORK/frigate.healed"
check "and the definition is healed, byte for byte" cmp -s "$WORK/frigate.defined" "$WORK/frigate.healed"
remote "dumpxml frigate" > "$WORK/frigate.live"
contains "with the TPU once in the live domain" "$WORK/frigate.live" "bus='0x06' slot='0x00' function='0x0'/>" 1
contains "the daemon log says it healed" "$DAEMON_DIR/libvirtd.log" "put back a definition left patched"

# 3b. Storing the marked definition fails (a test fault stands in for a
# marker that cannot be added): the client and the log get the reason, the
# definition stays as defined, and the device goes back to its driver.
test_domain marked > "$WORK/marked.xml"
remote "define $WORK/marked.xml" > /dev/null 2>&1
remote "dumpxml --inactive marked" > "$WORK/marked.defined"
echo fail-mark > "$WORK/fault"
remote "start marked" > "$WORK/s3c" 2>&1
check "a start whose definition cannot be marked fails" test $? -ne 0
contains "telling the client why" "$WORK/s3c" "VM 'marked': cannot mark the patched definition: test fault: the marker was refused"
contains "and the daemon's log" "$DAEMON_DIR/libvirtd.log" "VM 'marked': cannot mark the patched definition"
tail -n 1 "$CONFIG/audit.log" > "$WORK/s3c.audit"
contains "the audit record says refused, with the reason" "$WORK/s3c.audit" '"result":"refused","reason":"VM '"'"'marked'"'"': cannot mark the patched definition'
remote "dumpxml --inactive marked" > "$WORK/marked.after"
check "the definition is as defined, byte for byte" cmp -s "$WORK/marked.defined" "$WORK/marked.after"
check "the device is back on its driver" test "$(driver_of "$SYSFS" 0000:01:00.0)" = nvme
rm -f "$WORK/fault"

# 4. Two clients define and start the same VM at once.
test_domain race > "$WORK/race.xml"
remote "define $WORK/race.xml" > /dev/null 2>&1
remote "dumpxml --inactive race" > "$WORK/race.defined"
remote "define $WORK/race.xml; start race" > "$WORK/race.1" 2>&1 &
a=$!
remote "define $WORK/race.xml; start race" > "$WORK/race.2" 2>&1 &
b=$!
ok=0
wait $a && ok=$((ok + 1))
wait $b && ok=$((ok + 1))
check "exactly one of the two starts succeeds" test "$ok" -eq 1
remote "dumpxml race" > "$WORK/race.live"
contains "the NIC is in the live domain once" "$WORK/race.live" "bus='0x05' slot='0x00' function='0x0'/>" 1
remote "dumpxml --inactive race" > "$WORK/race.inactive"
check "the stored definition is untouched" cmp -s "$WORK/race.defined" "$WORK/race.inactive"
# 5. libvirt's autostart would start a VM at boot without the shim: refused
# for a VM with devices, allowed for others.
remote "autostart desk" > "$WORK/s5" 2>&1
check "autostart of a VM with devices is refused" test $? -ne 0
contains "saying why" "$WORK/s5" "libvirt's autostart would start it at boot without its passthrough devices"
test_domain plain > "$WORK/plain.xml"
remote "define $WORK/plain.xml; autostart plain" > "$WORK/s5b" 2>&1
check "autostart of another VM works" test $? -eq 0
remote "autostart --disable desk" > "$WORK/s5c" 2>&1
check "turning autostart off is always allowed" test $? -eq 0

# 6. Raw <hostdev> elements (a USB receiver, a SCSI disk): in the live
# domain once, each with its alias; gone from live XML defined back; once
# again after a restart.
test_domain office > "$WORK/office.xml"
remote "define $WORK/office.xml" > /dev/null 2>&1
remote "start office" > "$WORK/s6" 2>&1
check "a defined VM with raw hostdevs starts" test $? -eq 0
remote "dumpxml office" > "$WORK/office.live"
contains "the live domain has the USB receiver once" "$WORK/office.live" "<alias name='ua-sp-usb-046d-c52b'/>" 1
contains "and the SCSI disk once" "$WORK/office.live" "<alias name='ua-sp-scsi-scsi_host2-0-1-0'/>" 1
remote "define $WORK/office.live" > /dev/null 2>&1
remote "dumpxml --inactive office" > "$WORK/office.back"
contains "a define of live XML keeps neither raw hostdev" "$WORK/office.back" "<hostdev" 0
contains "and no alias of ours" "$WORK/office.back" "ua-sp-" 0
remote "destroy office" > /dev/null 2>&1
remote "start office" > "$WORK/s6b" 2>&1
check "it starts again" test $? -eq 0
remote "dumpxml office" > "$WORK/office.again"
contains "with the USB receiver once" "$WORK/office.again" "<vendor id='0x046d'/>" 1
contains "and the SCSI disk once" "$WORK/office.again" "<adapter name='scsi_host2'/>" 1
# A definition that has the receiver already, written its own way.
test_domain office2 | sed "s|^  <devices>|&<hostdev mode='subsystem' type='usb'><source><vendor id='0x46d'/><product id='50475'/></source></hostdev>|" > "$WORK/office2.xml"
remote "define $WORK/office2.xml" > /dev/null 2>&1
remote "start office2" > "$WORK/s6c" 2>&1
check "a VM whose definition has the USB device starts" test $? -eq 0
remote "dumpxml office2" > "$WORK/office2.live"
contains "with the device once, not added again" "$WORK/office2.live" "<hostdev mode='subsystem' type='usb'" 1
contains "and nothing of ours" "$WORK/office2.live" "ua-sp-" 0

# 7. The VM manager's domain with video="none" and hypervisor="hidden": the
# live domain has no emulated display and hides KVM; the stored definition
# stays as defined; its live XML defined back is that definition again.
vmm_domain living-room "Living room" > "$WORK/living.xml"
remote "define $WORK/living.xml" > /dev/null 2>&1
remote "dumpxml --inactive living-room" > "$WORK/living.defined"
remote "start living-room" > "$WORK/s7" 2>&1
check "a VM with video='none' and hypervisor='hidden' starts" test $? -eq 0
remote "dumpxml living-room" > "$WORK/living.live"
contains "its live domain has one video, of model none" "$WORK/living.live" "<video>" 1
contains "which is ours" "$WORK/living.live" "<model type='none'/>" 1
contains "the vmvga is gone" "$WORK/living.live" "<model type='vmvga'" 0
contains "the VNC display stays" "$WORK/living.live" "<graphics type='vnc'" 1
contains "KVM is hidden" "$WORK/living.live" "<hidden state='on'/>" 1
contains "and the CPU's hypervisor feature is off" "$WORK/living.live" "<feature policy='disable' name='hypervisor'/>" 1
contains "the rest of <features> is as it was" "$WORK/living.live" "<apic/>" 1
remote "dumpxml --inactive living-room" > "$WORK/living.inactive"
check "the stored definition is byte for byte what was defined" cmp -s "$WORK/living.defined" "$WORK/living.inactive"
tail -n 1 "$CONFIG/audit.log" > "$WORK/s7.audit"
contains "the audit record lists the display taken out" "$WORK/s7.audit" '"video":["removed <video><model type=\"vmvga\" vram=\"16384\" heads=\"1\" primary=\"yes\"/><address type=\"pci\" domain=\"0x0000\" bus=\"0x00\" slot=\"0x02\" function=\"0x0\"/></video>","added <video><model type=\"none\"/><alias name=\"ua-sp-video\"/></video>"]'
contains "the <kvm> added" "$WORK/s7.audit" '"features":["added <kvm><hidden state=\"on\"/></kvm>"]'
contains "and the CPU feature" "$WORK/s7.audit" '"cpu":["added <feature policy=\"disable\" name=\"hypervisor\"/>"]'
remote "define $WORK/living.live" > /dev/null 2>&1
remote "dumpxml --inactive living-room" > "$WORK/living.back"
check "its live XML defined back is the definition as defined, byte for byte" cmp -s "$WORK/living.defined" "$WORK/living.back"
remote "destroy living-room; start living-room; dumpxml living-room" > "$WORK/living.again" 2>&1
contains "a restart has one video, of model none" "$WORK/living.again" "<video>" 1
contains "KVM hidden once" "$WORK/living.again" "<hidden state='on'/>" 1
contains "and the CPU feature once" "$WORK/living.again" "name='hypervisor'" 1

# 8. Nothing to add, only the display to change (the definition has the
# device already): the start still goes with the changed definition.
vmm_domain shown Shown "
    <hostdev mode='subsystem' type='pci' managed='no'>
      <source><address domain='0x0000' bus='0x08' slot='0x00' function='0x4'/></source>
    </hostdev>" > "$WORK/shown.xml"
remote "define $WORK/shown.xml" > /dev/null 2>&1
remote "dumpxml --inactive shown" > "$WORK/shown.defined"
remote "start shown" > "$WORK/s8" 2>&1
check "a VM whose only change is its display starts" test $? -eq 0
remote "dumpxml shown" > "$WORK/shown.live"
contains "with the display of model none" "$WORK/shown.live" "<model type='none'/>" 1
contains "and no vmvga" "$WORK/shown.live" "<model type='vmvga'" 0
remote "dumpxml --inactive shown" > "$WORK/shown.inactive"
check "its stored definition is as defined" cmp -s "$WORK/shown.defined" "$WORK/shown.inactive"
check "libvirtd is alive" daemon_alive
