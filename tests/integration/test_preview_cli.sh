# The `preview` command: same path as the shim, documented exit codes, one
# clear line on stderr for bad input.
. "$(dirname "$0")/lib.sh"

CONFIG=$WORK/config SYSFS=$WORK/sysfs
make_config "$CONFIG"
make_sysfs "$SYSFS"
add_snippet "$CONFIG" a.xml '<passthrough vm="win11"><pci address="08:00.0"/></passthrough>'
export SYNOPASSTHRU_SYSFS_ROOT=$SYSFS SYNOPASSTHRU_TRUSTED_UID=$(id -u)

preview() { "$CLI" preview --config "$CONFIG" "$@"; }

printf "<domain type='kvm'>\n  <name>win11</name>\n  <devices/>\n</domain>\n" > "$WORK/win11.xml"
printf "<domain type='kvm'><name>other</name></domain>" > "$WORK/other.xml"

expect_exit 0 "matched VM is printed patched" preview "$WORK/win11.xml"
contains "with its hostdev" "$WORK/stdout" 'bus="0x08" slot="0x00" function="0x0"' 1
expect_exit 0 "stdin with '-'" preview - < "$WORK/win11.xml"
expect_exit 0 "stdin with no FILE" preview < "$WORK/win11.xml"
cp "$WORK/stdout" "$WORK/patched.xml"
expect_exit 0 "unmatched VM" preview "$WORK/other.xml"
check "unmatched VM: the very same bytes" cmp -s "$WORK/stdout" "$WORK/other.xml"
expect_exit 0 "preview of its own output" preview "$WORK/patched.xml"
check "second pass: the very same bytes" cmp -s "$WORK/stdout" "$WORK/patched.xml"
expect_exit 0 "--config=DIR before the command" "$CLI" --config="$CONFIG" preview "$WORK/other.xml"

expect_exit 3 "unreadable file" preview "$WORK/does-not-exist.xml"
contains "names the file and the cause" "$WORK/stderr" "synopassthru: $WORK/does-not-exist.xml: No such file or directory"
printf '<domain><name>x</name>' > "$WORK/broken.xml"
expect_exit 3 "unparsable XML" preview "$WORK/broken.xml"
contains "names the line" "$WORK/stderr" "synopassthru: domain XML:1:"
printf '<domain><uuid>591328d9-88d5-42aa-9551-bb793c3330cf</uuid></domain>' > "$WORK/noname.xml"
expect_exit 3 "no <name>" preview "$WORK/noname.xml"
contains "says so" "$WORK/stderr" "synopassthru: domain XML has no <name>"
: > "$WORK/empty.xml"
expect_exit 3 "empty input" preview "$WORK/empty.xml"

add_snippet "$CONFIG" b.xml '<passthrough vm="gone"><pci address="0a:00.0"/></passthrough>'
printf "<domain><name>gone</name></domain>" > "$WORK/gone.xml"
expect_exit 1 "a start that would be refused" preview "$WORK/gone.xml"
contains "names VM, device and cause" "$WORK/stderr" "synopassthru: VM 'gone': device 0000:0a:00.0 not found under $SYSFS/bus/pci/devices"

expect_exit 2 "unknown option" "$CLI" --frobnicate
expect_exit 2 "unknown command" "$CLI" frobnicate
expect_exit 2 "two files" preview a b
expect_exit 2 "no command" "$CLI"
"$CLI" --version > "$WORK/version"
contains "--version" "$WORK/version" "synopassthru 0."
"$CLI" --help > "$WORK/help"
contains "--help lists preview" "$WORK/help" "preview [FILE|-]"
contains "--help documents exit codes" "$WORK/help" "Exit status:"

chmod 777 "$CONFIG"
expect_exit 1 "an unsafe config dir refuses a matched VM" preview "$WORK/win11.xml"
contains "naming the dir and why" "$WORK/stderr" "config dir $CONFIG is world-writable (mode 0777)"
expect_exit 0 "and leaves an unmatched one alone, with a warning" preview "$WORK/other.xml"
chmod 755 "$CONFIG"
