# Runs under systemd (PID 1, as on the NAS) in the e2e guest: a real kernel
# with an emulated Intel IOMMU, a spare e1000e and two e1000 behind a PCI
# bridge. The product as a NAS owner has it: the built .spk installed as
# DSM's Package Center does (its files owned by the package's own user, its
# scripts run as that user), the one root step `setup` run from it, the DSM
# package service's stand-in (tests/e2e/dsm) with the shim preloaded by it,
# snippets naming the NICs by address and IDs; at the end the package's
# uninstall and `setup --remove`, after which the writable tree is as before. Prints "E2E: PASS|FAIL what"
# lines, "E2E: MEASURE" lines and "E2E: DONE", then powers the guest off.
project=$1
build=${2:-$project/build} # the build under test (make BUILD=DIR e2e)
export PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
passed=0 failed=0
# Each verdict carries the guest's uptime, to see where the time goes.
stamp() { cut -d' ' -f1 /proc/uptime; }
pass() { passed=$((passed + 1)); echo "E2E: PASS $* [$(stamp)]"; }
fail() { failed=$((failed + 1)); echo "E2E: FAIL $* [$(stamp)]"; }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
finish() {
    echo "E2E: $passed passed, $failed failed"
    echo "E2E: DONE"
    sync
    echo o > /proc/sysrq-trigger
    sleep 10
}
trap finish EXIT
virsh() { command virsh -c qemu:///system "$@"; }
driver_of() { basename "$(readlink "/sys/bus/pci/devices/$1/driver")" 2>/dev/null; }
# qemu_cmdline VM OUT: the running domain's QEMU argv, space-separated.
qemu_cmdline() { tr '\0' ' ' < "/proc/$(cat "/run/libvirt/qemu/$1.pid")/cmdline" > "$2" 2>/dev/null; }
daemon_pid() { systemctl show -p MainPID --value pkg-libvirtd; }
# qemu_domain NAME [MACHINE [EXTRA [QEMU_ARG...]]]: a small domain with no
# hostdev (machine pc by default); EXTRA (uuid, title, features) goes after
# the name, and each QEMU_ARG becomes a qemu:commandline argument.
qemu_domain() {
    local name=$1 machine=${2:-pc} extra=${3:-} arg
    shift $(($# < 3 ? $# : 3))
    echo "<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>"
    echo "  <name>$name</name>$extra"
    echo "  <memory unit='MiB'>64</memory>"
    echo "  <os><type arch='x86_64' machine='$machine'>hvm</type></os>"
    echo "  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices>"
    if [ $# -gt 0 ]; then
        echo "  <qemu:commandline>"
        for arg in "$@"; do echo "    <qemu:arg value='$arg'/>"; done
        echo "  </qemu:commandline>"
    fi
    echo "</domain>"
}
# snippet VM ADDRESS PRODUCT [PCI_ATTRS] [PASSTHROUGH_ATTRS]: a vm.d file
# (mode 0644) naming one Intel device for VM.
snippet() {
    local file=$config/vm.d/${1// /-}.xml
    echo "<passthrough vm=\"$1\"${5:-}><pci address=\"$2\" vendor=\"8086\" product=\"$3\"${4:-}/></passthrough>" \
        > "$file"
    chmod 644 "$file"
}
wait_for_daemon() {
    for _ in $(seq 1 120); do virsh version > /dev/null 2>&1 && return 0; sleep 0.5; done
    return 1
}

modprobe e1000e
modprobe e1000
nic=
for d in /sys/bus/pci/devices/*; do
    if [ "$(cat "$d/vendor")" = 0x8086 ] && [ "$(cat "$d/device")" = 0x10d3 ]; then
        nic=$(basename "$d")
    fi
done
check "the guest has an e1000e ($nic)" test -n "$nic"
[ -n "$nic" ] || exit 1
check "it starts on e1000e" test "$(driver_of "$nic")" = e1000e
group=$(basename "$(readlink "/sys/bus/pci/devices/$nic/iommu_group")")
check "the IOMMU is on: the NIC is in group $group" test -n "$group"

# The NAS's own setup, before the product: /usr/local (persistent on DSM),
# the Virtualization package's start hook and service (a stand-in: see
# tests/e2e/dsm), and libvirtd as root with no confinement, as DSM's VM
# manager runs it. Its built-in default user must still exist for the qemu
# driver to load.
mount -t tmpfs -o mode=755 tmpfs /usr/local
mkdir -p /usr/local/bin /usr/local/lib /usr/local/etc /volume1/@appstore
hook=/var/packages/Virtualization/conf/systemd/insert_libvirtd_ko.sh
mkdir -p "$(dirname "$hook")"
install -m 0755 "$project/tests/e2e/dsm/insert_libvirtd_ko.sh" "$hook"
install -m 0644 "$project/tests/e2e/dsm/pkg-libvirtd.service" /etc/systemd/system/
grep -q '^libvirt-qemu:' /etc/passwd || {
    echo 'libvirt-qemu:x:64055:64055:libvirt qemu:/var/lib/libvirt:/usr/sbin/nologin' >> /etc/passwd
    echo 'libvirt-qemu:x:64055:' >> /etc/group
}
grep -q '^kvm:' /etc/group || echo 'kvm:x:64056:' >> /etc/group
printf 'user = "root"\ngroup = "root"\nsecurity_driver = "none"\n' >> /etc/libvirt/qemu.conf
mkdir -p /var/lib/libvirt/qemu /var/cache/libvirt /var/log/libvirt/qemu /run/libvirt
echo 'log_outputs = "3:file:/tmp/libvirtd.log"' >> /etc/libvirt/libvirtd.conf
virtlogd -d
systemctl daemon-reload

# writable_tree: everything the guest has written: /etc and /var are
# overlays whose upper dirs (/ov/*-up, see init.sh) hold exactly what was
# created, changed or deleted (a deletion as a whiteout), and /usr/local
# and /volume1 are the guest's own. Each path with its type, mode and
# owner, each file's digest. Left out: what libvirt, systemd and this test
# write there themselves (domain definitions, libvirt's logs and state,
# the journal).
writable_tree() {
    local dir name skip=(\( -path ./libvirt -o -path ./lib/libvirt -o -path ./log/libvirt
        -o -path ./cache/libvirt -o -path ./lib/systemd -o -path ./log/journal -o -path ./tmp \)
        -prune -o)
    for dir in /ov/etc-up:/etc /ov/var-up:/var /usr/local:/usr/local /volume1:/volume1; do
        name=${dir#*:} dir=${dir%%:*}
        (cd "$dir" && find . "${skip[@]}" -printf "$name/%P %y %m %u:%g\n" | sort &&
            find . "${skip[@]}" -type f -print0 | sort -z | xargs -0r sha256sum |
            sed "s|  \./|  $name/|")
    done
}
# The host's own test runs may have left a default audit log in the /var
# the guest sees; --purge at the end removes the audit log, so start without.
rm -f /var/log/synopassthru-audit.log
writable_tree > /tmp/tree.before

# Installed as a NAS owner installs it: DSM's Package Center unpacks the
# .spk (package.tgz into the package's target dir, owned by the package's
# own user) and runs its scripts as that user; then the one root step.
spk=$(ls "$build"/dist/SynoPassthru-*-x86_64.spk | head -1)
pkguser=1234
target=/volume1/@appstore/SynoPassthru
pkgdir=/var/packages/SynoPassthru
mkdir -p /tmp/spk "$target" "$pkgdir"
tar -xf "$spk" -C /tmp/spk
tar -xzf /tmp/spk/package.tgz -C "$target"
ln -s "$target" "$pkgdir/target"
cp -a /tmp/spk/INFO /tmp/spk/scripts /tmp/spk/conf "$pkgdir/"
chown -hR "$pkguser:$pkguser" "$target"
pkg_script() {
    env -i PATH=/usr/bin:/bin SYNOPKG_PKGNAME=SynoPassthru SYNOPKG_PKGDEST="$target" \
        SYNOPKG_PKG_STATUS="$1" SYNOPKG_TEMP_LOGFILE=/tmp/pkg.msg \
        setpriv --reuid=$pkguser --regid=$pkguser --clear-groups sh "$pkgdir/scripts/$2"
}
: > /tmp/pkg.msg && chmod 666 /tmp/pkg.msg
pkg_script INSTALL preinst && pkg_script INSTALL postinst
check "the package installs as its own user; its message gives the root step" \
    grep -q "sudo /var/packages/SynoPassthru/target/bin/synopassthru setup" /tmp/pkg.msg
/var/packages/SynoPassthru/target/bin/synopassthru setup > /tmp/setup.out 2>&1
rc=$?
cat /tmp/setup.out
check "setup, run as root from the package" test $rc -eq 0
check "proved the installed shim loads" grep -q "proved: /usr/local/lib/synopassthru/libsynopassthru.so loads" /tmp/setup.out
check "and had systemd reload" grep -q "ran systemctl daemon-reload" /tmp/setup.out
check "root owns what root loads and runs" test "$(stat -c %u /usr/local/lib/synopassthru/libsynopassthru.so \
    /usr/local/bin/synopassthru /usr/local/libexec/synopassthru/synopassthru-vfio | sort -u)" = 0
check "the start hook has the block" grep -q "inject systemd --unit 'pkg-libvirtd' --reload" "$hook"
dropin=/etc/systemd/system/pkg-libvirtd.service.d/50-synopassthru.conf
check "the drop-in for pkg-libvirtd is there" test -f "$dropin"
config=/usr/local/etc/synopassthru
check "setup made the config dir with vm.d and rom" test -d "$config/vm.d" -a -d "$config/rom"
# Emulation inside emulation is slow: give the helper time.
echo 'helper_timeout_ms = 60000' > "$config/synopassthru.conf"
chmod 644 "$config/synopassthru.conf"
audit=/var/log/synopassthru-audit.log
for vm in e2e e2e-h e2e-a e2e-p; do snippet "$vm" "$nic" 10d3; done
snippet e2e-r "$nic" 10d3 "" ' release="yes"'
# ROMs made for the test: one for the NIC's IDs, one for another device's.
"$build/tests/mkrom" for 8086 10d3 "$config/rom/e1000e.bin"
"$build/tests/mkrom" for 10de 1b80 "$config/rom/other.bin"
# Shaped as the published GOP drivers: one x64 EFI driver image naming 03ea:0665.
"$build/tests/mkrom" gop-driver "$config/rom/gop.bin"
chmod 644 "$config/rom/"*.bin
snippet e2e-gop "$nic" 10d3 ' rom="gop.bin"'
snippet e2e-rom "$nic" 10d3 ' rom="e1000e.bin"'
snippet e2e-badrom "$nic" 10d3 ' rom="other.bin"'
snippet cmp-ours "$nic" 10d3 ' rom="e1000e.bin"'
# The two e1000 behind the conventional bridge: name only the first.
bridged=()
for d in /sys/bus/pci/devices/*; do
    [ "$(cat "$d/vendor")" = 0x8086 ] && [ "$(cat "$d/device")" = 0x100e ] && bridged+=("$(basename "$d")")
done
check "two e1000 sit behind the bridge (${bridged[*]})" test "${#bridged[@]}" -eq 2
snippet bridged "${bridged[0]}" 100e

systemctl start pkg-libvirtd
check "systemd starts pkg-libvirtd" systemctl is-active -q pkg-libvirtd
check "libvirtd answers" wait_for_daemon
synopassthru status > /tmp/status.out 2>&1
check "synopassthru status: the shim is in the daemon systemd started" test $? -eq 0
cat /tmp/status.out
check "from the installed path" grep -q "libvirtd .*shim /usr/local/lib/synopassthru/libsynopassthru.so" /tmp/status.out
if [ "$failed" -gt 0 ]; then
    echo "E2E: libvirtd did not come up with the shim; its output, log and unit:"
    cat /tmp/libvirtd.out /tmp/libvirtd.log 2>&1 | tail -20
    systemctl status --no-pager pkg-libvirtd 2>&1 | tail -20
    exit 1
fi

qemu_domain e2e > /tmp/e2e.xml
virsh create /tmp/e2e.xml > /tmp/create.out 2>&1
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
virsh qemu-monitor-command e2e --hmp 'info qtree' > /tmp/qtree 2>&1
check "info qtree shows a vfio-pci device" grep -q 'dev: vfio-pci' /tmp/qtree
grep -A3 'dev: vfio-pci' /tmp/qtree | head -4
check "the audit log records the bind and the start" grep -q '"event":"bind"' "$audit"
synopassthru release "$nic" > /tmp/release-live.out 2>&1
rc=$?
cat /tmp/release-live.out
check "release is refused while the VM's QEMU runs" test $rc -eq 1
check "naming the VM" grep -q "held by VM 'e2e', which still counts as running (its QEMU runs)" \
    /tmp/release-live.out
check "and the NIC stays on vfio-pci" test "$(driver_of "$nic")" = vfio-pci
virsh destroy e2e > /dev/null 2>&1
# Its hold is younger than the two minutes a start has to get QEMU running,
# so it still counts: --force, now that the VM is destroyed (here and below).
synopassthru release --force "$nic"
check "release gives the NIC back to e1000e" test "$(driver_of "$nic")" = e1000e

# A ROM made for the NIC's IDs goes to QEMU as its romfile; one made for
# another device is refused before anything is bound.
qemu_domain e2e-rom > /tmp/e2e-rom.xml
virsh create /tmp/e2e-rom.xml > /tmp/rom.out 2>&1
check "a domain whose snippet names a ROM for the NIC starts" test $? -eq 0
qemu_cmdline e2e-rom /tmp/rom.cmdline
check "QEMU gets the ROM as the device's romfile" \
    grep -q "\"romfile\":\"$config/rom/e1000e.bin\"" /tmp/rom.cmdline
virsh qemu-monitor-command e2e-rom --hmp 'info qtree' > /tmp/rom.qtree 2>&1
check "info qtree shows it on the vfio-pci device" \
    grep -q "romfile = \"$config/rom/e1000e.bin\"" /tmp/rom.qtree
virsh destroy e2e-rom > /dev/null 2>&1
synopassthru release --force "$nic" > /dev/null
qemu_domain e2e-badrom > /tmp/e2e-badrom.xml
virsh create /tmp/e2e-badrom.xml > /tmp/badrom.out 2>&1
rc=$?
cat /tmp/badrom.out
check "a ROM made for 10de:1b80 is refused" test $rc -ne 0
check "naming the file, the NIC's IDs and the ROM's" grep -q "other.bin.*8086:10d3.*10de:1b80" /tmp/badrom.out
check "with the NIC left on e1000e" test "$(driver_of "$nic")" = e1000e
check "and no such domain" test -z "$(virsh list --name | grep -x e2e-badrom)"

# An EFI driver ROM on a function it does not name (a GOP driver on the
# iGPU's audio function): UEFI firmware loads it from there, so it goes to
# QEMU as that device's romfile, and the audit record says what it is.
qemu_domain e2e-gop > /tmp/e2e-gop.xml
virsh create /tmp/e2e-gop.xml > /tmp/gop.out 2>&1
check "an EFI-only ROM naming 03ea:0665 on the NIC: the domain starts" test $? -eq 0
qemu_cmdline e2e-gop /tmp/gop.cmdline
check "QEMU gets it as the NIC's romfile" grep -q "\"romfile\":\"$config/rom/gop.bin\"" /tmp/gop.cmdline
check "the audit record says it is an EFI driver image" \
    sh -c "grep '\"name\":\"e2e-gop\"' '$audit' | grep -q 'EFI driver image (x64, boot service driver), names 03ea:0665'"
virsh destroy e2e-gop > /dev/null 2>&1
synopassthru release --force "$nic" > /dev/null

# A domain shaped like the VM manager's: a UUID for its name, the UI name in
# <title> (which the snippet uses), machine pc-i440fx-2.2, and a device of
# its own on bus 0 given through qemu:commandline at 0x1f, the slot the
# shim would otherwise take first. QEMU refuses a start whose slots collide.
uuid=5a1e0d1e-8c9b-4c1a-9d7e-0123456789ab
qemu_domain "$uuid" pc-i440fx-2.2 "<uuid>$uuid</uuid><title>Living room</title>" \
    -device virtio-rng-pci,bus=pci.0,addr=0x1f > /tmp/vmm.xml
snippet "Living room" "$nic" 10d3
virsh create /tmp/vmm.xml > /tmp/vmm.out 2>&1
rc=$?
cat /tmp/vmm.out
check "a VM-manager-shaped domain named by its title starts" test $rc -eq 0
qemu_cmdline "$uuid" /tmp/vmm.cmdline
check "its NIC goes to guest slot 0x1e, next to the commandline's 0x1f" \
    grep -q '"driver":"vfio-pci","host":"'"$nic"'"[^ ]*"addr":"0x1e"' /tmp/vmm.cmdline
virsh qemu-monitor-command "$uuid" --hmp 'info pci' > /tmp/vmm.pci 2>&1
check "QEMU has both on bus 0: the NIC at 30 and the rng at 31" \
    test "$(grep -cE 'Bus  0, device  *(30|31), function 0' /tmp/vmm.pci)" -eq 2
virsh destroy "$uuid" > /dev/null 2>&1
synopassthru release --force "$nic" > /dev/null

# The passed GPU as the only display, and KVM hidden from the guest's driver:
# a domain with the VM manager's emulated vmvga and a VNC display, its
# snippet with video="none" and hypervisor="hidden". The same domain without
# a snippet shows what QEMU would otherwise get.
display_domain() {
    qemu_domain "$1" | sed "s|<devices>|<devices><graphics type='vnc' autoport='yes' listen='127.0.0.1'/><video><model type='vmvga'/></video>|"
}
snippet e2e-disp "$nic" 10d3 "" ' video="none" hypervisor="hidden"'
display_domain e2e-plain > /tmp/e2e-plain.xml
virsh create /tmp/e2e-plain.xml > /tmp/plain.out 2>&1
check "a domain with vmvga and no snippet starts" test $? -eq 0
qemu_cmdline e2e-plain /tmp/plain.cmdline
check "its QEMU gets the emulated vmware-svga" grep -q "vmware-svga" /tmp/plain.cmdline
virsh destroy e2e-plain > /dev/null 2>&1
display_domain e2e-disp > /tmp/e2e-disp.xml
virsh create /tmp/e2e-disp.xml > /tmp/disp.out 2>&1
rc=$?
cat /tmp/disp.out
check "with video=\"none\" and hypervisor=\"hidden\" it starts" test $rc -eq 0
qemu_cmdline e2e-disp /tmp/disp.cmdline
echo "E2E: observed: $(grep -o -- '-cpu [^ ]*' /tmp/disp.cmdline)"
check "QEMU gets no emulated display device" \
    sh -c "! grep -Eq 'vmware-svga|cirrus-vga|\"driver\":\"VGA\"|-device VGA|qxl-vga' /tmp/disp.cmdline"
check "and the NIC from power-on" grep -q '"driver":"vfio-pci"' /tmp/disp.cmdline
check "the CPU has KVM hidden and no hypervisor bit (kvm=off, hypervisor=off)" \
    sh -c "grep -o -- '-cpu [^ ]*' /tmp/disp.cmdline | grep -q 'kvm=off' && grep -o -- '-cpu [^ ]*' /tmp/disp.cmdline | grep -q 'hypervisor=off'"
virsh dumpxml e2e-disp > /tmp/disp.live
check "the live XML has the one video of model none" grep -q "<model type='none'/>" /tmp/disp.live
check "the audit record lists the vmvga it removed" \
    sh -c "grep '\"name\":\"e2e-disp\"' '$audit' | grep -q vmvga"
virsh destroy e2e-disp > /dev/null 2>&1
synopassthru release --force "$nic" > /dev/null

# A persistent domain: define, then start; the stored definition stays.
qemu_domain e2e-p > /tmp/e2e-p.xml
virsh define /tmp/e2e-p.xml > /dev/null 2>&1
virsh dumpxml --inactive e2e-p > /tmp/p.before
virsh start e2e-p > /tmp/p.start 2>&1
check "a defined domain starts" test $? -eq 0
pid=$(cat /run/libvirt/qemu/e2e-p.pid 2>/dev/null)
tr '\0' ' ' < "/proc/$pid/cmdline" > /tmp/p.cmdline 2>/dev/null
check "its QEMU has the NIC from power-on" grep -q '"driver":"vfio-pci"' /tmp/p.cmdline
virsh dumpxml --inactive e2e-p > /tmp/p.after
check "dumpxml --inactive is unchanged, byte for byte" cmp -s /tmp/p.before /tmp/p.after
virsh destroy e2e-p > /dev/null 2>&1
synopassthru release --force "$nic" > /dev/null

# A group that is not viable: refused, naming the other NIC; nothing unbound.
group_b=$(basename "$(readlink "/sys/bus/pci/devices/${bridged[0]}/iommu_group")")
ls "/sys/kernel/iommu_groups/$group_b/devices"
qemu_domain bridged > /tmp/bridged.xml
virsh create /tmp/bridged.xml > /tmp/b.out 2>&1
rc=$?
cat /tmp/b.out
check "the bridged NIC is refused" test $rc -ne 0
check "naming the other NIC in its group" grep -q "${bridged[1]} \[8086:100e\]" /tmp/b.out
check "nothing was unbound" test "$(driver_of "${bridged[0]}")-$(driver_of "${bridged[1]}")" = e1000-e1000
check "libvirtd still answers" virsh version

# release="yes": the stop event on the real qemu driver gives the NIC back.
qemu_domain e2e-r > /tmp/e2e-r.xml
virsh create /tmp/e2e-r.xml > /dev/null 2>&1
check "a release=yes domain starts with the NIC on vfio-pci" test "$(driver_of "$nic")" = vfio-pci
virsh destroy e2e-r > /dev/null 2>&1
for _ in $(seq 1 100); do [ "$(driver_of "$nic")" = e1000e ] && break; sleep 0.2; done
check "after destroy the NIC is back on e1000e" test "$(driver_of "$nic")" = e1000e

# libvirt's own autostart: what happens to a VM with devices whose autostart
# flag was set behind the shim's back (the shim refuses to set it).
qemu_domain e2e-a > /tmp/e2e-a.xml
virsh define /tmp/e2e-a.xml > /dev/null 2>&1
virsh autostart e2e-a > /tmp/a.out 2>&1
check "virsh autostart is refused for a VM with devices" grep -q "autostart would start it at boot" /tmp/a.out
mkdir -p /etc/libvirt/qemu/autostart
ln -sf /etc/libvirt/qemu/e2e-a.xml /etc/libvirt/qemu/autostart/e2e-a.xml
systemctl stop pkg-libvirtd
# libvirt autostarts once per host boot (a marker under /run): make this
# restart look like a boot. For the heal check below, the daemon preloads
# the test build of the shim from now on (the release shim honours no fault
# file): a runtime drop-in that sorts after setup's.
rm -f /run/libvirt/qemu/autostarted
mkdir -p /run/systemd/system/pkg-libvirtd.service.d
printf '[Service]\nEnvironment=LD_PRELOAD=%s\nEnvironment=SYNOPASSTHRU_TEST_FAULT_FILE=/tmp/fault\n' \
    "$build/tests/libsynopassthru-test.so" > /run/systemd/system/pkg-libvirtd.service.d/zz-e2e-test-shim.conf
systemctl daemon-reload
systemctl start pkg-libvirtd
for _ in $(seq 1 30); do
    virsh domstate e2e-a 2>/dev/null | grep -q running && break
    sleep 0.5
done
state=$(virsh domstate e2e-a 2>&1)
echo "E2E: observed: after a daemon restart, autostarted e2e-a is '$state', NIC on '$(driver_of "$nic")'"
check "libvirt's autostart bypasses the shim: the VM runs without the NIC" \
    test "$state" = running -a "$(driver_of "$nic")" = e1000e

virsh destroy e2e-a > /dev/null 2>&1

# A start that dies between storing the patched definition and putting the
# original back (the test-only fault file stops the shim there; then the
# daemon is killed by its pid and started again): the next start heals it.
qemu_domain e2e-h > /tmp/e2e-h.xml
virsh define /tmp/e2e-h.xml > /dev/null 2>&1
virsh dumpxml --inactive e2e-h > /tmp/h.before
echo stop-after-redefine > /tmp/fault
virsh start e2e-h > /tmp/h.start 2>&1
rc=$?
cat /tmp/h.start
check "the interrupted start fails" test $rc -ne 0
kill -9 "$(daemon_pid)"
rm -f /tmp/fault
for _ in $(seq 1 50); do systemctl is-active -q pkg-libvirtd || break; sleep 0.2; done
systemctl start pkg-libvirtd
wait_for_daemon
virsh dumpxml --inactive e2e-h > /tmp/h.left
check "after the daemon's death the stored definition is still patched" grep -q "urn:synopassthru:original:1" /tmp/h.left
virsh start e2e-h > /tmp/h.start2 2>&1
rc=$?
cat /tmp/h.start2
check "the next start succeeds" test $rc -eq 0
virsh dumpxml --inactive e2e-h > /tmp/h.after
check "and the definition is healed, byte for byte" cmp -s /tmp/h.before /tmp/h.after
check "with the NIC in the running domain" test "$(driver_of "$nic")" = vfio-pci
virsh destroy e2e-h > /dev/null 2>&1
synopassthru release --force "$nic" > /dev/null
# The release shim again.
rm -f /run/systemd/system/pkg-libvirtd.service.d/zz-e2e-test-shim.conf
systemctl daemon-reload
systemctl restart pkg-libvirtd
wait_for_daemon

# A defined start that libvirt itself refuses after the shim stored the
# patched definition (QEMU rejects an option): the client gets libvirt's
# reason, the definition is put back, and the NIC goes back to its driver.
qemu_domain e2e-x pc "" -no-such-option > /tmp/e2e-x.xml
virsh define /tmp/e2e-x.xml > /dev/null 2>&1
virsh dumpxml --inactive e2e-x > /tmp/x.before
virsh start e2e-x > /tmp/x.start 2>&1
rc=$?
cat /tmp/x.start
check "a defined start that QEMU refuses fails" test $rc -ne 0
check "with libvirt's own reason kept for the client" grep -q "no-such-option" /tmp/x.start
virsh dumpxml --inactive e2e-x > /tmp/x.after
check "the stored definition is put back, byte for byte" cmp -s /tmp/x.before /tmp/x.after
check "and the NIC is back on e1000e" test "$(driver_of "$nic")" = e1000e

# The hook compare.sh uses for the seed's method: libvirt looks for hooks
# only when it starts, and the daemon restarts just below.
cat > /tmp/seed.conf <<CONF
VM_NAME=cmp-seed
ADDRESS=$nic
VENDOR=8086
PRODUCT=10d3
ROM=$config/rom/e1000e.bin
CONF
mkdir -p /etc/libvirt/hooks
install -m 0755 "$project/tests/e2e/seed-hook.sh" /etc/libvirt/hooks/qemu

# DSM is reported to lose /etc at reboot: systemd then starts the package's
# service with no drop-in. The start hook (with the block inject dsm added)
# writes it back and reloads systemd before the daemon is started, so that
# very start has the shim.
rm -rf /etc/systemd/system/pkg-libvirtd.service.d
systemctl daemon-reload
systemctl restart pkg-libvirtd
wait_for_daemon
check "after /etc lost the drop-in, the start hook wrote it back" test -f "$dropin"
synopassthru status > /tmp/status2.out 2>&1
check "and the daemon of that same start has the shim" test $? -eq 0
cat /tmp/status2.out

# shellcheck source=tests/e2e/compare.sh
. "$project/tests/e2e/compare.sh"

# Uninstalling: Package Center removes the package's files and runs its
# scripts as its user; they name the root command that undoes setup.
: > /tmp/pkg.msg
pkg_script UNINSTALL preuninst && pkg_script UNINSTALL postuninst
check "the package's uninstall names the command that undoes setup" \
    grep -q "sudo /usr/local/bin/synopassthru setup --remove" /tmp/pkg.msg
rm -rf "$target" "$pkgdir"
/usr/local/bin/synopassthru setup --remove --purge > /tmp/remove.out 2>&1
rc=$?
cat /tmp/remove.out
check "setup --remove --purge" test $rc -eq 0
check "leaves the start hook as it was" cmp -s "$hook" "$project/tests/e2e/dsm/insert_libvirtd_ko.sh"
systemctl restart pkg-libvirtd
wait_for_daemon
check "without the drop-in systemd starts the daemon with no shim" test ! -e "$dropin"
check "(the removed CLI is gone)" test ! -e /usr/local/bin/synopassthru
"$build/synopassthru" status > /dev/null 2>&1
check "and status says so" test $? -eq 1
writable_tree > /tmp/tree.after
diff /tmp/tree.before /tmp/tree.after > /tmp/tree.diff
check "every file the guest could write is as before the package came" test $? -eq 0
head -40 /tmp/tree.diff
