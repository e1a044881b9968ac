# What the host itself uses is never passed: the CLI's check and the vfio
# helper's bind on the fake DSM box (tests/data/hosts/dsm-box.txt) with its
# fake /proc; refusals name the whole chain and leave every driver as it was.
. "$(dirname "$0")/lib.sh"

CONFIG=$WORK/config SYSFS=$WORK/sysfs PROC=$WORK/proc
make_sysfs "$SYSFS" dsm-box "$PROC" || { fail "the fake DSM box is built"; exit 1; }
make_config "$CONFIG" "$SYSFS" "$PROC"
export SYNOPASSTHRU_SYSFS_ROOT=$SYSFS SYNOPASSTHRU_TRUSTED_UID=$(id -u)
cli() { "$CLI" --config "$CONFIG" "$@"; }
HELPER=$SP_BUILD/tests/synopassthru-vfio-model
DEVICES="0000:01:00.0 0000:02:00.0 0000:02:00.1 0000:03:00.0 0000:05:00.0 0000:08:00.3"
# Each device's driver and driver_override, one line each.
drivers() {
    local a
    for a in $DEVICES; do
        echo "$a $(driver_of "$SYSFS" "$a") $(cat "$SYSFS/bus/pci/devices/$a/driver_override")"
    done
}
drivers > "$WORK/drivers-before"

add_snippet "$CONFIG" nas.xml '<passthrough vm="nas-vm"><pci address="02:00.1" vendor="1022" product="43eb"/></passthrough>'
cli check nas-vm > "$WORK/sata" 2>&1
check "check refuses the SATA controller DSM runs from" test $? -eq 1
contains "naming the chain of /" "$WORK/sata" \
    "device 0000:02:00.1 is the host's own: 0000:02:00.1 -> sda -> sda1 -> md0, mounted at /"
contains "on both disks" "$WORK/sata" "0000:02:00.1 -> sdb -> sdb1 -> md0, mounted at /"
contains "the swap" "$WORK/sata" "0000:02:00.1 -> sda -> sda2 -> md1, used as swap"
contains "the volume through LVM and the cache" "$WORK/sata" \
    "0000:02:00.1 -> sdb -> sdb5 -> md2 -> dm-0 (vg1000-lv) -> dm-1 (cachedev_0), mounted at /volume1"
cli check nas-vm --json > "$WORK/sata.json" 2>&1
check "check --json has each use as a problem of its own" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ok"] is False, r
text = "\n".join(r["problems"])
for chain in ("sda -> sda1 -> md0, mounted at /", "sdb -> sdb2 -> md1, used as swap",
              "sda -> sda5 -> md2 -> dm-0 (vg1000-lv) -> dm-1 (cachedev_0)"):
    assert chain in text, (chain, text)
' "$WORK/sata.json"

add_snippet "$CONFIG" nas.xml '<passthrough vm="nas-vm"><pci address="02:00.1" host_use="allow"/></passthrough>'
cli check nas-vm > "$WORK/sata-allow" 2>&1
check "host_use=\"allow\" does not let the system disks go" test $? -eq 1
contains "and says it cannot" "$WORK/sata-allow" \
    "host_use=\"allow\" cannot cover what / or the DSM boot device depends on"
contains "while the uses it covers are not listed" "$WORK/sata-allow" "used as swap" 0

add_snippet "$CONFIG" boot.xml '<passthrough vm="boot-vm"><pci address="02:00.0" host_use="allow"/></passthrough>'
cli check boot-vm > "$WORK/boot" 2>&1
check "the USB controller with the boot stick is refused, override or not" test $? -eq 1
contains "naming it" "$WORK/boot" "0000:02:00.0 -> synoboot, the DSM boot device"

add_snippet "$CONFIG" router.xml '<passthrough vm="router"><pci address="03:00.0"/></passthrough>'
cli check router > "$WORK/nic" 2>&1
check "a NIC up with an address is refused" test $? -eq 1
contains "with its chain and the way out" "$WORK/nic" \
    "device 0000:03:00.0 is in use by the host: 0000:03:00.0 -> eth0, up with an address (stop that use first; if the host can do without it, host_use=\"allow\" on its <pci> lets it go)"
add_snippet "$CONFIG" router.xml '<passthrough vm="router"><pci address="03:00.0" host_use="allow"/><pci address="08:00.3" functions="all" host_use="allow"/></passthrough>'
cli check router > "$WORK/nic-allow" 2>&1
check "host_use=\"allow\" lets the NIC and the USB share go" test $? -eq 0
contains "and check says so" "$WORK/nic-allow" "every device passes every check"

add_snippet "$CONFIG" free.xml '<passthrough vm="free"><pci address="01:00.0"/><pci address="05:00.0"/></passthrough>'
cli check free > "$WORK/free" 2>&1
check "an unused NVMe disk and a NIC that is down pass" test $? -eq 0

# The helper itself, as the shim runs it: bind refuses before touching anything.
"$HELPER" bind --root "$SYSFS" --proc-root "$PROC" --state-dir "$CONFIG/state" --vm nas-vm \
    0000:02:00.1=1022:43eb,allow-host-use > "$WORK/helper-out" 2> "$WORK/helper-err"
check "the helper's bind refuses the SATA controller" test $? -eq 1
contains "with the chain" "$WORK/helper-err" "0000:02:00.1 -> sda -> sda1 -> md0, mounted at /"
contains "and binds nothing" "$WORK/helper-out" "bound" 0
cli bind 02:00.1 03:00.0 > "$WORK/bind" 2>&1
check "bind by hand refuses them too" test $? -eq 1
contains "naming the NIC" "$WORK/bind" "0000:03:00.0 -> eth0, up with an address"
drivers > "$WORK/drivers-after"
check "no driver and no driver_override changed" cmp -s "$WORK/drivers-before" "$WORK/drivers-after"
check "and no device is held" test -z "$(ls -A "$CONFIG/state" 2>/dev/null | grep -v lock)"

# What may go still goes.
cli bind 05:00.0 > "$WORK/bind-ok" 2>&1
check "the NIC that is down binds" test $? -eq 0
check "to vfio-pci" test "$(driver_of "$SYSFS" 0000:05:00.0)" = vfio-pci
cli release --force 05:00.0 > "$WORK/release" 2>&1
check "and goes back to ixgbe" test "$(driver_of "$SYSFS" 0000:05:00.0)" = ixgbe
