# The `rom` command: `rom info` against the golden outputs in tests/data/rom
# for every ROM that tests/tools/mkrom makes, --for verdicts on a fake sysfs,
# and `rom extract` from an ACPI VFCT table and from a device's ROM; then
# what `check` and `preview` say of a VM's ROMs: the note on a GOP driver
# taken for a function it does not name, and the warnings when the VM's
# firmware cannot run its GPU's ROM.
# SYNOPASSTHRU_REGENERATE=1 rewrites the golden files instead (review the diff).
. "$(dirname "$0")/lib.sh"

ROMS=$WORK/roms GOLDEN=$SP_SRC/tests/data/rom SYSFS=$WORK/sysfs CONFIG=$WORK/config
mkdir -p "$ROMS"
"$SP_BUILD/tests/mkrom" all "$ROMS" || fail "mkrom all"
make_sysfs "$SYSFS"
make_config "$CONFIG"
VFCT=$SYSFS/firmware/acpi/tables/VFCT
mkdir -p "$(dirname "$VFCT")"
export SYNOPASSTHRU_SYSFS_ROOT=$SYSFS


# expect_verdict CODE "what" command...: exit code, nothing on stderr (a
# verdict, fitting or not, is output, not an error).
expect_verdict() {
    local want=$1 what=$2
    shift 2
    "$@" > "$WORK/stdout" 2> "$WORK/stderr"
    local rc=$?
    if [ "$rc" -ne "$want" ] || [ -s "$WORK/stderr" ]; then
        fail "$what: exit $rc (want $want), stderr:"; sed 's/^/    | /' "$WORK/stderr"; return
    fi
    pass "$what (exit $rc)"
}

# ids_of ADDR: "vvvv:dddd" of a device of the fake host.
ids_of() {
    local dev=$SYSFS/bus/pci/devices/$1 v d
    v=$(< "$dev/vendor") && d=$(< "$dev/device") && echo "${v#0x}:${d#0x}"
}

# same_as_golden FILE NAME: FILE, with $WORK written as @WORK@, equals
# tests/data/rom/NAME.
same_as_golden() {
    local text
    text=$(< "$1")
    printf '%s\n' "${text//"$WORK"/@WORK@}" > "$WORK/normalized"
    if [ -n "${SYNOPASSTHRU_REGENERATE:-}" ]; then
        cp "$WORK/normalized" "$GOLDEN/$2" && pass "regenerated $2"
    elif diff -u "$GOLDEN/$2" "$WORK/normalized"; then
        pass "output matches tests/data/rom/$2"
    else
        fail "output differs from tests/data/rom/$2"
    fi
}

check "fake host: 08:00.0 is the 1002:1638 iGPU" test "$(ids_of 0000:08:00.0)" = 1002:1638
check "fake host: 05:00.0 is the 8086:10fb NIC" test "$(ids_of 0000:05:00.0)" = 8086:10fb

# ---- rom info: golden outputs ----
for kind in legacy efi legacy-efi devlist bad-checksum wrong-ids apu-vbios-gop gop-driver; do
    expect_exit 0 "rom info $kind" "$CLI" rom info "$ROMS/$kind.bin"
    same_as_golden "$WORK/stdout" "$kind.txt"
done
for kind in legacy-efi devlist; do
    expect_exit 0 "rom info $kind --json" "$CLI" rom info "$ROMS/$kind.bin" --json
    same_as_golden "$WORK/stdout" "$kind.json"
done
for kind in truncated-header truncated-image loop; do
    expect_exit 3 "rom info $kind is refused" "$CLI" rom info "$ROMS/$kind.bin"
    same_as_golden "$WORK/stderr" "$kind.err"
    check "rom info $kind: nothing on stdout" test ! -s "$WORK/stdout"
done
expect_exit 3 "a VFCT table is not a ROM" "$CLI" rom info "$ROMS/vfct-one.bin"
contains "says why, at which offset" "$WORK/stderr" \
    "synopassthru: rom info: $ROMS/vfct-one.bin: offset 0x0: no ROM signature 0x55AA"
expect_exit 3 "missing file" "$CLI" rom info "$ROMS/nope.bin"
contains "names it" "$WORK/stderr" "synopassthru: rom info: $ROMS/nope.bin: No such file or directory"
truncate -s 17M "$ROMS/huge.bin"
expect_exit 3 "a file over 16 MiB" "$CLI" rom info "$ROMS/huge.bin"
contains "is refused unread" "$WORK/stderr" "$ROMS/huge.bin: 17825792 bytes, larger than any option ROM (limit 16 MiB): not reading it"

# ---- rom info --for: the verdict against the fake host ----
expect_verdict 0 "legacy --for 08:00.0" "$CLI" rom info "$ROMS/legacy.bin" --for 08:00.0
contains "fits" "$WORK/stdout" "verdict: fits 0000:08:00.0 (1002:1638)" 1
expect_verdict 0 "device list --for 08:00.0" "$CLI" rom info "$ROMS/devlist.bin" --for=0000:08:00.0
contains "fits through the device list" "$WORK/stdout" "verdict: fits 0000:08:00.0 (1002:1638)"
expect_verdict 1 "an x86 image of another device, an EFI image of this one --for 05:00.0" \
    "$CLI" rom info "$ROMS/legacy-efi.bin" --for 05:00.0
contains "does not fit: the x86 image decides" "$WORK/stdout" \
    "verdict: does NOT fit 0000:05:00.0 (8086:10fb): its x86 image names 1002:1638"
expect_verdict 0 "a vBIOS with its GOP driver --for 08:00.0" "$CLI" rom info "$ROMS/apu-vbios-gop.bin" --for 08:00.0
contains "fits" "$WORK/stdout" "verdict: fits 0000:08:00.0 (1002:1638)" 1
expect_verdict 1 "the same vBIOS --for the audio function 08:00.1" "$CLI" rom info "$ROMS/apu-vbios-gop.bin" --for 08:00.1
contains "names the iGPU" "$WORK/stdout" "verdict: does NOT fit 0000:08:00.1 (1002:1637): images name 1002:1638"
GOP_NOTE="EFI driver image (x64, boot service driver), names 03ea:0665; UEFI firmware loads it from this function"
expect_verdict 0 "a GOP driver --for the audio function 08:00.1" "$CLI" rom info "$ROMS/gop-driver.bin" --for 08:00.1
contains "fits, and says what it is" "$WORK/stdout" "verdict: fits 0000:08:00.1 (1002:1637): $GOP_NOTE" 1
expect_verdict 0 "--json --for, an EFI driver" "$CLI" rom info "$ROMS/gop-driver.bin" --json --for 08:00.1
check "JSON verdict: rule and note" python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))["verdict"]
assert v["fits"] and v["rule"] == "EFI drivers only" and v["note"] == sys.argv[2], v
assert v["reason"] is None and v["images_name"] == ["03ea:0665"], v
' "$WORK/stdout" "$GOP_NOTE"
expect_verdict 1 "wrong IDs --for 08:00.0" "$CLI" rom info "$ROMS/wrong-ids.bin" --for 08:00.0
contains "does not fit, and says what the images name" "$WORK/stdout" \
    "verdict: does NOT fit 0000:08:00.0 (1002:1638): images name 10de:1b80"
expect_verdict 1 "device list --for 03:00.0" "$CLI" rom info "$ROMS/devlist.bin" --for 03:00.0
contains "lists every name" "$WORK/stdout" \
    "verdict: does NOT fit 0000:03:00.0 ($(ids_of 0000:03:00.0)): images name 1002:1636, 1002:1638, 1002:15e7"
expect_verdict 1 "--json --for, not fitting" "$CLI" rom info "$ROMS/wrong-ids.bin" --json --for 08:00.0
contains "JSON verdict" "$WORK/stdout" '"fits": false'
contains "JSON names" "$WORK/stdout" '"10de:1b80"'
expect_exit 3 "--for a device that is not there" "$CLI" rom info "$ROMS/legacy.bin" --for 42:00.0
contains "names it" "$WORK/stderr" "synopassthru: rom info: device 0000:42:00.0 not found under $SYSFS/bus/pci/devices"
expect_exit 2 "--for a malformed address" "$CLI" rom info "$ROMS/legacy.bin" --for 42:00
expect_exit 2 "--for without a value" "$CLI" rom info "$ROMS/legacy.bin" --for

# ---- command line ----
expect_exit 2 "rom alone" "$CLI" rom
expect_exit 2 "unknown subcommand" "$CLI" rom frobnicate
contains "names it" "$WORK/stderr" "unknown subcommand 'frobnicate'"
expect_exit 2 "rom info without FILE" "$CLI" rom info
expect_exit 2 "rom info with two files" "$CLI" rom info a b
expect_exit 2 "unknown option" "$CLI" rom info "$ROMS/legacy.bin" --frob
expect_exit 2 "extract without a source" "$CLI" rom extract
expect_exit 2 "extract with two sources" "$CLI" rom extract --vfct --pci 08:00.0
expect_exit 2 "--for with --pci" "$CLI" rom extract --pci 08:00.0 --for 08:00.0
expect_exit 0 "rom --help" "$CLI" rom --help
contains "documents extract" "$WORK/stdout" "rom extract --vfct [--for ADDR] [-o FILE]"
"$CLI" --help > "$WORK/help"
contains "--help lists rom info" "$WORK/help" "rom info FILE [--json] [--for ADDR]"

# ---- rom extract --vfct ----
extract() { timeout 20 "$CLI" --config "$CONFIG" rom extract "$@"; }
with_umask_077() { (umask 077 && "$@"); }
DEFAULT_OUT=$CONFIG/rom/vbios_1002_1638.bin

expect_exit 3 "no VFCT table" extract --vfct
contains "says so" "$WORK/stderr" "synopassthru: rom extract: no VFCT table at $VFCT"

cp "$ROMS/vfct-one.bin" "$VFCT"
printf 'old' > "$DEFAULT_OUT"
chmod 600 "$DEFAULT_OUT"
expect_exit 1 "a file there with other bytes is kept" with_umask_077 extract --vfct
contains "saying so" "$WORK/stderr" "synopassthru: rom extract: $DEFAULT_OUT is there with other bytes; it is kept (--force replaces it)"
check "byte for byte" test "$(cat "$DEFAULT_OUT")" = old
expect_exit 0 "the only entry, --force" with_umask_077 extract --vfct --force
contains "prints the path" "$WORK/stdout" "$DEFAULT_OUT" 1
check "replaces the old file with the very image" cmp -s "$DEFAULT_OUT" "$ROMS/legacy.bin"
expect_exit 0 "the same image again needs no --force" extract --vfct
# rom info takes the name extract printed, as a snippet's rom= would.
(cd "$WORK" && "$CLI" --config "$CONFIG" rom info vbios_1002_1638.bin > "$WORK/byname" 2>&1)
check "rom info NAME finds it in rom/" test $? -eq 0
contains "(the image extract wrote)" "$WORK/byname" "1002:1638"
check "mode 0644 whatever the umask" test "$(stat -c %a "$DEFAULT_OUT")" = 644
check "no temporary file is left" test "$(ls -A "$CONFIG/rom")" = vbios_1002_1638.bin
expect_exit 0 "--for 08:00.0 -o FILE" extract --vfct --for 08:00.0 -o "$WORK/igpu.rom"
check "-o: the very image" cmp -s "$WORK/igpu.rom" "$ROMS/legacy.bin"
check "-o: mode 0644" test "$(stat -c %a "$WORK/igpu.rom")" = 644
expect_exit 4 "-o into a missing directory" extract --vfct -o "$WORK/missing/x.rom"
contains "names the file" "$WORK/stderr" "$WORK/missing/x.rom"
expect_exit 4 "config dir without rom/" "$CLI" --config "$WORK" rom extract --vfct
contains "names the dir" "$WORK/stderr" "ROM dir $WORK/rom: No such file or directory"

cp "$ROMS/vfct-two.bin" "$VFCT"
expect_exit 2 "two entries and no --for" extract --vfct
contains "lists them" "$WORK/stderr" "has 2 entries: 08:00.0 (1002:1638), 03:00.0 (1002:73bf); choose one with --for ADDR"
rm -f "$DEFAULT_OUT"
expect_exit 0 "two entries, --for 08:00.0" extract --vfct --for 08:00.0
check "picks the iGPU's image" cmp -s "$DEFAULT_OUT" "$ROMS/legacy.bin"
expect_exit 1 "--for a device whose IDs differ from the entry's" extract --vfct --for 03:00.0
contains "says both" "$WORK/stderr" "the VFCT entry for 0000:03:00.0 names 1002:73bf, but that device is $(ids_of 0000:03:00.0)"
expect_exit 3 "--for a device without an entry" extract --vfct --for 05:00.0
contains "lists the entries" "$WORK/stderr" "has no entry for 0000:05:00.0 (entries: 08:00.0 (1002:1638), 03:00.0 (1002:73bf))"

cp "$ROMS/vfct-truncated.bin" "$VFCT"
expect_exit 3 "an entry running past the table" extract --vfct --for 08:00.0
contains "names the offset" "$WORK/stderr" "$VFCT: offset 0x468: entry image of 0x400 bytes runs past the end of the table at 0x584"

# The image of vfct-one starts at 76 + 28 = 0x68; its ATOM marker at 0x68 + 0x104.
cp "$ROMS/vfct-one.bin" "$VFCT"
printf 'XXXX' | dd of="$VFCT" bs=1 seek=$((0x68 + 0x104)) conv=notrunc status=none
expect_exit 3 "an image without the ATOM marker" extract --vfct
contains "says so" "$WORK/stderr" "no ATOM BIOS marker, not an AMD vBIOS"
printf '\x00' | dd of="$VFCT" bs=1 seek=$((0x68)) conv=notrunc status=none
expect_exit 3 "an image without 0x55AA" extract --vfct
contains "says so" "$WORK/stderr" "entry 08:00.0 (1002:1638) at 0x4c: the image does not begin with 0x55AA"

# ---- rom extract --pci ----
# The kernel's ROM attribute: writing "1\n" enables reads, "0\n" disables
# them, and neither changes the ROM. A plain file cannot stand in (the
# writes would overwrite the ROM), so a FIFO does, with this model on the
# other end: it takes the three opens of `echo 1 > rom; cat rom;
# echo 0 > rom` in that order, logs both writes and serves IMAGE between.
SWITCH_LOG=$WORK/rom-switch.log
serve_rom() { # ADDR IMAGE
    local attr=$SYSFS/bus/pci/devices/$1/rom
    rm -f "$attr" && mkfifo -m 600 "$attr"
    : > "$SWITCH_LOG"
    timeout 30 bash -c 'cat "$1" >> "$3"; cat "$2" > "$1"; cat "$1" >> "$3"' \
        kernel-model "$attr" "$2" "$SWITCH_LOG" 2>/dev/null &
    MODEL_PID=$!
}
# model_done: the model saw all three opens; it is stopped (by pid) if not.
model_done() {
    local i
    for i in $(seq 1 50); do
        kill -0 "$MODEL_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$MODEL_PID" 2>/dev/null; then
        kill "$MODEL_PID"; wait "$MODEL_PID" 2>/dev/null
        fail "the ROM switch was not used as echo 1; cat; echo 0"
        return 1
    fi
    wait "$MODEL_PID" 2>/dev/null
}
switched_on_then_off() {
    printf '1\n0\n' | cmp -s - "$SWITCH_LOG"
}

expect_exit 3 "a device without a ROM" extract --pci 08:00.0
contains "says so" "$WORK/stderr" "$SYSFS/bus/pci/devices/0000:08:00.0/rom: No such file or directory (the device has no ROM BAR)"
expect_exit 3 "a device that is not there" extract --pci 42:00.0
contains "names it" "$WORK/stderr" "device 0000:42:00.0 not found under"

rm -f "$DEFAULT_OUT"
serve_rom 0000:08:00.0 "$ROMS/legacy.bin"
expect_exit 0 "the iGPU's ROM" extract --pci 08:00.0
model_done && check "wrote 1, read, wrote 0" switched_on_then_off
check "saved under its IDs, byte for byte" cmp -s "$DEFAULT_OUT" "$ROMS/legacy.bin"
check "mode 0644" test "$(stat -c %a "$DEFAULT_OUT")" = 644

serve_rom 0000:05:00.0 "$ROMS/efi.bin"
expect_exit 0 "a NIC's EFI ROM with -o" extract --pci 0000:05:00.0 -o "$WORK/nic.rom"
model_done && check "wrote 1, read, wrote 0" switched_on_then_off
check "-o: byte for byte" cmp -s "$WORK/nic.rom" "$ROMS/efi.bin"

serve_rom 0000:08:00.0 "$ROMS/wrong-ids.bin"
expect_exit 1 "a ROM naming other IDs" extract --pci 08:00.0 -o "$WORK/wrong.rom"
model_done && check "still switched off" switched_on_then_off
contains "says whose it is" "$WORK/stderr" "the ROM names 10de:1b80, not the device's 1002:1638"
check "nothing written" test ! -e "$WORK/wrong.rom"

serve_rom 0000:08:00.0 "$ROMS/truncated-image.bin"
expect_exit 3 "a truncated ROM" extract --pci 08:00.0 -o "$WORK/cut.rom"
model_done && check "still switched off" switched_on_then_off
contains "names the offset" "$WORK/stderr" "rom: offset 0x0: image length 0x400 runs past the end of the file at 0x300"

# A read error: more than 16 MiB. The model's writer may leave unread bytes
# in the FIFO, which its last read then logs before "0\n".
serve_rom 0000:08:00.0 "$ROMS/huge.bin"
expect_exit 3 "a ROM read that fails" extract --pci 08:00.0 -o "$WORK/huge.rom"
model_done && check "switched on first" test "$(head -c 2 "$SWITCH_LOG")" = "1"
check "and off again after the failed read" test "$(tail -c 2 "$SWITCH_LOG" | od -An -c | tr -d ' ')" = '0\n'
contains "says why" "$WORK/stderr" "more than 16 MiB, larger than any option ROM"
check "nothing written" test ! -e "$WORK/huge.rom"

# ---- check and preview: the start's ROM rule and the VM's firmware ----
# The APU box with its /proc, a config whose snippets give the iGPU its
# vBIOS: with AMD's GOP driver on the HDMI audio function (the issue's
# snippet), without it, and with the GOP driver alone on the iGPU.
export SYNOPASSTHRU_TRUSTED_UID=$(id -u)
VSYS=$WORK/vm-sysfs VCONF=$WORK/vm-config
make_sysfs "$VSYS" amd-apu "$WORK/proc"
make_config "$VCONF" "$VSYS" "$WORK/proc"
export SYNOPASSTHRU_SYSFS_ROOT=$VSYS
add_rom "$VCONF" vbios_1002_1638.bin legacy
add_rom "$VCONF" AMDGopDriver_5600G.rom gop-driver
add_rom "$VCONF" mixed.bin legacy-efi
add_snippet "$VCONF" living.xml '<passthrough vm="living-room">
  <pci address="08:00.0" vendor="1002" product="1638" rom="vbios_1002_1638.bin"/>
  <pci address="08:00.1" vendor="1002" product="1637" rom="AMDGopDriver_5600G.rom"/>
</passthrough>'
add_snippet "$VCONF" vbios.xml '<passthrough vm="vbios-only"><pci address="08:00.0" rom="vbios_1002_1638.bin"/></passthrough>'
add_snippet "$VCONF" gop.xml '<passthrough vm="gop-only"><pci address="08:00.0" rom="AMDGopDriver_5600G.rom"/></passthrough>'
add_snippet "$VCONF" nic.xml '<passthrough vm="nic"><pci address="05:00.0" rom="mixed.bin"/></passthrough>'
vcli() { "$CLI" --config "$VCONF" "$@"; }
uefi_domain() { test_domain "$1" | sed "s|<os>|<os firmware='efi'>|"; }
uefi_domain living-room > "$WORK/living-uefi.xml"
uefi_domain vbios-only > "$WORK/vbios-uefi.xml"
test_domain vbios-only > "$WORK/vbios-bios.xml"
test_domain gop-only > "$WORK/gop-bios.xml"
uefi_domain gop-only > "$WORK/gop-uefi.xml"
test_domain nic > "$WORK/nic.xml"
UEFI_WARNING="VM 'vbios-only' boots UEFI (OVMF), but the ROM $VCONF/rom/vbios_1002_1638.bin for 0000:08:00.0 has no x64 EFI image, and no other function of the GPU has one: the firmware cannot show anything on this GPU before the guest's driver loads. Give a GOP driver (an x64 EFI image) in the ROM of the GPU's audio function or appended to this ROM, or boot the VM with SeaBIOS"
BIOS_WARNING="VM 'gop-only' boots SeaBIOS, but the ROM $VCONF/rom/AMDGopDriver_5600G.rom for 0000:08:00.0 has no x86 image for 1002:1638: SeaBIOS runs none of it"

vcli check living-room > "$WORK/stdout" 2> "$WORK/stderr"
check "check takes the GOP driver on the audio function (exit $?)" grep -q "every device passes every check" "$WORK/stdout"
contains "and says what it is" "$WORK/stdout" "    ROM $VCONF/rom/AMDGopDriver_5600G.rom: fits: $GOP_NOTE" 1
contains "the vBIOS needs no note" "$WORK/stdout" "    ROM $VCONF/rom/vbios_1002_1638.bin: fits" 1
vcli check living-room --json > "$WORK/check.json" 2> "$WORK/stderr"
check "check --json: the note, and no firmware warning" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
d = {x["address"]: x for x in r["devices"]}
assert r["ok"], r
assert d["0000:08:00.1"]["rom_verdict"] == "fits" and d["0000:08:00.1"]["rom_note"] == sys.argv[2], d
assert d["0000:08:00.0"]["rom_note"] is None, d
assert not [w for w in r["warnings"] if " boots " in w], r["warnings"]
' "$WORK/check.json" "$GOP_NOTE"
vcli check living-room --domain "$WORK/living-uefi.xml" > "$WORK/stdout" 2>&1
check "check --domain: a UEFI VM with the GOP driver on the audio function passes (exit $?)" \
    grep -q "every device passes every check" "$WORK/stdout"
contains "with no firmware warning" "$WORK/stdout" "boots UEFI" 0
vcli check vbios-only > "$WORK/stdout" 2>&1
contains "check without --domain: the firmware is not known, so no warning" "$WORK/stdout" " boots " 0
vcli check vbios-only --domain "$WORK/vbios-uefi.xml" > "$WORK/stdout" 2>&1
check "check --domain: a UEFI VM with a legacy-only vBIOS is not refused (exit $?)" \
    grep -q "every device passes every check" "$WORK/stdout"
contains "but warned, with what to do" "$WORK/stdout" "warning: $UEFI_WARNING" 1
expect_exit 2 "check --domain of another VM" vcli check vbios-only --domain "$WORK/living-uefi.xml"
contains "says whose it is" "$WORK/stderr" "check: $WORK/living-uefi.xml is the domain of 'living-room', not of VM 'vbios-only'"
expect_exit 3 "check --domain of a missing file" vcli check vbios-only --domain "$WORK/nope.xml"
expect_exit 2 "check --domain without a FILE" vcli check vbios-only --domain
contains "says so" "$WORK/stderr" "check: --domain needs a FILE"

vcli preview "$WORK/vbios-uefi.xml" > "$WORK/stdout" 2> "$WORK/stderr"
check "preview of a UEFI VM with a legacy-only vBIOS prints the XML (exit $?)" \
    grep -q "vbios_1002_1638.bin" "$WORK/stdout"
contains "and the warning on stderr" "$WORK/stderr" "synopassthru: warning: $UEFI_WARNING" 1
vcli preview "$WORK/vbios-bios.xml" > "$WORK/stdout" 2> "$WORK/stderr"
contains "the same VM on SeaBIOS: no firmware warning" "$WORK/stderr" " boots " 0
vcli preview "$WORK/gop-bios.xml" > "$WORK/stdout" 2> "$WORK/stderr"
check "preview of a SeaBIOS VM whose GPU has only a GOP driver prints the XML (exit $?)" \
    grep -q "AMDGopDriver_5600G.rom" "$WORK/stdout"
contains "and the warning on stderr" "$WORK/stderr" "synopassthru: warning: $BIOS_WARNING" 1
vcli preview "$WORK/gop-uefi.xml" > "$WORK/stdout" 2> "$WORK/stderr"
contains "the same VM on UEFI: no firmware warning" "$WORK/stderr" " boots " 0
expect_exit 1 "preview refuses another device's x86 image beside an EFI image of this one" \
    vcli preview "$WORK/nic.xml"
contains "and says which" "$WORK/stderr" "ROM $VCONF/rom/mixed.bin for 0000:05:00.0 (8086:10fb) belongs to another device: its x86 image names 1002:1638"

# check lists what video="none" and hypervisor="hidden" change in the VM's
# own elements: in its XML with --domain (the VM manager's vmvga), and in a
# bare stand-in without.
add_snippet "$VCONF" display.xml '<passthrough vm="display" video="none" hypervisor="hidden"><pci address="08:00.0" rom="vbios_1002_1638.bin"/></passthrough>'
test_domain display | sed "s|<devices>|<devices><video><model type='vmvga'/></video>|" > "$WORK/display.xml"
vcli check display --domain "$WORK/display.xml" > "$WORK/stdout" 2>&1
contains "check names the vmvga it removes" "$WORK/stdout" '  video: removed <video><model type="vmvga"/></video>' 1
contains "the none video it puts in" "$WORK/stdout" '  video: added <video><model type="none"/>' 1
contains "KVM hidden" "$WORK/stdout" '  features: added <features><kvm><hidden state="on"/></kvm></features>' 1
contains "and the hypervisor feature" "$WORK/stdout" 'policy="disable" name="hypervisor"' 1
vcli check living-room > "$WORK/stdout" 2>&1
contains "a VM without those settings lists no edits" "$WORK/stdout" "  video: " 0
vcli check display --json > "$WORK/display.json" 2>&1
check "check --json has the edits" python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["edits"]
assert [t for t in e["video"] if t.startswith("added <video><model type=\"none\"/>")], e
assert e["features"] and e["cpu"], e
' "$WORK/display.json"
