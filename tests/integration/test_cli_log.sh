# synopassthru log: the audit log written by real starts (the shim preloaded
# into `virsh -c test:///default`) read back for people: one line per start,
# rotated files oldest first, a corrupt line named and skipped, --since,
# --diff, the VM filter by title and UUID, and --json as written.
. "$(dirname "$0")/lib.sh"

CONFIG=$WORK/config SYSFS=$WORK/sysfs
make_config "$CONFIG"
make_sysfs "$SYSFS"
add_snippet "$CONFIG" igpu.xml '<passthrough vm="Living room">
  <pci address="08:00.0" vendor="1002" product="1638"/>
</passthrough>'
add_snippet "$CONFIG" broken-rom.xml '<passthrough vm="no-rom">
  <pci address="05:00.0" rom="missing.bin"/>
</passthrough>'
UUID=0b6a1e43-3c39-4d0c-9b47-2f0c8d1e5a77
export TZ=UTC

run_virsh() {
    env SYNOPASSTHRU_CONFIG_DIR="$CONFIG" LD_PRELOAD="$SHIM" virsh -c test:///default "$@"
}
# A domain for the test driver with a fixed UUID.
test_domain "$UUID" "Living room" | sed "s|</name>|</name><uuid>$UUID</uuid>|" > "$WORK/living.xml"
test_domain no-rom > "$WORK/norom.xml"
run_virsh "create $WORK/living.xml" > "$WORK/virsh.out" 2>&1
check "the matched start went through" test $? -eq 0
run_virsh "create $WORK/norom.xml" > "$WORK/virsh.out" 2>&1
check "the VM whose ROM is missing was refused" test $? -ne 0
check "two starts were logged" test "$(grep -c '"event":"start"' "$CONFIG/audit.log")" -eq 2

# Times and the work dir vary from run to run: the golden files in
# tests/data/cli-log have TIME and @WORK@ in their place.
# SYNOPASSTHRU_REGENERATE=1 rewrites them instead (review the diff).
normalise() {
    sed -E -e 's/^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}/TIME/' -e "s|$WORK|@WORK@|g" "$1"
}
golden() {
    normalise "$1" > "$WORK/normalised"
    if [ -n "${SYNOPASSTHRU_REGENERATE:-}" ]; then
        cp "$WORK/normalised" "$SP_SRC/tests/data/cli-log/$2" && pass "regenerated $2"
    else
        check "$3 (tests/data/cli-log/$2)" diff -u "$SP_SRC/tests/data/cli-log/$2" "$WORK/normalised"
    fi
}

expect_exit 0 "log" "$CLI" --config "$CONFIG" log
golden "$WORK/stdout" log.txt "one line per start: title else name, devices, result, reason, warnings"
check "nothing on stderr" test ! -s "$WORK/stderr"
check "the time is local, to the second" grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}  ' "$WORK/stdout"

# The VM by its title, its UUID in capitals, or a name no start had.
expect_exit 0 "log by title" "$CLI" --config "$CONFIG" log "Living room"
check "by title: only that VM's start" test "$(wc -l < "$WORK/stdout")" -eq 1
contains "(the one with 08:00.0)" "$WORK/stdout" "Living room  ok  0000:08:00.0 [1002:1638]" 1
expect_exit 0 "log by UUID" "$CLI" --config "$CONFIG" log "$(echo "$UUID" | tr a-f A-F)"
check "by UUID in capitals: the same start" test "$(wc -l < "$WORK/stdout")" -eq 1
expect_exit 0 "log for a VM without starts" "$CLI" --config "$CONFIG" log nobody
check "prints nothing" test ! -s "$WORK/stdout"

# --since: relative and absolute; a bad one is a usage error.
expect_exit 0 "log --since 1h" "$CLI" --config "$CONFIG" log --since 1h
check "--since 1h: both starts" test "$(wc -l < "$WORK/stdout")" -eq 2
expect_exit 0 "log --since tomorrow's date" "$CLI" --config "$CONFIG" log --since "$(date -d tomorrow +%F)"
check "--since tomorrow: none" test ! -s "$WORK/stdout"
expect_exit 0 "log --since=2000-01-01T00:00" "$CLI" --config "$CONFIG" log --since=2000-01-01T00:00
check "--since 2000: both" test "$(wc -l < "$WORK/stdout")" -eq 2
expect_exit 2 "log --since yesterday is refused" "$CLI" --config "$CONFIG" log --since yesterday
contains "saying which forms it takes" "$WORK/stderr" "'yesterday' is not a time (2026-11-30"

# --diff: the XML the start added.
expect_exit 0 "log --diff" "$CLI" --config "$CONFIG" log --diff "Living room"
golden "$WORK/stdout" diff.txt "the hostdev the start added, under its line"

# --json: the records as written.
expect_exit 0 "log --json" "$CLI" --config "$CONFIG" log --json
check "--json is one object, schema 1 first" test "$(jq -c 'keys_unsorted[0], .schema' "$WORK/stdout" | tr '\n' ' ')" = '"schema" 1 '
check "--json holds every record of the log, bind records too" \
    test "$(jq '.records | length' "$WORK/stdout")" -eq "$(wc -l < "$CONFIG/audit.log")"
jq -c '.records[]' "$WORK/stdout" > "$WORK/records"
check "--json records are the log's lines byte for byte" cmp "$WORK/records" "$CONFIG/audit.log"

# Rotation: the old file becomes audit.log.1 (and an older .2.gz); a new
# start writes a new audit.log. Oldest first; the compressed one is named.
mv "$CONFIG/audit.log" "$CONFIG/audit.log.1"
printf '\037\213' > "$CONFIG/audit.log.2.gz"
run_virsh "create $WORK/living.xml" > "$WORK/virsh.out" 2>&1
check "a start after the rotation went through" test $? -eq 0
# A line the disk or an editor mangled, in the middle of the rotated file.
sed -i '2i {"time":"2026-11-25T12:06:45.339Z","vm":' "$CONFIG/audit.log.1"
"$CLI" --config "$CONFIG" log > "$WORK/stdout" 2> "$WORK/stderr"
check "rotated and corrupt files still exit 0" test $? -eq 0
check "three starts: two rotated, one live" test "$(wc -l < "$WORK/stdout")" -eq 3
check "oldest first: the live file's start is last" \
    test "$(normalise "$WORK/stdout" | tail -1 | cut -c1-47)" = "TIME  Living room  ok  0000:08:00.0 [1002:1638]"
check "the refused start (rotated) is before it" sed -n 2p "$WORK/stdout" | grep -q "no-rom  refused"
contains "the corrupt line is named by file and line" "$WORK/stderr" \
    "synopassthru: log: $CONFIG/audit.log.1:2: not a valid record: unexpected end of text at byte" 1
contains "the compressed file is said to be skipped" "$WORK/stderr" \
    "synopassthru: log: $CONFIG/audit.log.2.gz: skipped: compressed" 1
"$CLI" --config "$CONFIG" log --json > "$WORK/json" 2> /dev/null
check "--json names what it skipped" test "$(jq '.skipped | length' "$WORK/json")" -eq 2

# No log at all, or the log turned off.
rm -f "$CONFIG"/audit.log*
expect_exit 3 "no audit log yet" "$CLI" --config "$CONFIG" log
contains "says which file and where it is set" "$WORK/stderr" "$CONFIG/audit.log: No such file or directory (set by audit_log in $CONFIG/synopassthru.conf"
sed -i 's|^audit_log = .*|audit_log =|' "$CONFIG/synopassthru.conf"
expect_exit 3 "the audit log turned off" "$CLI" --config "$CONFIG" log
contains "says so" "$WORK/stderr" "the audit log is off"
