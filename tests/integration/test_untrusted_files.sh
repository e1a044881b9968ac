# What a user can leave in the config dir must never stall or fool a start:
# through a real libvirtd with the shim preloaded, a FIFO in vm.d/, as the
# conf or as a ROM (also with rom_check = off, also on a defined start, which
# holds a domain lock), and a ROM outside rom_dir. Every virsh call runs
# under `timeout`, so a hang fails the test; the daemon answers throughout.
. "$(dirname "$0")/lib.sh"

CONFIG=$WORK/config SYSFS=$WORK/sysfs
make_config "$CONFIG"
make_sysfs "$SYSFS"
add_rom "$CONFIG" vbios_1002_1638.bin
add_snippet "$CONFIG" igpu.xml '<passthrough vm="win11">
  <pci address="08:00.0" vendor="1002" product="1638" rom="vbios_1002_1638.bin"/>
</passthrough>'
add_snippet "$CONFIG" fiforom.xml '<passthrough vm="fiforom"><pci address="08:00.0" rom="fifo.bin"/></passthrough>'
add_snippet "$CONFIG" turned.xml '<passthrough vm="turned"><pci address="06:00.0"/></passthrough>'
add_snippet "$CONFIG" shadow.xml '<passthrough vm="shadow"><pci address="08:00.0" rom="/etc/passwd"/></passthrough>'
mkfifo "$CONFIG/vm.d/zz.xml" "$CONFIG/rom/fifo.bin" # no writer, ever

start_daemon "$CONFIG" "$SYSFS" || exit 1
LOG=$DAEMON_DIR/libvirtd.log
for name in win11 plain fiforom turned shadow other; do
    test_domain "$name" > "$WORK/$name.xml"
done

# remote OUT COMMANDS: one virsh session, cut off after 10 s.
remote() { session 10 "$@"; }
# answers "what": the daemon is alive and answers a client within 5 s.
answers() {
    check "$1: libvirtd answers" timeout 5 virsh -q -c "$DAEMON_URI" version
}
# not_hung "what" RC: the command ended on its own.
not_hung() { check "$1 (did not hang)" test "$2" -ne 124; }
# refused "what" NAME MESSAGE: creating the domain NAME ends on its own,
# fails, and the client is told MESSAGE.
refused() {
    remote "$WORK/$2.out" "create $WORK/$2.xml"
    local rc=$?
    not_hung "$1" $rc
    check "$1: refused" test $rc -ne 0
    contains "$1: the client is told why" "$WORK/$2.out" "$3"
}

# 1. A FIFO in vm.d names no VM that can be known: it is skipped, said in
# the log, and every VM starts.
remote "$WORK/s1" "create $WORK/plain.xml; create $WORK/win11.xml; dumpxml win11"
rc=$?
not_hung "starts with a FIFO in vm.d" $rc
check "an unmatched and a matched VM start" test $rc -eq 0
contains "the matched VM has its ROM" "$WORK/s1" "<rom file='$CONFIG/rom/vbios_1002_1638.bin'/>" 1
contains "the log names the skipped file and why" "$LOG" \
    "synopassthru: skipped a snippet, the VM it names is unknown: $CONFIG/vm.d/zz.xml: is a FIFO, not a regular file"
answers "after the FIFO in vm.d"

# 2. A FIFO as the ROM refuses that VM, with the reason; others start.
refused "a VM whose ROM is a FIFO" fiforom \
    "synopassthru: VM 'fiforom': ROM $CONFIG/rom/fifo.bin for 0000:08:00.0: is a FIFO, not a regular file"
remote "$WORK/s2b" "create $WORK/plain.xml"
check "another VM starts after it" test $? -eq 0
answers "after the FIFO ROM"

# 3. The same on a defined start, which holds the domain's lock: refused,
# and the next defined start is not stuck behind it.
remote "$WORK/s3" "define $WORK/fiforom.xml; start fiforom; define $WORK/other.xml; start other; list --name"
rc=$?
not_hung "a defined start with a FIFO ROM" $rc
contains "is refused with the reason" "$WORK/s3" "ROM $CONFIG/rom/fifo.bin for 0000:08:00.0: is a FIFO"
check "and the next defined VM starts" grep -qx other "$WORK/s3"
answers "after the defined start"

# 4. rom_check = off reads no ROM, but still opens none that is a FIFO and
# takes none from outside rom_dir.
echo "rom_check = off" >> "$CONFIG/synopassthru.conf"
refused "rom_check = off and a FIFO ROM" fiforom "ROM $CONFIG/rom/fifo.bin for 0000:08:00.0: is a FIFO"
refused "rom_check = off and a ROM outside rom_dir" shadow \
    "synopassthru: VM 'shadow': ROM /etc/passwd for 0000:08:00.0: outside the ROM dir $CONFIG/rom: refusing it"
sed -i '/^rom_check = off$/d' "$CONFIG/synopassthru.conf"

# 5. A snippet that turns into a FIFO refuses the VM it named.
rm "$CONFIG/vm.d/turned.xml"
mkfifo "$CONFIG/vm.d/turned.xml"
refused "a VM whose snippet turned into a FIFO" turned \
    "synopassthru: VM 'turned': $CONFIG/vm.d/turned.xml: is a FIFO, not a regular file"

# 6. A FIFO as synopassthru.conf refuses matched VMs only.
mv "$CONFIG/synopassthru.conf" "$WORK/conf.saved"
mkfifo "$CONFIG/synopassthru.conf"
refused "a matched VM with a FIFO as the conf" win11 \
    "synopassthru: VM 'win11': $CONFIG/synopassthru.conf: is a FIFO, not a regular file"
remote "$WORK/s6b" "create $WORK/plain.xml"
check "an unmatched VM starts" test $? -eq 0
rm "$CONFIG/synopassthru.conf"
mv "$WORK/conf.saved" "$CONFIG/synopassthru.conf"
answers "at the end"
check "libvirtd is alive at the end" daemon_alive
