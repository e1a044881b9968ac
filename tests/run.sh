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

# The longest input a fuzz target is given.
fuzz_max_len() {
    # fuzz_identity is about what size costs: inputs up to 1 MB.
    if [ "$1" = fuzz_identity ]; then echo 1048576; else echo 8192; fi
}

# Runs fuzz target $1 on corpus dir $2 with more libFuzzer options. An input
# running 10 s is a failure (a hang), and so is anything the target leaves in
# its TMPDIR, a directory of its own: on a tmpfs when there is one, as
# fuzz_config_dir makes and removes a directory tree per input.
fuzz_run() {
    local item=$1 corpus=$2 tmp rc
    shift 2
    tmp=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
    TMPDIR=$tmp "$item" -max_len="$(fuzz_max_len "$(basename "$item")")" -timeout=10 \
        -print_final_stats=1 "$@" "$corpus"
    rc=$?
    if [ -n "$(ls -A "$tmp")" ]; then
        echo "left behind in TMPDIR: $(ls -A "$tmp" | head -5 | tr '\n' ' ')"
        [ $rc -eq 0 ] && rc=1
    fi
    rm -rf "$tmp"
    return $rc
}

# fuzz-long: FUZZ_SECONDS on a corpus kept in $SP_BUILD/fuzz-long/corpus/NAME
# (the seeds added to it), crashes, leaks and hangs written to
# $SP_BUILD/fuzz-long/artifacts/NAME; a new artifact is a failure.
fuzz_long() {
    local item=$1 name base stamp rc found
    name=$(basename "$item")
    base=$SP_BUILD/fuzz-long
    mkdir -p "$base/corpus/$name" "$base/artifacts/$name"
    [ -d "$SP_SRC/tests/fuzz/corpus/$name" ] &&
        cp -r -n "$SP_SRC/tests/fuzz/corpus/$name/." "$base/corpus/$name/"
    stamp=$base/.started-$name
    touch "$stamp"
    fuzz_run "$item" "$base/corpus/$name" -max_total_time="${FUZZ_SECONDS:-3600}" \
        -artifact_prefix="$base/artifacts/$name/"
    rc=$?
    found=$(find "$base/artifacts/$name" -type f -newer "$stamp" | wc -l)
    echo "findings: $found (in $base/artifacts/$name)"
    [ "$found" -eq 0 ] || [ $rc -ne 0 ] || rc=1
    return $rc
}

# "N runs, N exec/s, cov N, ft N, corpus N[, findings N]" from a libFuzzer log
# ($1) of a run that took $2 seconds (libFuzzer says 0 exec/s under 1 s).
fuzz_summary() {
    local runs speed status found
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$1" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$1" | tail -1)
    [ "$speed" = 0 ] && speed=$(awk -v n="$runs" -v s="$2" 'BEGIN { printf "%d", n / s }')
    status=$(grep -E '^#[0-9]+.*cov: ' "$1" | tail -1)
    found=$(sed -n 's/^findings: \([0-9]*\).*/, findings \1/p' "$1" | tail -1)
    printf '%s runs, %s exec/s, cov %s, ft %s, corpus %s%s' "${runs:-?}" "${speed:-?}" \
        "$(echo "$status" | sed -nE 's/.*cov: ([0-9]+).*/\1/p')" \
        "$(echo "$status" | sed -nE 's/.* ft: ([0-9]+).*/\1/p')" \
        "$(echo "$status" | sed -nE 's/.* corp: ([0-9]+).*/\1/p')" "$found"
}

run_item() {
    local item=$1
    case "$mode:$item" in
    fuzz:*)
        local corpus work rc
        corpus=$SP_SRC/tests/fuzz/corpus/$(basename "$item")
        work=$(mktemp -d)
        [ -d "$corpus" ] && cp -r "$corpus/." "$work/"
        mkdir -p "$SP_BUILD/fuzz-smoke/artifacts"
        fuzz_run "$item" "$work" -runs="${FUZZ_RUNS:-20000}" \
            -artifact_prefix="$SP_BUILD/fuzz-smoke/artifacts/$(basename "$item")-"
        rc=$?
        rm -rf "$work"
        return $rc ;;
    fuzz-long:*) fuzz_long "$item" ;;
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
        case $mode in
        fuzz|fuzz-long) summary=$(fuzz_summary "$log" "$secs") ;;
        *) summary=$(grep -E '^\[  PASSED  \]|^ok [0-9]+ checks|^checks: ' "$log" | tail -1) ;;
        esac
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
