# Runs as PID 1 in the e2e guest (a real kernel with an emulated Intel
# IOMMU and a spare e1000e). The product as a user has it: libvirtd with the
# shim preloaded, a snippet naming the NIC by address and IDs, and the real
# vfio helper. Prints "E2E: PASS|FAIL what" lines and "E2E: DONE", then
# powers the guest off.
project=$1
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
# The root is a tmpfs already, so /tmp is writable; mounting over it would
# hide the project when it lives under /tmp.
mount -t tmpfs tmpfs /run
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
passed=0 failed=0
pass() { passed=$((passed + 1)); echo "E2E: PASS $*"; }
fail() { failed=$((failed + 1)); echo "E2E: FAIL $*"; }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
finish() {
    echo "E2E: $passed passed, $failed failed"
    echo "E2E: DONE"
    sync
    echo o > /proc/sysrq-trigger
    sleep 10
}
trap finish EXIT

modprobe e1000e
modprobe e1000
modprobe vfio-pci
nic=
for d in /sys/bus/pci/devices/*; do
    if [ "$(cat "$d/vendor")" = 0x8086 ] && [ "$(cat "$d/device")" = 0x10d3 ]; then
        nic=$(basename "$d")
    fi
done
check "the guest has an e1000e ($nic)" test -n "$nic"
[ -n "$nic" ] || exit 1
driver_of() { basename "$(readlink "/sys/bus/pci/devices/$1/driver")" 2>/dev/null; }
check "it starts on e1000e" test "$(driver_of "$nic")" = e1000e
group=$(basename "$(readlink "/sys/bus/pci/devices/$nic/iommu_group")")
check "the IOMMU is on: the NIC is in group $group" test -n "$group"

config=/tmp/sp
mkdir -p "$config/vm.d" "$config/rom"
chmod 755 "$config" "$config/vm.d" "$config/rom"
cat > "$config/synopassthru.conf" <<CONF
audit_log = $config/audit.log
vfio_helper = $project/build/synopassthru-vfio
state_dir = /run/synopassthru
helper_timeout_ms = 60000
CONF
cat > "$config/vm.d/e2e.xml" <<XML
<passthrough vm="e2e"><pci address="$nic" vendor="8086" product="10d3"/></passthrough>
XML
cat > "$config/vm.d/e2e-r.xml" <<XML
<passthrough vm="e2e-r" release="yes"><pci address="$nic" vendor="8086" product="10d3"/></passthrough>
XML
cat > "$config/vm.d/e2e-h.xml" <<XML
<passthrough vm="e2e-h"><pci address="$nic" vendor="8086" product="10d3"/></passthrough>
XML
cat > "$config/vm.d/e2e-a.xml" <<XML
<passthrough vm="e2e-a"><pci address="$nic" vendor="8086" product="10d3"/></passthrough>
XML
cat > "$config/vm.d/e2e-p.xml" <<XML
<passthrough vm="e2e-p"><pci address="$nic" vendor="8086" product="10d3"/></passthrough>
XML
# The two e1000 behind the conventional bridge: name only the first.
bridged=()
for d in /sys/bus/pci/devices/*; do
    [ "$(cat "$d/vendor")" = 0x8086 ] && [ "$(cat "$d/device")" = 0x100e ] && bridged+=("$(basename "$d")")
done
check "two e1000 sit behind the bridge (${bridged[*]})" test "${#bridged[@]}" -eq 2
cat > "$config/vm.d/bridged.xml" <<XML
<passthrough vm="bridged"><pci address="${bridged[0]}" vendor="8086" product="100e"/></passthrough>
XML
chmod 644 "$config/synopassthru.conf" "$config/vm.d/"*.xml

# libvirtd as root with no confinement, as DSM's VM manager runs it. Its
# built-in default user must still exist for the qemu driver to load.
grep -q '^libvirt-qemu:' /etc/passwd || {
    echo 'libvirt-qemu:x:64055:64055:libvirt qemu:/var/lib/libvirt:/usr/sbin/nologin' >> /etc/passwd
    echo 'libvirt-qemu:x:64055:' >> /etc/group
}
grep -q '^kvm:' /etc/group || echo 'kvm:x:64056:' >> /etc/group
printf 'user = "root"\ngroup = "root"\nsecurity_driver = "none"\n' >> /etc/libvirt/qemu.conf
mkdir -p /var/lib/libvirt/qemu /var/cache/libvirt /var/log/libvirt/qemu /run/libvirt
echo 'log_outputs = "3:file:/tmp/libvirtd.log"' >> /etc/libvirt/libvirtd.conf
virtlogd -d
env LD_PRELOAD="$project/build/libsynopassthru.so" SYNOPASSTHRU_CONFIG_DIR="$config" \
    libvirtd -d > /tmp/libvirtd.out 2>&1
for _ in $(seq 1 60); do
    [ -S /run/libvirt/libvirt-sock ] && break
    sleep 0.5
done
check "libvirtd answers" virsh -c qemu:///system version
"$project/build/synopassthru" status > /tmp/status.out 2>&1
cat /tmp/status.out
check "synopassthru status sees the shim in libvirtd" grep -q "libvirtd .*shim $project/build/libsynopassthru.so" /tmp/status.out
if [ "$failed" -gt 0 ]; then
    echo "E2E: libvirtd did not come up; its output and log:"
    cat /tmp/libvirtd.out /tmp/libvirtd.log 2>&1 | tail -20
    ls -la /run/libvirt 2>&1 | head
    exit 1
fi

cat > /tmp/e2e.xml <<XML
<domain type='qemu'>
  <name>e2e</name>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>
  </devices>
</domain>
XML
virsh -c qemu:///system create /tmp/e2e.xml > /tmp/create.out 2>&1
rc=$?
cat /tmp/create.out
check "a transient domain with no hostdev in its XML starts" test $rc -eq 0
check "the NIC was bound to vfio-pci" test "$(driver_of "$nic")" = vfio-pci
check "the vfio group device exists (/dev/vfio/$group)" test -e "/dev/vfio/$group"
pid=$(cat /run/libvirt/qemu/e2e.pid 2>/dev/null)
tr '\0' ' ' < "/proc/$pid/cmdline" > /tmp/cmdline 2>/dev/null
grep -o '[^ ]*vfio-pci[^ ]*' /tmp/cmdline
# libvirt 9 writes -device as JSON: {"driver":"vfio-pci","host":"0000:00:02.0",...}
check "QEMU's command line has the device from power-on" \
    grep -Eq "\"driver\":\"vfio-pci\",\"host\":\"$nic\"|vfio-pci,host=($nic|${nic#0000:})" /tmp/cmdline
virsh -c qemu:///system qemu-monitor-command e2e --hmp 'info qtree' > /tmp/qtree 2>&1
check "info qtree shows a vfio-pci device" grep -q 'dev: vfio-pci' /tmp/qtree
grep -A3 'dev: vfio-pci' /tmp/qtree | head -4
check "the audit log records the bind and the start" grep -q '"event":"bind"' "$config/audit.log"
virsh -c qemu:///system destroy e2e > /dev/null 2>&1
"$project/build/synopassthru" --config "$config" release "$nic"
check "release gives the NIC back to e1000e" test "$(driver_of "$nic")" = e1000e

# A persistent domain: define, then start; the stored definition stays.
sed 's/<name>e2e</<name>e2e-p</' /tmp/e2e.xml > /tmp/e2e-p.xml
virsh -c qemu:///system define /tmp/e2e-p.xml > /dev/null 2>&1
virsh -c qemu:///system dumpxml --inactive e2e-p > /tmp/p.before
virsh -c qemu:///system start e2e-p > /tmp/p.start 2>&1
check "a defined domain starts" test $? -eq 0
pid=$(cat /run/libvirt/qemu/e2e-p.pid 2>/dev/null)
tr '\0' ' ' < "/proc/$pid/cmdline" > /tmp/p.cmdline 2>/dev/null
check "its QEMU has the NIC from power-on" grep -q '"driver":"vfio-pci"' /tmp/p.cmdline
virsh -c qemu:///system dumpxml --inactive e2e-p > /tmp/p.after
check "dumpxml --inactive is unchanged, byte for byte" cmp -s /tmp/p.before /tmp/p.after
virsh -c qemu:///system destroy e2e-p > /dev/null 2>&1
"$project/build/synopassthru" --config "$config" release "$nic" > /dev/null

# A group that is not viable: refused, naming the other NIC; nothing unbound.
group_b=$(basename "$(readlink "/sys/bus/pci/devices/${bridged[0]}/iommu_group")")
ls "/sys/kernel/iommu_groups/$group_b/devices"
sed 's/<name>e2e</<name>bridged</' /tmp/e2e.xml > /tmp/bridged.xml
virsh -c qemu:///system create /tmp/bridged.xml > /tmp/b.out 2>&1
rc=$?
cat /tmp/b.out
check "the bridged NIC is refused" test $rc -ne 0
check "naming the other NIC in its group" grep -q "${bridged[1]} \[8086:100e\]" /tmp/b.out
check "nothing was unbound" test "$(driver_of "${bridged[0]}")-$(driver_of "${bridged[1]}")" = e1000-e1000
check "libvirtd still answers" virsh -c qemu:///system version

# release="yes": the stop event on the real qemu driver gives the NIC back.
sed 's/<name>e2e</<name>e2e-r</' /tmp/e2e.xml > /tmp/e2e-r.xml
virsh -c qemu:///system create /tmp/e2e-r.xml > /dev/null 2>&1
check "a release=yes domain starts with the NIC on vfio-pci" test "$(driver_of "$nic")" = vfio-pci
virsh -c qemu:///system destroy e2e-r > /dev/null 2>&1
for _ in $(seq 1 100); do [ "$(driver_of "$nic")" = e1000e ] && break; sleep 0.2; done
check "after destroy the NIC is back on e1000e" test "$(driver_of "$nic")" = e1000e

# libvirt's own autostart: what happens to a VM with devices whose autostart
# flag was set behind the shim's back (the shim refuses to set it).
sed 's/<name>e2e</<name>e2e-a</' /tmp/e2e.xml > /tmp/e2e-a.xml
virsh -c qemu:///system define /tmp/e2e-a.xml > /dev/null 2>&1
virsh -c qemu:///system autostart e2e-a > /tmp/a.out 2>&1
check "virsh autostart is refused for a VM with devices" grep -q "autostart would start it at boot" /tmp/a.out
mkdir -p /etc/libvirt/qemu/autostart
ln -sf /etc/libvirt/qemu/e2e-a.xml /etc/libvirt/qemu/autostart/e2e-a.xml
kill "$(cat /run/libvirtd.pid)"
for _ in $(seq 1 50); do [ -e /run/libvirtd.pid ] || break; sleep 0.2; done
# libvirt autostarts once per host boot (a marker under /run): make this
# restart look like a boot.
rm -f /run/libvirt/qemu/autostarted
start_libvirtd() {
    env LD_PRELOAD="$project/build/libsynopassthru.so" SYNOPASSTHRU_CONFIG_DIR="$config" \
        SYNOPASSTHRU_TEST_FAULT_FILE=/tmp/fault libvirtd -d > /tmp/libvirtd2.out 2>&1
}
start_libvirtd
for _ in $(seq 1 30); do
    virsh -c qemu:///system domstate e2e-a 2>/dev/null | grep -q running && break
    sleep 0.5
done
state=$(virsh -c qemu:///system domstate e2e-a 2>&1)
echo "E2E: observed: after a daemon restart, autostarted e2e-a is '$state', NIC on '$(driver_of "$nic")'"
check "libvirt's autostart bypasses the shim: the VM runs without the NIC" \
    test "$state" = running -a "$(driver_of "$nic")" = e1000e

virsh -c qemu:///system destroy e2e-a > /dev/null 2>&1

# A start that dies between storing the patched definition and putting the
# original back (the test-only fault file stops the shim there; then the
# daemon is killed by its pid and started again): the next start heals it.
sed 's/<name>e2e</<name>e2e-h</' /tmp/e2e.xml > /tmp/e2e-h.xml
virsh -c qemu:///system define /tmp/e2e-h.xml > /dev/null 2>&1
virsh -c qemu:///system dumpxml --inactive e2e-h > /tmp/h.before
echo stop-after-redefine > /tmp/fault
virsh -c qemu:///system start e2e-h > /tmp/h.start 2>&1
rc=$?
cat /tmp/h.start
check "the interrupted start fails" test $rc -ne 0
kill -9 "$(cat /run/libvirtd.pid)"
rm -f /tmp/fault /run/libvirtd.pid
start_libvirtd
for _ in $(seq 1 60); do virsh -c qemu:///system version > /dev/null 2>&1 && break; sleep 0.5; done
virsh -c qemu:///system dumpxml --inactive e2e-h > /tmp/h.left
check "after the daemon's death the stored definition is still patched" grep -q "urn:synopassthru:original:1" /tmp/h.left
virsh -c qemu:///system start e2e-h > /tmp/h.start2 2>&1
rc=$?
cat /tmp/h.start2
check "the next start succeeds" test $rc -eq 0
virsh -c qemu:///system dumpxml --inactive e2e-h > /tmp/h.after
check "and the definition is healed, byte for byte" cmp -s /tmp/h.before /tmp/h.after
check "with the NIC in the running domain" test "$(driver_of "$nic")" = vfio-pci
