# The README's demo: a private libvirtd with the shim preloaded, a VM created
# through it with libvirt's test driver, its dumpxml with the injected
# <hostdev> and <rom>, the audit record, and the daemon stopped by its pid.
. "$(dirname "$0")/lib.sh"

CONFIG=$WORK/config SYSFS=$WORK/sysfs
make_config "$CONFIG"
make_sysfs "$SYSFS"
add_rom "$CONFIG" vbios_1002_1638.bin
add_snippet "$CONFIG" living-room.xml '<passthrough vm="Living room PC">
  <pci address="08:00.0" vendor="1002" product="1638" rom="vbios_1002_1638.bin"/>
  <pci address="08:00.1" vendor="1002" product="1637"/>
</passthrough>'

echo "== config: $CONFIG/vm.d/living-room.xml"
cat "$CONFIG/vm.d/living-room.xml"
echo "== fake host devices (sysfs root $SYSFS):"
ls "$SYSFS/bus/pci/devices"

start_daemon "$CONFIG" "$SYSFS" || exit 1
echo "== libvirtd started with LD_PRELOAD=$SHIM, pid $DAEMON_PID"
test_domain 591328d9-88d5-42aa-9551-bb793c3330cf "Living room PC" > "$WORK/vm.xml"
echo "== the VM as the VM manager sends it: no <hostdev>"
cat "$WORK/vm.xml"
virsh -c "$DAEMON_URI" "create $WORK/vm.xml; dumpxml 591328d9-88d5-42aa-9551-bb793c3330cf" > "$WORK/dump" 2>&1
echo "== virsh create + dumpxml through the daemon:"
cat "$WORK/dump"
contains "dumpxml shows the iGPU and its audio function" "$WORK/dump" "<hostdev mode='subsystem' type='pci' managed='no'>" 2
contains "dumpxml shows the ROM" "$WORK/dump" "<rom file='$CONFIG/rom/vbios_1002_1638.bin'/>" 1
echo "== audit record:"
cat "$CONFIG/audit.log"
contains "the audit record says ok" "$CONFIG/audit.log" '"result":"ok"' 1
stop_daemon
check "libvirtd stopped by its pid" test -z "$DAEMON_PID"
