# `synopassthru import` on fake roots (tests/data/import/CASE/root, ROMs
# made by mkrom): dry run, the snippets and ROMs written, check and preview
# accepting them, a second run, refusals, --remove-old and its backups.
. "$(dirname "$0")/lib.sh"

DATA=$SP_SRC/tests/data/import
SYSFS=$WORK/sysfs
make_sysfs "$SYSFS" amd-apu
export SYNOPASSTHRU_SYSFS_ROOT=$SYSFS SYNOPASSTHRU_TRUSTED_UID=$(id -u)
UUID=591328d9-88d5-42aa-9551-bb793c3330cf
DSM_HOOK=var/packages/Virtualization/conf/systemd/insert_libvirtd_ko.sh

# fake_root CASE DIR: the case's tree, with the ROMs its roms.txt lists.
fake_root() {
    cp -a "$DATA/$1/root" "$2"
    local path vendor device shape
    while read -r path vendor device shape; do
        case $path in '' | '#'*) continue ;; esac
        if [ -n "$shape" ]; then
            "$SP_BUILD/tests/mkrom" "$shape" "$2/$path"
        else
            "$SP_BUILD/tests/mkrom" for "$vendor" "$device" "$2/$path"
        fi
    done < "$DATA/$1/roms.txt"
}

# tree_sum DIR...: one checksum of every name, mode and byte below DIRs.
tree_sum() {
    local d
    for d in "$@"; do
        (cd "$d" && find . -printf '%p %m %s %l\n' | LC_ALL=C sort &&
            find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
    done | sha256sum
}

# same_snippets "what" CASE CONFIG: vm.d/imported-* are the case's expected files.
same_snippets() {
    local what=$1 want=$DATA/$2/expected/vm.d got=$3/vm.d
    if ! diff <(cd "$want" && ls) <(cd "$got" && ls imported-* 2>/dev/null) > "$WORK/diff"; then
        fail "$what: other snippet files"; sed 's/^/    | /' "$WORK/diff"; return
    fi
    local f
    for f in "$want"/*; do
        if ! cmp -s "$f" "$got/$(basename "$f")"; then
            fail "$what: $(basename "$f") differs"
            diff "$f" "$got/$(basename "$f")" | sed 's/^/    | /'
            return
        fi
    done
    pass "$what"
}

# not_imported "what" CASE ROOT: the report's "Not imported" lines are the expected ones.
not_imported() {
    sed -n '/^Not imported:/,/^$/p' "$WORK/stdout" | sed '1d;/^$/d;s/^  //' |
        sed "s|$3|ROOT|g" > "$WORK/not-imported"
    if diff "$DATA/$2/expected/not-imported.txt" "$WORK/not-imported" > "$WORK/diff"; then
        pass "$1"
    else
        fail "$1"; sed 's/^/    | /' "$WORK/diff"
    fi
}

mode_of() { stat -c %a "$1"; }

# ---- the SynoPassthru scripts, everything importable ----
S=$WORK/s ROOT=$WORK/s/root CONFIG=$WORK/s/config
mkdir -p "$S"
fake_root synopassthru "$ROOT"
make_config "$CONFIG"
imp() { "$CLI" --config "$CONFIG" import --root "$ROOT" "$@"; }
check "the fixture's audio script has CRLF line ends" \
    grep -q $'\r$' "$ROOT/usr/local/libvirt/user/attach_ryzen_apu_audio.sh"

before=$(tree_sum "$S")
expect_exit 0 "a dry run succeeds" imp --dry-run
contains "it shows the snippet's text" "$WORK/stdout" "    | <passthrough vm=\"$UUID\">"
contains "and the ROMs it would copy" "$WORK/stdout" "AMDGopDriver.rom: would be copied" 1
contains "and says nothing changes" "$WORK/stdout" "nothing was changed"
check "a dry run changes nothing" test "$(tree_sum "$S")" = "$before"

root_before=$(tree_sum "$ROOT")
expect_exit 0 "import succeeds" imp
same_snippets "it writes the expected snippet" synopassthru "$CONFIG"
check "it copies the vBIOS beside the scripts" \
    cmp "$ROOT/usr/local/libvirt/user/vbios_1002_1638.bin" "$CONFIG/rom/vbios_1002_1638.bin"
check "and the GOP ROM from its absolute path" \
    cmp "$ROOT/usr/local/libvirt/user/AMDGopDriver.rom" "$CONFIG/rom/AMDGopDriver.rom"
check "snippet and ROMs are mode 0644" test "$(mode_of "$CONFIG/vm.d/imported-$UUID.xml")$(mode_of "$CONFIG/rom/AMDGopDriver.rom")" = 644644
contains "each device names its source line" "$WORK/stdout" "device 0000:08:00.1 1002:1637 from user/attach_ryzen_apu_audio.sh:12"
contains "an empty ADDRESS says which devices that is here" "$WORK/stdout" "on this host now: 0000:08:00.3, 0000:08:00.4"
contains "each ROM has its verdict" "$WORK/stdout" "ROM check: fits 1002:1638"
not_imported "nothing is listed as not imported" synopassthru "$ROOT"
contains "the commented-out script is not imported" "$WORK/stdout" "user/detach_vmvga.sh (commented out at attach_detach_all.sh:12)"
contains "nor the one the master does not run" "$WORK/stdout" "  user/attach_spare_nic.sh"
check "no snippet names the spare NIC" bash -c "! grep -rq 15f3 '$CONFIG/vm.d'"
contains "the old hook is said to still run" "$WORK/stdout" "would hot-plug these devices again after boot, beside SynoPassthru"
contains "with how to stop it" "$WORK/stdout" "--remove-old"
check "without --remove-old the old files stay as they were" test "$(tree_sum "$ROOT")" = "$root_before"

"$CLI" --config "$CONFIG" check "$UUID" > "$WORK/check" 2>&1
check "check accepts the imported snippet" test $? -eq 0
contains "and says so" "$WORK/check" "every device passes every check"
test_domain "$UUID" "Living room PC" > "$WORK/domain.xml"
"$CLI" --config "$CONFIG" preview "$WORK/domain.xml" > "$WORK/preview" 2> "$WORK/preview.err"
check "preview accepts it" test $? -eq 0
contains "with every device" "$WORK/preview" "<hostdev" 4
contains "and the vBIOS" "$WORK/preview" "$CONFIG/rom/vbios_1002_1638.bin"

before=$(tree_sum "$S")
expect_exit 0 "a second import succeeds" imp
contains "and says nothing changed" "$WORK/stdout" "nothing changed"
contains "file by file" "$WORK/stdout" "already there, identical: unchanged" 3
check "a second import changes nothing" test "$(tree_sum "$S")" = "$before"

# ---- refusals: a different file is never overwritten ----
R=$WORK/r
mkdir -p "$R"
fake_root synopassthru "$R/root"
make_config "$R/config"
add_snippet "$R/config" "imported-$UUID.xml" '<passthrough vm="someone else"/>'
before=$(tree_sum "$R/config")
expect_exit 1 "a different snippet of that name is refused" "$CLI" --config "$R/config" import --root "$R/root"
contains "and named" "$WORK/stdout" "REFUSED: a different $R/config/vm.d/imported-$UUID.xml is already there"
check "refusing it leaves the config dir as it was" test "$(tree_sum "$R/config")" = "$before"
rm "$R/config/vm.d/imported-$UUID.xml"
printf 'my own dump' > "$R/config/rom/AMDGopDriver.rom"
before=$(tree_sum "$R/config")
expect_exit 1 "a different ROM of that name is refused" "$CLI" --config "$R/config" import --root "$R/root"
contains "with its VM's snippet" "$WORK/stdout" "not written, because its ROM $R/config/rom/AMDGopDriver.rom is refused"
check "refusing it leaves the config dir as it was" test "$(tree_sum "$R/config")" = "$before"
expect_exit 1 "--remove-old after a refusal" "$CLI" --config "$R/config" import --root "$R/root" --remove-old
contains "keeps the old hook" "$WORK/stdout" "--remove-old: the old hot-plug stays"
check "which is still there" test -f "$R/root/etc/libvirt/hooks/qemu"

# ---- --remove-old ----
cp "$ROOT/$DSM_HOOK" "$WORK/dsm-deployed"
cp "$ROOT/etc/libvirt/hooks/qemu" "$WORK/qemu-hook"
before=$(tree_sum "$S")
expect_exit 0 "--remove-old --dry-run succeeds" imp --remove-old --dry-run
contains "and says what it would remove" "$WORK/stdout" "lines 6, 7 and 8 (deploy.sh's) would be removed"
check "and removes nothing" test "$(tree_sum "$S")" = "$before"
expect_exit 0 "--remove-old succeeds" imp --remove-old
check "the old qemu hook is gone" test ! -e "$ROOT/etc/libvirt/hooks/qemu"
check "DSM's hook is byte for byte what it was before deploy.sh" \
    cmp "$DATA/synopassthru/expected/insert_libvirtd_ko.sh" "$ROOT/$DSM_HOOK"
check "and keeps its mode" test "$(mode_of "$ROOT/$DSM_HOOK")" = 755
BACKUP=$(ls -d "$CONFIG"/import-backup/*/)
check "one backup folder" test "$(echo "$BACKUP" | wc -l)" -eq 1
check "it holds the hook" cmp "$WORK/qemu-hook" "$BACKUP/etc/libvirt/hooks/qemu"
check "and DSM's hook as it was" cmp "$WORK/dsm-deployed" "$BACKUP/$DSM_HOOK"
contains "the backups are listed" "$WORK/stdout" "backup ${BACKUP}etc/libvirt/hooks/qemu"
check "the scripts stay" test -f "$ROOT/usr/local/libvirt/attach_detach_all.sh"
before=$(tree_sum "$S")
expect_exit 0 "--remove-old again succeeds" imp --remove-old
contains "finding the old hot-plug gone" "$WORK/stdout" "The old hot-plug is not installed"
check "and changes nothing" test "$(tree_sum "$S")" = "$before"

# ---- what is not imported ----
P=$WORK/p
mkdir -p "$P"
fake_root problems "$P/root"
make_config "$P/config"
mkdir -p "$P/root/etc/libvirt/hooks"
echo 'nohup sh /usr/local/libvirt/attach_detach_all.sh $1 &' > "$P/root/etc/libvirt/hooks/qemu"
expect_exit 1 "an import with problems exits 1" "$CLI" --config "$P/config" import --root "$P/root" --remove-old
contains "naming them on stderr" "$WORK/stderr" "synopassthru: import: not everything was imported: 6 items not imported, 0 files refused, 1 ROM that does not fit"
not_imported "the not-imported list is the expected one" problems "$P/root"
same_snippets "what could be imported is" problems "$P/config"
contains "the ROM that does not fit is said loudly" "$WORK/stdout" "WARNING: ROM check: does NOT fit 1002:1638: its images name 10de:1b80"
check "and copied all the same" cmp "$P/root/usr/local/libvirt/user/vbios_wrong.bin" "$P/config/rom/vbios_wrong.bin"
check "the old hook stays" test -f "$P/root/etc/libvirt/hooks/qemu"
"$CLI" --config "$P/config" check "Living room PC" > "$WORK/check" 2>&1
check "check refuses that VM for its ROM" test $? -eq 1
contains "naming both IDs" "$WORK/check" "belongs to another device"

# ---- the predecessor ----
O=$WORK/o
mkdir -p "$O"
fake_root predecessor "$O/root"
make_config "$O/config"
cp "$O/root/$DSM_HOOK" "$WORK/dsm-manual"
expect_exit 0 "the predecessor's scripts import" "$CLI" --config "$O/config" import --root "$O/root" --remove-old
same_snippets "into the expected snippet" predecessor "$O/config"
contains "the commented-out NIC is not imported" "$WORK/stdout" "attaching_Intel82599ES.sh (commented out at attach_all.sh:3)"
check "its hook is removed" test ! -e "$O/root/etc/libvirt/hooks/qemu"
check "DSM's hook, without deploy.sh's lines, stays as it is" cmp "$WORK/dsm-manual" "$O/root/$DSM_HOOK"
contains "its hand-made line is pointed out" "$WORK/stdout" "insert_libvirtd_ko.sh:4, which calls my_hook_setup.sh"
test_domain frigate-uuid frigate_VM > "$WORK/frigate.xml"
"$CLI" --config "$O/config" preview "$WORK/frigate.xml" > "$WORK/preview" 2>&1
check "preview gives the VM titled frigate_VM its Coral" grep -q 'bus="0x06"' "$WORK/preview"

# ---- --from: a copy of the scripts elsewhere; their absolute paths map into it ----
F=$WORK/f
mkdir -p "$F"
fake_root synopassthru "$F/copy"
make_config "$F/config"
expect_exit 0 "--from a copy of the scripts" \
    "$CLI" --config "$F/config" import --from "$F/copy/usr/local/libvirt" --root "$F/no-root"
check "finds the absolute GOP ROM path in the copy" \
    cmp "$F/copy/usr/local/libvirt/user/AMDGopDriver.rom" "$F/config/rom/AMDGopDriver.rom"
contains "and says where the snippet came from" "$F/config/vm.d/imported-$UUID.xml" \
    "scripts
     in $F/copy/usr/local/libvirt (attach_detach_all.sh)"

# ---- the command line ----
mkdir -p "$WORK/empty"
expect_exit 3 "no old install" "$CLI" --config "$WORK/e-config" import --from "$WORK/empty"
contains "names the folder" "$WORK/stderr" "no community scripts at $WORK/empty"
check "and writes nothing" test ! -e "$WORK/e-config"
expect_exit 2 "an unknown option" "$CLI" import --frmo x
expect_exit 2 "--from without a folder" "$CLI" import --from
expect_exit 0 "--help" "$CLI" import --help
contains "prints the usage" "$WORK/stdout" "Usage: synopassthru [--config DIR] import"
: > "$WORK/not-a-dir"
expect_exit 4 "a config dir that cannot be written" "$CLI" --config "$WORK/not-a-dir" import --root "$ROOT"
contains "is a write error" "$WORK/stderr" "could not be written"
