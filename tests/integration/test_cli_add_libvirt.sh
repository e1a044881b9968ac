# add and remove with the VM's other names from a real libvirtd the test
# starts: add by UUID extends the snippet that names the VM by its title,
# remove by title takes a device from the snippet that names it by name; a
# VM libvirt does not know and a libvirt that is down are one warning line
# each; snippets naming one VM by two of its names make add refuse, with
# vm.d byte for byte as it was.
. "$(dirname "$0")/lib.sh"

CONFIG=$WORK/config SYSFS=$WORK/sysfs PROC=$WORK/proc
make_sysfs "$SYSFS" amd-apu "$PROC"
make_config "$CONFIG" "$SYSFS" "$PROC"
export SYNOPASSTHRU_SYSFS_ROOT=$SYSFS SYNOPASSTHRU_PROC_ROOT=$PROC
VMD=$CONFIG/vm.d
# The daemon's own config names no VM: defining the domains changes nothing.
make_config "$WORK/daemon-config" "$SYSFS" "$PROC"
UUID_W=591328d9-88d5-42aa-9551-bb793c3330cf
UUID_O=11111111-2222-4333-8444-555555555555
add_snippet "$CONFIG" by-title.xml '<passthrough vm="Windows 11">
  <pci address="0000:05:00.0" vendor="8086" product="10fb"/>
</passthrough>'
add_snippet "$CONFIG" by-name.xml '<passthrough vm="office">
  <pci address="0000:08:00.3" vendor="1022" product="1639"/>
  <pci address="0000:08:00.4" vendor="1022" product="1639"/>
</passthrough>'
listing() { (cd "$VMD" && ls -la --time-style=full-iso . && sha256sum -- *); }

# domain NAME UUID TITLE: a test-driver domain with a fixed UUID, as VMM
# makes them (the name is the UUID, the name shown is the title).
domain() { test_domain "$1" "$3" | sed "s|</name>|</name><uuid>$2</uuid>|"; }
domain "$UUID_W" "$UUID_W" "Windows 11" > "$WORK/d-win.xml"
domain office "$UUID_O" "Office PC" > "$WORK/d-office.xml"

start_daemon "$WORK/daemon-config" "$SYSFS" || exit 1
hold_session 3 "define $WORK/d-win.xml" "define $WORK/d-office.xml"
check "the daemon holds the two domains and its own" \
    test "$(virsh -q -c "$DAEMON_URI" list --all --name | grep -c .)" -eq 3
sp() { "$CLI" --config "$CONFIG" "$@"; }

# add by UUID: the snippet naming the VM by its title is extended.
expect_exit 0 "add by UUID, in capitals" sp add "$(echo "$UUID_W" | tr a-f A-F)" 06:00.0 --connect "$DAEMON_URI"
contains "the title's snippet gets the device" "$VMD/by-title.xml" '<pci address="0000:06:00.0" vendor="1ac1" product="089a"/>' 1
contains "and keeps the one it had" "$VMD/by-title.xml" '0000:05:00.0' 1
check "no second snippet for the VM" test "$(ls -A "$VMD" | tr '\n' ' ')" = "by-name.xml by-title.xml "
contains "it says which file names the VM, and how libvirt knows it" "$WORK/stdout" \
    "note: $VMD/by-title.xml names the VM 'Windows 11' (libvirt: $UUID_W, title 'Windows 11')" 1
contains "no warning: libvirt knows the VM" "$WORK/stdout" "warning" 0
check "nothing on stderr" test ! -s "$WORK/stderr"
expect_exit 0 "adding it again by name is a no-op" sp add "$UUID_W" 06:00.0 --connect "$DAEMON_URI"
contains "that names the title's file" "$WORK/stdout" "0000:06:00.0 is in $VMD/by-title.xml already; nothing to add" 1

# remove by title: the snippet naming the VM by its name loses the device.
expect_exit 0 "remove by title" sp remove "Office PC" 08:00.4 --connect "$DAEMON_URI"
contains "the name's snippet lost the device" "$VMD/by-name.xml" '08:00.4' 0
contains "and keeps the other" "$VMD/by-name.xml" '0000:08:00.3' 1
contains "it says which file" "$WORK/stdout" "VM 'Office PC': rewrote $VMD/by-name.xml" 1

# Without --connect: $LIBVIRT_DEFAULT_URI is the libvirt asked.
LIBVIRT_DEFAULT_URI=$DAEMON_URI expect_exit 0 "add by title, libvirt from LIBVIRT_DEFAULT_URI" \
    sp add "Office PC" 08:00.4 --dry-run
contains "finds the snippet naming the VM by name" "$WORK/stdout" \
    "note: $VMD/by-name.xml names the VM 'office' (libvirt: office, UUID $UUID_O, title 'Office PC')" 1

# A VM libvirt does not know: written all the same (it may be made later), said once.
expect_exit 0 "add for a VM libvirt does not know" sp add later 08:00.4 --connect="$DAEMON_URI"
contains "a warning says libvirt has no such VM" "$WORK/stdout" \
    "warning: libvirt at $DAEMON_URI has no VM 'later' (by name, UUID or title): the snippet is written all the same, for a VM of that name made later" 1
contains "the snippet names it as given" "$VMD/later.xml" '<passthrough vm="later">' 1
contains "no note of libvirt's names" "$WORK/stdout" "note:" 0

# libvirt down: the VM as given, one warning line saying why. By its UUID,
# the title's snippet is not found: a second file names the same VM.
DOWN="test+unix:///default?socket=$WORK/no-such-sock"
expect_exit 0 "remove with libvirt down" sp remove later --connect "$DOWN"
contains "one warning says the VM could not be looked up, and why" "$WORK/stdout" \
    "warning: VM 'later' could not be looked up in libvirt (cannot connect to $DOWN: " 1
check "nothing on stderr (libvirt's own printer is quiet)" test ! -s "$WORK/stderr"
check "the snippet named as given is removed" test ! -e "$VMD/later.xml"
expect_exit 0 "add with libvirt down" sp add "$UUID_W" 08:00.4 --connect "$DOWN"
contains "one warning for add too" "$WORK/stdout" "warning: VM '$UUID_W' could not be looked up in libvirt (cannot connect to $DOWN: " 1
check "one warning line in all" test "$(grep -c warning "$WORK/stdout")" -eq 1
check "a new file named after the UUID, as before" test -f "$VMD/$UUID_W.xml"

# Two snippets name the VM, by its title and by its UUID: add refuses to guess.
listing > "$WORK/before"
expect_exit 1 "add by title to a VM two snippets name by different names" \
    sp add "Windows 11" 08:00.3 --connect "$DAEMON_URI"
listing > "$WORK/after"
check "vm.d is byte for byte as it was" cmp -s "$WORK/before" "$WORK/after"
contains "the refusal names both files and their vm=" "$WORK/stderr" \
    "add: VM 'Windows 11': its snippets name it by different names: $VMD/$UUID_W.xml (vm=\"$UUID_W\"), $VMD/by-title.xml (vm=\"Windows 11\")" 1
expect_exit 1 "by UUID too" sp add "$UUID_W" 08:00.3 --connect "$DAEMON_URI" --dry-run
# remove is no guess: the device is in one of them, which is how it is mended.
expect_exit 0 "remove by title takes a device from each of the two snippets" \
    sp remove "Windows 11" 06:00.0 08:00.4 --connect "$DAEMON_URI"
contains "the title's loses its own" "$VMD/by-title.xml" '06:00.0' 0
contains "and keeps the other" "$VMD/by-title.xml" '0000:05:00.0' 1
check "the UUID's held its only device, and is gone" test ! -e "$VMD/$UUID_W.xml"
expect_exit 0 "then add extends the title's snippet again" sp add "Windows 11" 08:00.4 --connect "$DAEMON_URI"
contains "there" "$VMD/by-title.xml" '0000:08:00.4' 1

# remove without ADDR: every snippet naming the VM, by any of its names.
add_snippet "$CONFIG" by-uuid.xml "<passthrough vm=\"$UUID_W\"><pci address=\"08:00.3\"/></passthrough>"
expect_exit 0 "remove a whole VM by its title" sp remove "Windows 11" --connect "$DAEMON_URI"
check "its title's and its UUID's snippets are gone, the other VM's stays" \
    test "$(ls -A "$VMD" | tr '\n' ' ')" = "by-name.xml "

expect_exit 2 "add --connect without a URI" sp add office 05:00.0 --connect
contains "says it needs one" "$WORK/stderr" "add: --connect needs a URI" 1
expect_exit 2 "remove --connect without a URI" sp remove office --connect
contains "says it needs one" "$WORK/stderr" "remove: --connect needs a URI" 1

end_session
