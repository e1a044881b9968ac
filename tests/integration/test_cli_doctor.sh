# `synopassthru doctor`: a healthy fake DSM box (installed with install.sh
# into a fake root, a fake libvirtd with the shim in a fake /proc) gives
# every check ok and exit 0, as golden text and JSON; then each thing is
# broken in turn and doctor names it, with its fix, and exits 1.
. "$(dirname "$0")/lib.sh"

GOLDEN=$SP_SRC/tests/data/doctor
SYSFS=$WORK/sysfs
PROC=$WORK/proc
CONFIG=$WORK/config
ROOT=$WORK/dsm
HOOK=$ROOT/var/packages/Virtualization/conf/systemd/insert_libvirtd_ko.sh
DROPIN=$ROOT/etc/systemd/system/pkg-libvirtd.service.d/50-synopassthru.conf
export SYNOPASSTHRU_PROC_ROOT=$PROC

make_sysfs "$SYSFS" dsm-box "$PROC"
make_config "$CONFIG"
add_rom "$CONFIG" vbios.bin
add_snippet "$CONFIG" win11.xml \
    '<passthrough vm="win11"><pci address="08:00.0" vendor="1002" product="1638" rom="vbios.bin"/></passthrough>'

# The VM manager's libvirtd, with the shim mapped and this config dir.
mkdir -p "$PROC/100"
echo libvirtd > "$PROC/100/comm"
printf '7f00-7f01 r-xp 0 fd:01 1 %s\n' /usr/lib/libvirt.so.0 "$SHIM" > "$PROC/100/maps"
printf '%s\0' PATH=/bin "SYNOPASSTHRU_CONFIG_DIR=$CONFIG" > "$PROC/100/environ"

# DSM's tree with the Virtualization package, set up as a user would.
mkdir -p "$ROOT/etc/systemd/system" "$(dirname "$HOOK")" "$ROOT/usr/local/etc"
printf '#!/bin/sh\ninsmod kvm.ko 2>/dev/null\nexit 0\n' > "$HOOK"
chmod 755 "$HOOK"
TARBALL=$(ls "$SP_BUILD"/dist/synopassthru-*-x86_64.tar.gz 2>/dev/null | head -1)
check "make dist wrote the tarball" test -f "$TARBALL"
tar -xzf "$TARBALL" -C "$WORK"
REL=$WORK/$(basename "$TARBALL" .tar.gz)
check "install.sh sets the fake box up" sh "$REL/install.sh" --root "$ROOT" > "$WORK/install" 2>&1

doctor() { "$CLI" --config "$CONFIG" doctor --root "$ROOT" "$@"; }

# The golden files name the shim's version as @VERSION@.
VERSION=$("$CLI" --version | cut -d' ' -f2)
healthy_as_golden() {
    sed -i "s/has the shim $VERSION /has the shim @VERSION@ /" "$WORK/stdout"
    matches_golden "$WORK/stdout" "$GOLDEN/$1"
}

expect_exit 0 "doctor on a healthy box" doctor
healthy_as_golden healthy.txt
contains "no line is a problem" "$WORK/stdout" "problem" 0
contains "no line is a warning" "$WORK/stdout" "warning " 0
expect_exit 0 "doctor --json on a healthy box" doctor --json
healthy_as_golden healthy.json
check "--json: schema first, ok, every check's id" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert list(r) == ["schema", "ok", "checks"] and r["schema"] == 1 and r["ok"] is True, r
ids = [c["id"] for c in r["checks"]]
assert ids == ["iommu", "vfio", "daemon", "dropin", "dsm-hook", "shim-loads", "modes",
               "snippets", "vm", "holds", "audit-log", "old-hook"], ids
assert all(c["status"] == "ok" and c["fix"] is None for c in r["checks"]), r
' "$WORK/stdout"

# broken "what" ID PATTERN FIX-PATTERN [doctor args]: doctor exits 1 with a
# problem line of ID saying PATTERN, followed by its fix.
broken() {
    local what=$1 id=$2 pattern=$3 fix=$4
    shift 4
    doctor "$@" > "$WORK/out" 2> "$WORK/err"
    check "$what: exit 1" test $? -eq 1
    contains "$what: the problem" "$WORK/out" "problem $(printf '%-10s' "$id") $pattern"
    awk -v p="$pattern" 'found { print; exit } index($0, p) { found = 1 }' "$WORK/out" \
        > "$WORK/fix"
    contains "$what: and its fix" "$WORK/fix" "$fix"
}

make_sysfs "$WORK/sysfs-off" iommu-off
SYNOPASSTHRU_SYSFS_ROOT=$WORK/sysfs-off broken "IOMMU off" iommu \
    "IOMMU is off: no groups under $WORK/sysfs-off/kernel/iommu_groups" \
    "enable AMD-Vi/IOMMU (AMD) or VT-d (Intel) in the BIOS/UEFI setup"

mv "$SYSFS/bus/pci/drivers/vfio-pci" "$WORK/vfio-pci.aside"
broken "no vfio-pci" vfio "the vfio-pci driver is not there" \
    "start Virtual Machine Manager once (Package Center)"
mv "$WORK/vfio-pci.aside" "$SYSFS/bus/pci/drivers/vfio-pci"

sed -i "\\|$SHIM|d" "$PROC/100/maps"
broken "the daemon without the shim" daemon \
    "libvirtd (pid 100) runs without the shim" "restart the daemon so that the drop-in takes effect"
printf '7f00-7f01 r-xp 0 fd:01 1 %s\n' "$SHIM" >> "$PROC/100/maps"

mv "$DROPIN" "$WORK/dropin.aside"
broken "no drop-in" dropin "the systemd drop-in $DROPIN is missing" "as root (sudo -i over SSH"
mv "$WORK/dropin.aside" "$DROPIN"

cp "$HOOK" "$WORK/hook.aside"
printf '#!/bin/sh\ninsmod kvm.ko 2>/dev/null\nexit 0\n' > "$HOOK"
broken "no block in DSM's start hook" dsm-hook "DSM's start hook $HOOK has no synopassthru block" \
    "synopassthru setup"
cp "$WORK/hook.aside" "$HOOK"

printf 'not an ELF file\n' > "$WORK/bad.so"
cp "$DROPIN" "$WORK/dropin.aside"
sed -i "s|LD_PRELOAD=[^\"]*|LD_PRELOAD=/bad.so|" "$DROPIN"
cp "$WORK/bad.so" "$ROOT/bad.so"
broken "a shim that does not load" shim-loads \
    "the shim the drop-in preloads does not load" "install the release built for this DSM version"
cp "$WORK/dropin.aside" "$DROPIN"

chmod 666 "$CONFIG/vm.d/win11.xml"
broken "a world-writable snippet" modes \
    "snippet $CONFIG/vm.d/win11.xml is world-writable" "chmod go-w '$CONFIG/vm.d/win11.xml'"
chmod 644 "$CONFIG/vm.d/win11.xml"

add_snippet "$CONFIG" broken.xml '<passthrough vm="nas"><pci address="zz"/>'
broken "a snippet that does not parse" snippets "VM 'nas': $CONFIG/vm.d/broken.xml:2: Premature end" \
    "correct the file (README: Configuration)"
rm "$CONFIG/vm.d/broken.xml"

# The same box with the SATA controller (DSM's own disks) in the NVMe drive's group.
sed '/^0000:02:00.1/s/ 13 / 1  /' "$SP_SRC/tests/data/hosts/dsm-box.txt" > "$WORK/shared.txt"
"$SP_BUILD/tests/mkfakesysfs" "$WORK/sysfs-shared" "$WORK/shared.txt" "$WORK/proc-shared"
add_snippet "$CONFIG" nvme.xml '<passthrough vm="nas"><pci address="01:00.0"/></passthrough>'
expect_exit 0 "the NVMe drive alone in its group passes" doctor
SYNOPASSTHRU_SYSFS_ROOT=$WORK/sysfs-shared broken "a group-mate of the host's disk" vm \
    "VM 'nas' would not start:" "synopassthru check 'nas' lists each device"
contains "naming the SATA controller and what it holds" "$WORK/out" "0000:02:00.1"
rm "$CONFIG/vm.d/nvme.xml"

add_rom "$CONFIG" wrong.bin wrong-ids
sed -i 's/vbios.bin/wrong.bin/' "$CONFIG/vm.d/win11.xml"
broken "a ROM for another device" vm "VM 'win11' would not start:" "synopassthru check 'win11'"
contains "naming the ROM" "$WORK/out" "wrong.bin"
sed -i 's/wrong.bin/vbios.bin/' "$CONFIG/vm.d/win11.xml"

"$CLI" --config "$CONFIG" bind --vm frigate 06:00.0 > /dev/null 2>&1
sed -i 's/^since=.*/since=1000/' "$CONFIG/state/0000:06:00.0.hold"
broken "a stale hold" holds "0000:06:00.0 is held by VM 'frigate', which does not run" \
    "as root: synopassthru release 0000:06:00.0 (back to no driver)"
"$CLI" --config "$CONFIG" release 06:00.0 > /dev/null 2>&1

mkdir -p "$ROOT/etc/libvirt/hooks"
printf '#!/bin/bash\n/usr/local/libvirt/attach_detach_all.sh "$@"\n' > "$ROOT/etc/libvirt/hooks/qemu"
broken "the old qemu hook" old-hook "the community scripts' hot-plug is still in place" \
    "synopassthru import --remove-old"
rm -r "$ROOT/etc/libvirt"

sed -i "s|^audit_log = .*|audit_log = $WORK/nowhere/audit.log|" "$CONFIG/synopassthru.conf"
broken "an audit log nowhere" audit-log "the audit log $WORK/nowhere/audit.log cannot be written" \
    "mkdir -p '$WORK/nowhere'"
sed -i "s|^audit_log = .*|audit_log = $CONFIG/audit.log|" "$CONFIG/synopassthru.conf"

expect_exit 0 "healthy again after each repair" doctor
healthy_as_golden healthy.txt

expect_exit 0 "synopassthru --help" "$CLI" --help
contains "its exit table has doctor's codes" "$WORK/stdout" "  doctor       0 no problem (warnings allowed); 1 a problem"
contains "and the codes every command shares" "$WORK/stdout" "  any          2 bad command line; 4 internal error"
expect_exit 0 "doctor --help" "$CLI" doctor --help
contains "says what doctor exits with" "$WORK/stdout" "Exit 0 no problem (warnings allowed); 1 a"
