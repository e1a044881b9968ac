# What preview says is what a start does: for each refusal the vfio helper
# makes before binding (a group that is not viable, the host's own disks, a
# device another running VM holds), `preview` refuses with exit 1 and the
# very message a start through the real libvirtd (shim preloaded) gives its
# client, and changes nothing; and `check VM` reports it too. On a host with
# the IOMMU off, the same. With nothing in the way, preview prints the XML
# and the start goes ahead.
. "$(dirname "$0")/lib.sh"

export SYNOPASSTHRU_TRUSTED_UID=$(id -u)
remote() { virsh -c "$DAEMON_URI" "$@"; }
PROC=$WORK/proc

# The APU box: its chipset group holds USB, SATA and a NIC together.
CONFIG=$WORK/apu-config SYSFS=$WORK/apu-sysfs
make_sysfs "$SYSFS" amd-apu "$PROC"
make_config "$CONFIG" "$SYSFS" "$PROC"
export SYNOPASSTHRU_SYSFS_ROOT=$SYSFS
add_snippet "$CONFIG" group.xml '<passthrough vm="grouped"><pci address="02:00.0"/></passthrough>'
start_daemon "$CONFIG" "$SYSFS" || exit 1

# check lists what each device resolves to: IDs, the driver a bind takes it
# from, its group, its guest slot, why functions="all" took it, its ROM.
add_rom "$CONFIG" vbios_1002_1638.bin
add_snippet "$CONFIG" desk.xml '<passthrough vm="desk"><pci address="08:00.0" rom="vbios_1002_1638.bin" functions="all"/></passthrough>'
"$CLI" --config "$CONFIG" check desk > "$WORK/desk.check" 2>&1
check "check of a ready VM passes (exit $?)" grep -q "every device passes every check" "$WORK/desk.check"
contains "naming the iGPU, its driver, group and guest slot" "$WORK/desk.check" \
    "0000:08:00.0 [1002:1638] on amdgpu, IOMMU group 4 -> guest 00:1f.0"
contains "its ROM's verdict" "$WORK/desk.check" "ROM $CONFIG/rom/vbios_1002_1638.bin: fits"
contains "and the function functions=all adds, with why" "$WORK/desk.check" \
    "0000:08:00.1 [1002:1637] on snd_hda_intel, IOMMU group 5 -> guest 00:1f.1 (functions=\"all\": the display's audio function)"
contains "and no other" "$WORK/desk.check" "0000:08:00.2" 0
"$CLI" --config "$CONFIG" check desk --json > "$WORK/desk.json" 2>&1
check "check --json carries the same" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
d = {x["address"]: x for x in r["devices"]}
assert r["ok"] and set(d) == {"0000:08:00.0", "0000:08:00.1"}, r
assert d["0000:08:00.0"]["driver"] == "amdgpu" and d["0000:08:00.0"]["iommu_group"] == 4
assert d["0000:08:00.0"]["guest_slot"] == "00:1f.0" and d["0000:08:00.0"]["rom_verdict"] == "fits"
assert d["0000:08:00.1"]["joined"] == "the display'"'"'s audio function" and d["0000:08:00.1"]["rom"] is None
' "$WORK/desk.json"

# The DSM box: every device of note in a group of its own.
prepare_dsm_box() {
    CONFIG=$WORK/config SYSFS=$WORK/sysfs
    make_sysfs "$SYSFS" dsm-box "$PROC" || { fail "the fake DSM box is built"; exit 1; }
    make_config "$CONFIG" "$SYSFS" "$PROC"
    export SYNOPASSTHRU_SYSFS_ROOT=$SYSFS
    add_snippet "$CONFIG" disk.xml '<passthrough vm="nas-disk"><pci address="02:00.1"/></passthrough>'
    add_snippet "$CONFIG" held.xml '<passthrough vm="second"><pci address="05:00.0"/></passthrough>'
    add_snippet "$CONFIG" fine.xml '<passthrough vm="fine"><pci address="05:00.0"/></passthrough>'
    start_daemon "$CONFIG" "$SYSFS" || exit 1
    # The same device bound for another VM that is still starting (a fresh hold).
    "$CLI" --config "$CONFIG" bind --vm first 0000:05:00.0 > "$WORK/bind" 2>&1
    check "(another VM holds 05:00.0)" grep -q "bound 0000:05:00.0" "$WORK/bind"
}

# same_words VM WHAT: preview and a real start refuse VM with one message.
same_words() {
    local vm=$1 what=$2
    test_domain "$vm" > "$WORK/$vm.xml"
    "$CLI" --config "$CONFIG" preview "$WORK/$vm.xml" > "$WORK/$vm.preview" 2> "$WORK/$vm.perr"
    local rc=$?
    check "preview refuses $what (exit $rc)" test "$rc" -eq 1
    check "and prints no XML" test ! -s "$WORK/$vm.preview"
    remote "create $WORK/$vm.xml" > /dev/null 2> "$WORK/$vm.serr"
    check "the real start is refused too" test $? -ne 0
    # A hold's age is in seconds and may tick between the two: not a difference.
    sed -nE 's/bound [0-9]+s ago/bound Ns ago/; s/^synopassthru: //p' "$WORK/$vm.perr" > "$WORK/$vm.pmsg"
    sed -nE 's/bound [0-9]+s ago/bound Ns ago/; s/^error: synopassthru: //p' "$WORK/$vm.serr" > "$WORK/$vm.smsg"
    if [ -s "$WORK/$vm.pmsg" ] && cmp -s "$WORK/$vm.pmsg" "$WORK/$vm.smsg"; then
        pass "with the same words: $(cut -c1-120 "$WORK/$vm.pmsg")"
    else
        fail "preview and start differ for $what:"
        sed 's/^/    | preview: /' "$WORK/$vm.perr"
        sed 's/^/    | start:   /' "$WORK/$vm.serr"
    fi
    "$CLI" --config "$CONFIG" check "$vm" 2>&1 | sed -E 's/bound [0-9]+s ago/bound Ns ago/' > "$WORK/$vm.check"
    check "check VM says so too, in the same words" grep -qxF "synopassthru: $(cat "$WORK/$vm.pmsg")" "$WORK/$vm.check"
}

drivers() { for a in 0000:02:00.0 0000:02:00.1 0000:03:00.0; do echo "$a $(driver_of "$SYSFS" "$a")"; done; }
drivers > "$WORK/drivers.before"
same_words grouped "a device whose IOMMU group is not viable"
contains "(it names the group's other members)" "$WORK/grouped.pmsg" "0000:02:00.1"
drivers > "$WORK/drivers.after"
check "nothing was unbound" cmp -s "$WORK/drivers.before" "$WORK/drivers.after"
stop_daemon

prepare_dsm_box
drivers > "$WORK/drivers.before"
same_words nas-disk "the controller of the host's own disks"
contains "(naming the chain of /)" "$WORK/nas-disk.pmsg" "sda -> sda1 -> md0, mounted at /"
same_words second "a device another VM holds"
contains "(naming that VM)" "$WORK/second.pmsg" "first"
drivers > "$WORK/drivers.after"
check "nothing was unbound by either" cmp -s "$WORK/drivers.before" "$WORK/drivers.after"

# With the other VM's hold gone, preview prints the XML and the start works.
"$CLI" --config "$CONFIG" release --force 0000:05:00.0 > /dev/null 2>&1
test_domain fine > "$WORK/fine.xml"
"$CLI" --config "$CONFIG" preview "$WORK/fine.xml" > "$WORK/fine.preview" 2>&1
check "preview passes a start that will go ahead" test $? -eq 0
contains "with the device" "$WORK/fine.preview" 'bus="0x05" slot="0x00" function="0x0"/>' 1
remote "create $WORK/fine.xml" > "$WORK/fine.start" 2>&1
check "and the start does go ahead" test $? -eq 0
stop_daemon

# The IOMMU off: preview refuses as the start's bind would.
NOIOMMU=$WORK/noiommu
make_sysfs "$NOIOMMU" iommu-off
make_config "$WORK/config2" "$NOIOMMU" "$PROC"
add_snippet "$WORK/config2" a.xml '<passthrough vm="x"><pci address="05:00.0"/></passthrough>'
test_domain x > "$WORK/x.xml"
SYNOPASSTHRU_SYSFS_ROOT=$NOIOMMU "$CLI" --config "$WORK/config2" preview "$WORK/x.xml" \
    > /dev/null 2> "$WORK/x.err"
check "preview refuses when the IOMMU is off (exit $?)" test $? -eq 1
contains "saying so" "$WORK/x.err" "IOMMU"
