# `add` and `remove`: snippets written for the user, after every check a
# start makes; a refusal leaves vm.d byte for byte as it was, and a
# hand-written snippet keeps its comments and layout.
. "$(dirname "$0")/lib.sh"

CONFIG=$WORK/config SYSFS=$WORK/sysfs PROC=$WORK/proc
make_sysfs "$SYSFS" amd-apu "$PROC"
make_config "$CONFIG" "$SYSFS" "$PROC"
export SYNOPASSTHRU_SYSFS_ROOT=$SYSFS SYNOPASSTHRU_PROC_ROOT=$PROC
# add and remove ask libvirt for a VM's other names: here a URI that is down
# (never this machine's own qemu:///system), so VM is taken as given.
export LIBVIRT_DEFAULT_URI="test+unix:///default?socket=$WORK/no-libvirt-sock"
VMD=$CONFIG/vm.d
sp() { "$CLI" --config "$CONFIG" "$@"; }
# Everything about vm.d that a write could change: names, modes, sizes,
# times (of vm.d itself too: a temp file made and removed shows there) and
# every file's bytes.
listing() { (cd "$VMD" && ls -la --time-style=full-iso . && sha256sum -- * 2>/dev/null); }
# unchanged "what" command...: exit 1, one line on stderr, vm.d as it was.
unchanged() {
    local what=$1
    shift
    listing > "$WORK/before"
    expect_exit 1 "$what" "$@"
    listing > "$WORK/after"
    check "$what: vm.d is byte for byte as it was" cmp -s "$WORK/before" "$WORK/after"
}

# A fresh config: a new file named after the VM, root's, mode 0644.
expect_exit 0 "add to a fresh config" sp add "Living room" 08:00.0
check "the new file is vm.d/Living-room.xml" test -f "$VMD/Living-room.xml"
check "mode 0644, owned by the caller" test "$(stat -c '%a %u' "$VMD/Living-room.xml")" = "644 $(id -u)"
contains "vm= as the user gave it" "$VMD/Living-room.xml" '<passthrough vm="Living room">'
contains "IDs read from sysfs" "$VMD/Living-room.xml" '<pci address="0000:08:00.0" vendor="1002" product="1638"/>'
contains "the iGPU's HDMI audio is hinted, with the command" "$WORK/stdout" \
    "hint: 0000:08:00.1 is the HDMI audio of the iGPU 0000:08:00.0; without it Windows guests report \"Error 43\". Add it with: synopassthru --config '$CONFIG' add 'Living room' 0000:08:00.1"
contains "the vBIOS from VFCT is offered" "$WORK/stdout" "synopassthru rom extract --vfct --for 0000:08:00.0"
check "nothing left beside it (no temp file)" test "$(ls -A "$VMD")" = "Living-room.xml"

# Extending it: the same file, and the audio hint is gone once it is there.
expect_exit 0 "add the audio function" sp add "Living room" 0000:08:00.1
contains "the same file is extended" "$VMD/Living-room.xml" '<pci address="0000:08:00.1" vendor="1002" product="1637"/>'
check "still one file" test "$(ls -A "$VMD")" = "Living-room.xml"
listing > "$WORK/before"
expect_exit 0 "adding a device already there" sp add "Living room" 08:00.1
contains "is a no-op that says so" "$WORK/stdout" "0000:08:00.1 is in $VMD/Living-room.xml already; nothing to add"
listing > "$WORK/after"
check "and writes nothing" cmp -s "$WORK/before" "$WORK/after"

# What it wrote is what check and the shim's own reading accept.
expect_exit 0 "check accepts the written snippet" sp check "Living room"
contains "with both devices" "$WORK/stdout" "0000:08:00.1 [1002:1637]"
test_domain living-room "Living room" > "$WORK/domain.xml"
expect_exit 0 "preview on a test domain" sp preview "$WORK/domain.xml"
contains "gets the iGPU" "$WORK/stdout" 'bus="0x08" slot="0x00" function="0x0"' 1
contains "and its audio" "$WORK/stdout" 'bus="0x08" slot="0x00" function="0x1"' 1
if command -v virsh > /dev/null; then
    sp preview "$WORK/domain.xml" > "$WORK/patched.xml" 2> /dev/null
    check "libvirt's test driver defines the patched domain" \
        timeout 20 virsh -q -c test:///default define "$WORK/patched.xml"
fi

# --dry-run prints the text and writes nothing.
listing > "$WORK/before"
expect_exit 0 "--dry-run" sp add "Living room" 05:00.0 --dry-run
contains "prints the snippet it would write" "$WORK/stdout" '<pci address="0000:05:00.0" vendor="8086" product="10fb"/>'
listing > "$WORK/after"
check "--dry-run writes nothing" cmp -s "$WORK/before" "$WORK/after"

# Refusals: each leaves vm.d as it was, naming the VM, the device, the cause.
unchanged "a device not in the group alone" sp add "Living room" 02:00.1
contains "names the VM, the device and the group" "$WORK/stderr" "VM 'Living room': device 0000:02:00.1: IOMMU group 2 is not viable"
contains "and says nothing was written" "$WORK/stderr" "refused, nothing written"
unchanged "a device that is not there" sp add "Living room" 0a:00.0
contains "says it is not found" "$WORK/stderr" "VM 'Living room': device 0000:0a:00.0 not found under"
printf 'hello' > "$CONFIG/rom/short.bin"
chmod 644 "$CONFIG/rom/short.bin"
unchanged "a ROM that is no ROM" sp add "Living room" 05:00.0 --rom short.bin
contains "names the ROM, the device and why" "$WORK/stderr" "ROM $CONFIG/rom/short.bin for 0000:05:00.0: offset 0x0: 5 bytes, shorter than a ROM header"
unchanged "a ROM outside rom/" sp add "Living room" 05:00.0 --rom ../synopassthru.conf
add_rom "$CONFIG" vbios_1002_1638.bin legacy
unchanged "a ROM made for another device" sp add "Living room" 05:00.0 --rom vbios_1002_1638.bin
contains "says it does not fit" "$WORK/stderr" "0000:05:00.0"
expect_exit 0 "a fitting ROM, in a file of its own VM" sp add desk 08:00.0 --rom vbios_1002_1638.bin
contains "rom= as given" "$VMD/desk.xml" 'rom="vbios_1002_1638.bin"'
contains "no vBIOS hint with a ROM" "$WORK/stdout" "rom extract" 0
contains "a device in another VM's snippet is a warning naming both" "$WORK/stdout" \
    "warning: 0000:08:00.0 is also in VM 'Living room''s snippet $VMD/Living-room.xml"

# Flags map onto the attributes of the format.
unchanged "--no-bind with --release, as the format refuses it" sp add nas 06:00.0 --no-bind --release
contains "says why" "$WORK/stderr" "release='yes' needs the devices bound"
expect_exit 0 "--functions all --release" sp add nas 06:00.0 --functions all --release
contains "release on <passthrough>" "$VMD/nas.xml" '<passthrough vm="nas" release="yes">'
contains "functions=\"all\" on <pci>" "$VMD/nas.xml" 'functions="all"'
expect_exit 0 "--no-bind" sp add tpu 06:00.0 --no-bind
contains "bind=\"no\" on <passthrough>" "$VMD/tpu.xml" '<passthrough vm="tpu" bind="no">'
expect_exit 0 "a device added to a file with bind=\"no\"" sp add tpu 05:00.0
contains "is covered by it, and that is said" "$WORK/stdout" "note: $VMD/tpu.xml has bind=\"no\": it covers the added devices too"
expect_exit 0 "--release on a file with devices" sp add desk 05:00.0 --release
contains "sets it on <passthrough>" "$VMD/desk.xml" '<passthrough vm="desk" release="yes">'
contains "and says it covers every device there" "$WORK/stdout" "note: release=\"yes\" is said on <passthrough> in $VMD/desk.xml: it covers every device there"
expect_exit 2 "--rom with two devices" sp add nas 05:00.0 06:00.0 --rom x.bin
expect_exit 2 "--functions takes only all" sp add nas 05:00.0 --functions some
expect_exit 2 "a bad address" sp add nas 5:0
expect_exit 2 "no device" sp add nas

# A hand-written snippet keeps its comments and layout...
cat > "$VMD/win.xml" <<'XML'
<?xml version="1.0"?>
<!-- the gaming VM -->
<passthrough vm="591328d9-88d5-42aa-9551-bb793c3330cf">
    <!-- the 10 GbE card -->
    <pci address="05:00.0" vendor="8086" product="10fb"/>   <!-- port 1 -->

</passthrough>
XML
chmod 644 "$VMD/win.xml"
expect_exit 0 "add to a hand-written snippet (VM by UUID in capitals)" sp add 591328D9-88D5-42AA-9551-BB793C3330CF 06:00.0
cat > "$WORK/want.xml" <<'XML'
<?xml version="1.0"?>
<!-- the gaming VM -->
<passthrough vm="591328d9-88d5-42aa-9551-bb793c3330cf">
    <!-- the 10 GbE card -->
    <pci address="05:00.0" vendor="8086" product="10fb"/>   <!-- port 1 -->
    <pci address="0000:06:00.0" vendor="1ac1" product="089a"/>

</passthrough>
XML
check "the file it names is extended, every other byte kept" cmp "$WORK/want.xml" "$VMD/win.xml"
# ... or is not rewritten at all.
printf "<passthrough vm='tv'>\n  <pci address='05:00.0'/>\n</passthrough>\n" > "$VMD/tv.xml"
chmod 644 "$VMD/tv.xml"
unchanged "a snippet that would not come back as written" sp add tv 06:00.0
contains "names the file and says why" "$WORK/stderr" "$VMD/tv.xml:1: rewriting this file would change its formatting"
expect_exit 1 "--dry-run shows the text anyway" sp add tv 06:00.0 --dry-run
contains "(the new text)" "$WORK/stdout" '<pci address="0000:06:00.0"'
unchanged "remove refuses it too" sp remove tv 05:00.0

# remove: a device, then the last one takes the file with it.
expect_exit 0 "remove a device" sp remove "Living room" 08:00.1
contains "it is gone" "$VMD/Living-room.xml" '08:00.1' 0
contains "the other stays" "$VMD/Living-room.xml" '0000:08:00.0'
unchanged "remove a device the VM does not have" sp remove "Living room" 08:00.1
contains "names it" "$WORK/stderr" "device 0000:08:00.1 is in none of its snippets"
expect_exit 0 "remove the last device" sp remove "Living room" 08:00.0
check "removes the file" test ! -e "$VMD/Living-room.xml"
expect_exit 0 "remove a whole VM" sp remove nas
check "removes its file" test ! -e "$VMD/nas.xml"
unchanged "remove a VM no snippet names" sp remove nobody
contains "says so" "$WORK/stderr" "no snippet in $CONFIG/vm.d names VM 'nobody'"

# A VM that a removal leaves refused is a warning, not a refusal: taking a
# device out is how a VM is mended.
add_snippet "$CONFIG" gone.xml '<passthrough vm="gone">
  <pci address="05:00.0" vendor="8086" product="10fb"/>
  <pci address="06:00.0" vendor="1ac1" product="089a"/>
  <pci address="0a:00.0" vendor="8086" product="10fb"/>
</passthrough>'
expect_exit 0 "remove a device from a VM that stays refused" sp remove gone 05:00.0
contains "warns that a start would still be refused, and why" "$WORK/stdout" \
    "warning: a start of VM 'gone' would still be refused: VM 'gone': device 0000:0a:00.0 not found"
expect_exit 0 "remove the device that is not there" sp remove gone 0a:00.0
contains "no warning once the VM would start" "$WORK/stdout" "would still be refused" 0

# A snippet the shim would refuse for its owner is not written.
if command -v setpriv > /dev/null && [ "$(id -u)" -eq 0 ]; then
    unchanged "add as another user than root" setpriv --reuid=65534 --regid=65534 --clear-groups \
        "$CLI" --config "$CONFIG" add nas 05:00.0
    contains "says why" "$WORK/stderr" "would be owned by uid 65534, not root, and the shim refuses such a snippet"
fi

# The host's own disks and network (a DSM box) are refused before writing.
DSM=$WORK/dsm
make_sysfs "$DSM/sysfs" dsm-box "$DSM/proc"
make_config "$DSM/config" "$DSM/sysfs" "$DSM/proc"
CONFIG=$DSM/config VMD=$DSM/config/vm.d
export SYNOPASSTHRU_SYSFS_ROOT=$DSM/sysfs SYNOPASSTHRU_PROC_ROOT=$DSM/proc
unchanged "the SATA controller with DSM's disks" sp add nas 02:00.1
contains "says the chain" "$WORK/stderr" "md0"
unchanged "the NIC the host is on" sp add nas 03:00.0
contains "names the interface" "$WORK/stderr" "eth0"
expect_exit 0 "a NIC that is down goes" sp add nas 05:00.0
