# Concurrency through the real libvirtd (shim preloaded), for a bounded time
# (CONC_SECONDS, default 45): 32 clients (tests/tools/conc_client, one
# connection each) create and destroy transient VMs, define, start, stop,
# undefine and define again persistent ones (some with a changed definition
# defined at the very moment of the start, some while they run), matched and
# unmatched, release="yes" ones among them started again right after their
# stop; meanwhile one editor rewrites every snippet, atomically (a temp file
# and mv) and not (truncated, then written in pieces with pauses), always
# with the same VM -> device mapping. Each device belongs to one VM only
# (tests/data/hosts/conc-box.txt). Checked:
#   - every matched start gives the VM exactly its devices and nothing else,
#     or is refused with "synopassthru: " and a reason; a snippet caught
#     half written never gives a bare start;
#   - every unmatched VM runs with exactly its own XML;
#   - a defined VM's stored definition is always the last one defined (a
#     define during a start is not lost to the start's put-back);
#   - exactly one valid audit record per matched start, agreeing with what
#     its client saw, and none for unmatched VMs;
#   - no device off vfio-pci while its VM runs: by each client right after
#     its start and just before its stop, and by a sampler (list, drivers,
#     list again: a VM with the same id in both lists);
#   - the daemon answers `virsh version; list` within 5 s throughout;
#   - at the end the release="yes" devices are back on their host drivers,
#     and the daemon, stopped by its pid, is gone.
. "$(dirname "$0")/lib.sh"

LOAD=${CONC_SECONDS:-45}
CLIENTS=32
CONFIG=$WORK/config SYSFS=$WORK/sysfs
make_config "$CONFIG" "$SYSFS"
make_sysfs "$SYSFS" conc-box
CONC=$SP_BUILD/tests/conc_client
if [ ! -x "$CONC" ]; then
    fail "the concurrency client $CONC is not built (make unit)"
    exit 1
fi

# The plan: client i owns matched VM mNN (transient or defined, release="yes"
# or not, one or two devices) and unmatched VM uNN (transient or defined).
# Devices come from conc-box in order, each to one VM.
PLAN=$WORK/plan
HOST=$SP_SRC/tests/data/hosts/conc-box.txt
mapfile -t DEVLINES < <(awk '$1 ~ /^0000:[1-9a-f]/ { print $1, $2, $3, $5 }' "$HOST")
declare -A SNIP_DEVS REL
MATCHED=()
d=0
for i in $(seq 0 $((CLIENTS - 1))); do
    case $((i % 4)) in
    0) kind=T rel=0 ;; 1) kind=T rel=1 ;; 2) kind=P rel=0 ;; 3) kind=P rel=1 ;;
    esac
    case $((i % 8)) in 0|3|5|6) n=2 ;; *) n=1 ;; esac
    vm=$(printf 'm%02d' "$i") addrs="" SNIP_DEVS[$vm]=""
    for _ in $(seq 1 $n); do
        set -- ${DEVLINES[$d]}
        d=$((d + 1))
        addrs=${addrs:+$addrs,}$1
        SNIP_DEVS[$vm]+="$1/$2/$3 "
    done
    REL[$vm]=$rel
    MATCHED+=("$vm")
    printf '%s %d %s %d %s %s\n' "$vm" "$i" "$kind" "$rel" "$(printf '5eed0000-0000-4000-8000-%012d' "$i")" "$addrs"
    printf 'u%02d %d %s 0 %s -\n' "$i" "$i" "$([ $((i % 2)) -eq 0 ] && echo t || echo p)" \
        "$(printf '5eed0001-0000-4000-8000-%012d' "$i")"
done > "$PLAN"
check "the plan has $CLIENTS matched VMs with $d devices from conc-box, none twice" \
    test "$(cut -d' ' -f6 "$PLAN" | tr ',' '\n' | grep -v '^-$' | sort | uniq -d | wc -l)" -eq 0 -a "$d" -gt "$CLIENTS"

# snippet_text VM N: the VM's snippet, written one of several ways (the
# same devices every time).
snippet_text() {
    local vm=$1 n=$2 dev addr vendor product rel=""
    [ "${REL[$vm]}" = 1 ] && rel=' release="yes"'
    if [ $((n % 2)) -eq 0 ]; then
        printf '<passthrough vm="%s"%s>' "$vm" "$rel"
        for dev in ${SNIP_DEVS[$vm]}; do
            IFS=/ read -r addr vendor product <<< "$dev"
            printf '<pci address="%s" vendor="%s" product="%s"/>' "${addr#0000:}" "$vendor" "$product"
        done
        printf '</passthrough>\n'
    else
        printf '<!-- edit %d of %s -->\n<passthrough%s\n    vm="%s">\n' "$n" "$vm" "$rel" "$vm"
        for dev in ${SNIP_DEVS[$vm]}; do
            IFS=/ read -r addr vendor product <<< "$dev"
            printf '  <pci product="%s" vendor="%s"\n       address="%s"/>\n' "$product" "$vendor" "$addr"
        done
        printf '</passthrough>\n<!-- end of edit %d -->\n' "$n"
    fi
}
for vm in "${MATCHED[@]}"; do
    add_snippet "$CONFIG" "$vm.xml" "$(snippet_text "$vm" 0)"
done
check "m00's snippet names its two devices" \
    test "$(grep -o '<pci address="1[01]:00.0" vendor="[0-9a-f]*" product="[0-9a-f]*"/>' "$CONFIG/vm.d/m00.xml" | wc -l)" -eq 2

start_daemon "$CONFIG" "$SYSFS" || exit 1
DAEMON_STARTED_PID=$DAEMON_PID

# The editor: every ~10 ms one snippet rewritten, one time in three
# atomically, else truncated and written in two pieces with pauses between.
editor() {
    local end=$((EPOCHSECONDS + LOAD)) n=0 vm f text cut t0
    while [ "$EPOCHSECONDS" -lt "$end" ]; do
        vm=${MATCHED[$((RANDOM % ${#MATCHED[@]}))]}
        n=$((n + 1))
        f=$CONFIG/vm.d/$vm.xml
        text=$(snippet_text "$vm" "$n")
        if [ $((RANDOM % 3)) -eq 0 ]; then
            printf '%s\n' "$text" > "$CONFIG/edit.tmp"
            chmod 644 "$CONFIG/edit.tmp"
            mv -f "$CONFIG/edit.tmp" "$f"
            echo "atomic $vm"
        else
            cut=$((RANDOM % ${#text}))
            t0=$EPOCHREALTIME
            : > "$f"
            sleep 0.0$((RANDOM % 3 + 1))
            printf '%s' "${text:0:$cut}" >> "$f"
            sleep 0.0$((RANDOM % 3 + 1))
            printf '%s\n' "${text:$cut}" >> "$f"
            echo "torn $vm $t0 $EPOCHREALTIME"
        fi
        sleep 0.01
    done
}

# The prober: `virsh version; list` every half second, each under a 5 s timeout.
prober() {
    local end=$((EPOCHSECONDS + LOAD + 2)) t0 rc
    while [ "$EPOCHSECONDS" -lt "$end" ]; do
        t0=${EPOCHREALTIME/./}
        timeout 5 virsh -q -c "$DAEMON_URI" "version; list --all" > /dev/null 2>> "$WORK/probe.err"
        rc=$?
        echo "$rc $(((${EPOCHREALTIME/./} - t0) / 1000))"
        sleep 0.5
    done
}

prober > "$WORK/probes" &
PROBER=$!
PIDS=()
for i in $(seq 0 $((CLIENTS - 1))); do
    "$CONC" client "$DAEMON_URI" "$SYSFS" "$PLAN" "$i" "$LOAD" "$WORK/client-$i.out" \
        2> "$WORK/client-$i.err" &
    PIDS+=($!)
done
"$CONC" sampler "$DAEMON_URI" "$SYSFS" "$PLAN" "$LOAD" "$WORK/sampler.out" 2> "$WORK/sampler.err" &
SAMPLER=$!
editor > "$WORK/editor.log" &
EDITOR=$!
echo "load: $CLIENTS clients, a sampler, an editor and a prober for $LOAD s"

# Everyone finishes within the load time and a margin, or is stopped by pid.
deadline=$((EPOCHSECONDS + LOAD + 60))
for p in "${PIDS[@]}" "$SAMPLER" "$EDITOR" "$PROBER"; do
    while kill -0 "$p" 2> /dev/null && [ "$EPOCHSECONDS" -lt "$deadline" ]; do sleep 0.5; done
done
late=0
for p in "${PIDS[@]}" "$SAMPLER" "$EDITOR" "$PROBER"; do
    if kill -0 "$p" 2> /dev/null; then
        late=$((late + 1))
        kill -KILL "$p" 2> /dev/null
    fi
done
check "every client, the sampler, the editor and the prober finished in time ($late did not)" test "$late" -eq 0
failed_clients=0
for i in "${!PIDS[@]}"; do
    wait "${PIDS[$i]}" || { failed_clients=$((failed_clients + 1)); sed 's/^/    | client '"$i"': /' "$WORK/client-$i.err"; }
done
check "all $CLIENTS clients ran to the end ($failed_clients could not)" test "$failed_clients" -eq 0
wait "$SAMPLER"
check "the sampler ran to the end" test $? -eq 0
wait "$EDITOR" "$PROBER"

# Everything counted, in one place.
python3 - "$WORK" "$CONFIG/audit.log" > "$WORK/summary" <<'PY'
import glob, json, os, sys
work, audit_path = sys.argv[1], sys.argv[2]
plan = {}
for line in open(os.path.join(work, "plan")):
    name, client, kind, rel, uuid, devs = line.split()
    plan[name] = dict(kind=kind, release=rel == "1",
                      devs=sorted(devs.split(",")) if devs != "-" else [])
counts, per_vm, unmatched, starts, details, reasons = {}, {}, {}, {}, [], {}
for path in sorted(glob.glob(os.path.join(work, "client-*.out"))) + [os.path.join(work, "sampler.out")]:
    for line in open(path):
        f = line.split()
        if not f:
            continue
        if f[0] == "count":
            counts[f[1]] = counts.get(f[1], 0) + int(f[2])
        elif f[0] == "vm":
            per_vm[f[1]] = tuple(map(int, f[2:5]))
        elif f[0] == "unmatched":
            unmatched[f[1]] = tuple(map(int, f[2:4]))
        elif f[0] == "start":
            starts.setdefault(f[1], []).append((float(f[2]), float(f[3]), f[4]))
        elif f[0] == "bad":
            details.append(line.rstrip())
        elif f[0] == "reason":
            r = line.rstrip()[len("reason "):]
            for name in plan:
                r = r.replace("'%s'" % name, "'VM'")
            reasons[r] = reasons.get(r, 0) + 1

# The audit log: every line a JSON object; one start record per matched start.
records, invalid, rec = 0, [], {}
for n, line in enumerate(open(audit_path) if os.path.exists(audit_path) else [], 1):
    try:
        r = json.loads(line)
        event, name = r["event"], r["vm"]["name"]
        if not (r["time"] and r["api"].startswith("virDomainCreate") and name):
            raise ValueError("no time, api or VM name")
    except Exception as e:
        invalid.append("line %d does not parse: %s" % (n, e))
        continue
    if event != "start":
        continue
    records += 1
    v = rec.setdefault(name, {"n": 0, "ok": 0, "refused": 0})
    v["n"] += 1
    p = plan.get(name)
    if p is None or not p["devs"]:
        invalid.append("line %d: a start record for %s, which no snippet names" % (n, name))
        continue
    if r.get("result") == "ok" and (r.get("libvirt") or {}).get("ok") is True:
        v["ok"] += 1
        got = sorted(d.get("address") for d in r.get("devices", []))
        if got != p["devs"] or len(r.get("added", [])) != len(p["devs"]):
            invalid.append("line %d: %s started with devices %s (%d added), want %s" %
                           (n, name, got, len(r.get("added", [])), p["devs"]))
    elif r.get("result") == "refused" and r.get("reason"):
        v["refused"] += 1
    else:
        invalid.append("line %d: %s neither ok nor refused with a reason: %s" % (n, name, line[:300]))
mismatch = []
for name, p in sorted(plan.items()):
    got = rec.get(name, {"n": 0, "ok": 0, "refused": 0})
    if p["devs"]:
        attempts, ok, refused = per_vm.get(name, (0, 0, 0))
        if (got["n"], got["ok"], got["refused"]) != (attempts, ok, refused):
            mismatch.append("%s: %d start records (%d ok, %d refused), its client saw %d starts "
                            "(%d ok, %d refused)" % (name, got["n"], got["ok"], got["refused"],
                                                     attempts, ok, refused))
    elif got["n"]:
        mismatch.append("%s (unmatched): %d start records" % (name, got["n"]))

# Starts that began or ended while their own snippet was half written.
torn = {}
atomic = torn_edits = 0
for line in open(os.path.join(work, "editor.log")):
    f = line.split()
    if f[0] == "atomic":
        atomic += 1
    elif f[0] == "torn":
        torn_edits += 1
        torn.setdefault(f[1], []).append((float(f[2]), float(f[3])))
mid_edit = 0
for name, wins in torn.items():
    for s0, s1, _ in starts.get(name, []):
        mid_edit += any(s0 < w1 and s1 > w0 for w0, w1 in wins)

probes = [tuple(map(int, l.split())) for l in open(os.path.join(work, "probes")) if l.strip()]
out = dict(counts)
out.update(audit_records=records, audit_invalid=len(invalid), audit_mismatch=len(mismatch),
           atomic_edits=atomic, torn_edits=torn_edits, mid_edit_starts=mid_edit,
           probes=len(probes), probe_failures=sum(1 for rc, ms in probes if rc != 0),
           probe_timeouts=sum(1 for rc, ms in probes if rc == 124 or ms >= 5000),
           probe_max_ms=max([ms for rc, ms in probes] or [0]),
           vms_started_ok=sum(1 for v in per_vm.values() if v[1] > 0),
           release_vms_started_ok=sum(1 for n, v in per_vm.items() if v[1] > 0 and plan[n]["release"]),
           unmatched_ok=sum(v[1] for v in unmatched.values()))
for k in sorted(out):
    print("count", k, out[k])
for r, n in sorted(reasons.items(), key=lambda x: -x[1])[:10]:
    print("reason %d x %s" % (n, r))
for d in invalid[:5] + mismatch[:5]:
    print("audit", d)
for d in details[:25]:
    print("detail", d)
PY
check "the counts were made" test $? -eq 0
count() { awk -v k="$1" '$1 == "count" && $2 == k { print $3 }' "$WORK/summary"; }
sed -n 's/^reason /  refusal: /p' "$WORK/summary"
STARTS=$(count starts) OK=$(count matched_ok) REFUSED=$(count matched_refused)
UNMATCHED=$(count unmatched) AUDIT=$(count audit_records) VIOLATIONS=$(count violations)
: "${STARTS:=0}" "${OK:=0}" "${REFUSED:=0}" "${UNMATCHED:=0}" "${AUDIT:=0}" "${VIOLATIONS:=0}"
grep -E '^(audit|detail) ' "$WORK/summary" | sed 's/^/  /' 
sed -n 's/^count \([^ ]*\) /\1=/p' "$WORK/summary" | tr '\n' ' ' | fold -s -w 100 | sed 's/^/  /'
echo

# The load happened, with each kind of start and each race.
check "matched starts ran ($OK ok, $REFUSED refused of $((STARTS - UNMATCHED)))" test "$((OK + REFUSED))" -gt 100
check "every one of the $CLIENTS matched VMs started with its devices at least once ($(count vms_started_ok))" \
    test "$(count vms_started_ok)" -eq "$CLIENTS"
check "unmatched VMs started ($UNMATCHED)" test "$UNMATCHED" -gt 20
check "defines raced starts ($(count concurrent_define_overlaps) overlapping of $(count concurrent_defines)), ran during starts ($(count running_defines)), and VMs were defined again ($(count redefines))" \
    test "$(count concurrent_define_overlaps)" -gt 0 -a "$(count running_defines)" -gt 0 -a "$(count redefines)" -gt "$((CLIENTS / 2))"
check "release=\"yes\" VMs started ($(count release_vms_started_ok) of them) and again right after their stop ($(count quick_restarts) times)" \
    test "$(count release_vms_started_ok)" -gt 0 -a "$(count quick_restarts)" -gt 0
check "snippets were rewritten atomically ($(count atomic_edits)) and in pieces ($(count torn_edits)), and $(count mid_edit_starts) matched starts overlapped a half-written snippet of theirs" \
    test "$(count atomic_edits)" -gt 0 -a "$(count torn_edits)" -gt 0 -a "$(count mid_edit_starts)" -gt 0

# The invariants.
check "every matched start that worked had exactly its devices and nothing else ($(count bad_live) did not)" \
    test "$(count bad_live)" -eq 0
check "every refused matched start said synopassthru and why ($(count bad_refusal) did not), and left the VM stopped ($(count refused_running) did not)" \
    test "$(count bad_refusal)" -eq 0 -a "$(count refused_running)" -eq 0
check "every unmatched VM ran with exactly its own XML ($(count unmatched_bad) did not)" \
    test "$(count unmatched_bad)" -eq 0 -a "$(count unmatched_ok)" -eq "$UNMATCHED"
check "no define was lost to a start's put-back ($(count define_lost) were)" test "$(count define_lost)" -eq 0
check "the stored definition was always the last one defined ($(count definition_bad) times not)" \
    test "$(count definition_bad)" -eq 0
check "the clients saw every device on vfio-pci after each start and before each stop ($(count driver_bad) of $(count driver_checks) checks failed)" \
    test "$(count driver_bad)" -eq 0 -a "$(count driver_checks)" -gt 0
check "the sampler saw no device off vfio-pci while its VM ran ($VIOLATIONS violations in $(count sample_checks) checks, $(count sample_release_checks) of release VMs, $(count samples) samples)" \
    test "$VIOLATIONS" -eq 0 -a "$(count sample_release_checks)" -gt 0
check "every audit line is a valid record ($(count audit_invalid) are not)" test "$(count audit_invalid)" -eq 0
check "exactly one audit record per matched start, as each client saw it, none for unmatched VMs ($(count audit_mismatch) VMs disagree)" \
    test "$(count audit_mismatch)" -eq 0 -a "$AUDIT" -eq "$((STARTS - UNMATCHED))"
check "no client operation failed otherwise ($(count infra_errors))" test "$(count infra_errors)" -eq 0
check "the daemon answered throughout: $(count probes) probes, $(count probe_timeouts) over 5 s, $(count probe_failures) failed, slowest $(count probe_max_ms) ms" \
    test "$(count probe_timeouts)" -eq 0 -a "$(count probe_failures)" -eq 0 -a "$(count probes)" -ge "$((LOAD / 3 + 1))"
[ -s "$WORK/probe.err" ] && sed 's/^/    | probe: /' "$WORK/probe.err" | head -5

# At the end: nothing runs, release="yes" devices are back on their host
# drivers, the others stay on vfio-pci.
virsh -q -c "$DAEMON_URI" list --all --name > "$WORK/left" 2>&1
listed=$?
remaining=$(grep -cE '^[mu][0-9]{2}$' "$WORK/left")
check "no VM of the test is left ($remaining are; virsh list exit $listed)" test "$listed" -eq 0 -a "$remaining" -eq 0
release_state() {
    local vm dev addr native drv wrong=0
    for vm in "${MATCHED[@]}"; do
        for dev in ${SNIP_DEVS[$vm]}; do
            addr=${dev%%/*}
            native=$(awk -v a="$addr" '$1 == a { print $5 }' "$HOST")
            drv=$(driver_of "$SYSFS" "$addr")
            if [ "${REL[$vm]}" = 1 ]; then
                [ "$drv" = "$native" ] && [ ! -e "$CONFIG/state/$addr.hold" ] || wrong=$((wrong + 1))
            else
                [ "$drv" = vfio-pci ] || wrong=$((wrong + 1))
            fi
        done
    done
    echo "$wrong"
}
for _ in $(seq 1 50); do
    [ "$(release_state)" -eq 0 ] && break
    sleep 0.2
done
check "release=\"yes\" devices are back on their host drivers with no hold, the others on vfio-pci ($(release_state) are not)" \
    test "$(release_state)" -eq 0
check "libvirtd is alive at the end" daemon_alive

echo "concurrency: $STARTS starts ($OK matched ok, $REFUSED refused, $(count matched_bad) bad, $UNMATCHED unmatched), $AUDIT audit records, $VIOLATIONS violations"
stop_daemon
check "the daemon (pid $DAEMON_STARTED_PID) is stopped" sh -c "! kill -0 $DAEMON_STARTED_PID 2>/dev/null"
# Any process whose command line names this test's daemon config (read
# with bash alone, so that no process of this check names it itself).
left=0
for f in /proc/[0-9]*/cmdline; do
    while IFS= read -r -d '' arg; do
        [ "$arg" = "$WORK/daemon/libvirtd.conf" ] && { left=$((left + 1)); break; }
    done < "$f" 2> /dev/null
done
check "no libvirtd with this test's config is left ($left)" test "$left" -eq 0
