#!/bin/bash
# tests/run.sh MODE BUILD ITEM...
# Runs each ITEM (a test binary, a fuzz target or a tests/integration script),
# prints one PASS/FAIL line each (with the tail of the log on failure), and
# closes with "MODE: N passed, M failed". Exits non-zero when anything failed.
set -u
mode=$1 build=$2
shift 2
export SP_BUILD=$(cd "$build" && pwd)
export SP_SRC=$(pwd)
logdir=$SP_BUILD/test-logs
mkdir -p "$logdir"
passed=0 failed=0 failed_names=()

run_item() {
    local item=$1
    case "$mode:$item" in
    fuzz:*)
        local name corpus
        name=$(basename "$item")
        corpus=$SP_SRC/tests/fuzz/corpus/$name
        local work
        work=$(mktemp -d)
        [ -d "$corpus" ] && cp -r "$corpus/." "$work/"
        local max_len=8192
        # fuzz_identity is about what size costs: inputs up to 1 MB.
        [ "$name" = fuzz_identity ] && max_len=1048576
        "$item" -runs="${FUZZ_RUNS:-20000}" -max_len=$max_len -timeout=10 "$work"
        local rc=$?
        rm -rf "$work"
        return $rc ;;
    *.sh) bash "$item" ;;
    *) "$item" ;;
    esac
}

for item in "$@"; do
    name=${item#$SP_SRC/}
    log=$logdir/$(echo "$mode-$name" | tr '/' '_').log
    start=$EPOCHREALTIME
    run_item "$item" >"$log" 2>&1
    rc=$?
    secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
    if [ $rc -eq 0 ]; then
        passed=$((passed + 1))
        summary=$(grep -E '^\[  PASSED  \]|^ok [0-9]+ checks|^checks: ' "$log" | tail -1)
        printf 'PASS %-45s %6ss  %s\n' "$name" "$secs" "$summary"
    else
        failed=$((failed + 1))
        failed_names+=("$name")
        printf 'FAIL %-45s (exit %d) log: %s\n' "$name" "$rc" "$log"
        tail -n 40 "$log" | sed 's/^/    | /'
    fi
done
echo "$mode: $passed passed, $failed failed"
[ $failed -eq 0 ] || { echo "failed: ${failed_names[*]}"; exit 1; }
