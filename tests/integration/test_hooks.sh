# The test hooks (common/testhooks.h) are not in the shim libvirtd loads:
# its binary does not name them, and a daemon whose environment points them
# elsewhere decides by its config alone. The test build of the shim, given
# the same environment, decides otherwise: that is what the checks would see
# if the hooks came back.
. "$(dirname "$0")/lib.sh"

for prog in "$SHIM" "$SP_BUILD/synopassthru-vfio"; do
    check "$(basename "$prog") names no test hook (it names: $(test_hook_names "$prog" | tr '\n' ' '))" \
        test -z "$(test_hook_names "$prog")"
done
check "the test build of the shim names every hook" test "$(test_hook_names "$TEST_SHIM" | wc -l)" -eq 5

# The config's host A: the fake DSM box with its /proc, where the TPU can
# be passed and the USB disk is mounted. The environment's host B: the same
# box without the TPU, and a /proc where the USB disk is not mounted. The
# trusted uid of the environment owns one snippet.
A=$WORK/sysfs PROC_A=$WORK/proc B=$WORK/other-sysfs PROC_B=$WORK/other-proc
make_sysfs "$A" dsm-box "$PROC_A"
grep -v '^0000:06:00.0 ' "$SP_SRC/tests/data/hosts/dsm-box.txt" > "$WORK/no-tpu.txt"
"$SP_BUILD/tests/mkfakesysfs" "$B" "$WORK/no-tpu.txt" "$PROC_B"
sed -i '/usbshare/d' "$PROC_B/mounts"
OTHER_UID=4242
export SYNOPASSTHRU_SYSFS_ROOT=$B SYNOPASSTHRU_PROC_ROOT=$PROC_B SYNOPASSTHRU_TRUSTED_UID=$OTHER_UID

# starts SHIM: a fresh config and daemon with SHIM; each VM's start in $WORK/<vm>.out.
starts() {
    local config=$WORK/config-$(basename "$1") vm
    make_config "$config" "$A" "$PROC_A"
    add_snippet "$config" tpu.xml '<passthrough vm="tpu"><pci address="06:00.0" vendor="1ac1" product="089a"/></passthrough>'
    add_snippet "$config" usbdisk.xml '<passthrough vm="usbdisk"><pci address="08:00.3"/></passthrough>'
    add_snippet "$config" lent.xml '<passthrough vm="lent">
  <hostdev mode="subsystem" type="usb"><source><vendor id="0x046d"/><product id="0xc52b"/></source></hostdev>
</passthrough>'
    chown "$OTHER_UID" "$config/vm.d/lent.xml"
    SP_SHIM=$1 start_daemon "$config" "$A" || return 1
    for vm in tpu usbdisk lent; do
        test_domain "$vm" > "$WORK/$vm.xml"
        virsh -c "$DAEMON_URI" "create $WORK/$vm.xml; dumpxml $vm" > "$WORK/$vm.out" 2>&1
        echo "exit $?" >> "$WORK/$vm.out"
    done
    stop_daemon
}

starts "$SHIM" || exit 1
contains "the shim starts the TPU found in its config's sysfs_root" "$WORK/tpu.out" "exit 0"
contains "with the TPU in the live domain" "$WORK/tpu.out" "bus='0x06' slot='0x00' function='0x0'/>" 1
check "bound in the config's tree" test "$(driver_of "$A" 0000:06:00.0)" = vfio-pci
contains "it refuses the USB disk its config's proc_root has mounted" "$WORK/usbdisk.out" \
    "0000:08:00.3 -> sdc -> sdc1, mounted at /volumeUSB1/usbshare"
check "which stays on its driver" test "$(driver_of "$A" 0000:08:00.3)" = xhci_hcd
contains "it does not trust a snippet owned by the environment's uid" "$WORK/lent.out" \
    "owned by uid $OTHER_UID, not root"
contains "whose device the VM does not get" "$WORK/lent.out" "<vendor id='0x046d'/>" 0
check "nothing was bound in the environment's tree" \
    test "$(driver_of "$B" 0000:08:00.3)" = xhci_hcd -a ! -e "$B/bus/pci/devices/0000:06:00.0"

starts "$TEST_SHIM" || exit 1
contains "the test build looks for the TPU in the environment's tree" "$WORK/tpu.out" \
    "device 0000:06:00.0 not found under $B/bus/pci/devices"
contains "passes the USB disk by the environment's /proc" "$WORK/usbdisk.out" "exit 0"
contains "and trusts the environment's uid" "$WORK/lent.out" "<vendor id='0x046d'/>" 1
