# What every subcommand does with its command line: -h/--help prints its
# usage and exits 0 (and runs nothing), an option it does not take is an
# error naming the command (exit 2, one line), --config is taken before or
# after the command, and --opt=VALUE is the same as --opt VALUE.
. "$(dirname "$0")/lib.sh"

CONFIG=$WORK/config
make_config "$CONFIG"
make_sysfs "$WORK/sysfs" amd-apu "$WORK/proc"
add_snippet "$CONFIG" win.xml '<passthrough vm="win11"><pci address="08:00.3" vendor="1022" product="1639"/></passthrough>'
export SYNOPASSTHRU_PROC_ROOT=$WORK/proc

for cmd in preview rom groups check bind release holds status inject setup import add remove log vms doctor; do
    "$CLI" "$cmd" --help > "$WORK/help" 2> "$WORK/help.err"
    rc=$?
    check "$cmd --help exits 0 (exit $rc)" test "$rc" -eq 0
    contains "$cmd --help prints its usage" "$WORK/help" "Usage: synopassthru"
    check "$cmd --help prints nothing on stderr" test ! -s "$WORK/help.err"
    "$CLI" "$cmd" -h > "$WORK/h" 2>&1
    check "$cmd -h is --help" cmp -s "$WORK/help" "$WORK/h"
    expect_exit 2 "$cmd --no-such-option is refused" "$CLI" "$cmd" --no-such-option
    contains "naming the command and the option" "$WORK/stderr" "$cmd: unknown option '--no-such-option'"
done
# bind --help must not read "--help" as a PCI address and bind something.
"$CLI" --config "$CONFIG" bind --help 08:00.3 > /dev/null 2>&1
check "bind --help binds nothing" test "$(driver_of "$WORK/sysfs" 0000:08:00.3)" = xhci_hcd

# The issue's misreadings: a misspelt flag, --config after the command.
expect_exit 2 "check win11 --jsn is refused" "$CLI" --config "$CONFIG" check win11 --jsn
"$CLI" --config "$CONFIG" check win11 --json > "$WORK/before" 2>&1
"$CLI" check win11 --json --config "$CONFIG" > "$WORK/after" 2>&1
check "check VM --config DIR reads DIR, as --config DIR check VM does" cmp -s "$WORK/before" "$WORK/after"
contains "(and it is the VM's report)" "$WORK/after" '"vm"'
"$CLI" check win11 --json --config="$CONFIG" > "$WORK/eq" 2>&1
check "--config=DIR is --config DIR" cmp -s "$WORK/before" "$WORK/eq"
"$CLI" rom extract --pci=08:00.3 -o="$WORK/x.bin" > "$WORK/o1" 2>&1
"$CLI" rom extract --pci 08:00.3 -o "$WORK/x.bin" > "$WORK/o2" 2>&1
check "--opt=VALUE is --opt VALUE" cmp -s "$WORK/o1" "$WORK/o2"
