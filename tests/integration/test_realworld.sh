#!/bin/bash
# test_realworld.sh: runs `synopassthru preview` over real-world domain XML, the
# inputs of libvirt's own test suite (tests/qemuxml2argvdata of the Debian source
# package of the installed libvirt, fetched once with `apt-get source` into
# $SP_BUILD/libvirt-src). For a deterministic sample of schema-valid inputs it
# passes 08:00.0 (with a ROM), 08:00.1 and 03:00.0 through and checks that:
#   (a) preview exits 0            (b) the output validates (virt-xml-validate)
#   (c) domdiff proves the output is the input plus added elements only
#   (d) the expected number of new hostdevs is there, for the right devices
#   (e) preview of the output gives it back byte for byte
# Needs deb-src entries in the apt sources (see .ci/run); it never skips.
set -euo pipefail

SP_BUILD=${SP_BUILD:-$(pwd)/build}
CLI=$SP_BUILD/synopassthru
DOMDIFF=$SP_BUILD/tests/domdiff
MKFAKESYSFS=$SP_BUILD/tests/mkfakesysfs
CACHE=$SP_BUILD/libvirt-src

# Sample sizes: per name pattern first, then an even spread over the rest.
SAMPLE_TOTAL=44
MIN_VALID=20
MIN_Q35=8
WANTED=(0000:08:00.0 0000:08:00.1 0000:03:00.0)

die() {
    printf 'test_realworld: %s\n' "$@" >&2
    exit 1
}

for tool in apt-get dpkg-query dpkg-source xmllint virt-xml-validate cmp awk; do
    command -v "$tool" >/dev/null || die "needs '$tool' on PATH"
done
for bin in "$CLI" "$DOMDIFF" "$MKFAKESYSFS"; do
    [ -x "$bin" ] || die "$bin is missing: run 'make all build/tests/mkfakesysfs build/tests/domdiff'"
done

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# --- libvirt's test data ------------------------------------------------------

# Source package and version of the installed libvirt (the one whose schemas
# virt-xml-validate uses).
installed_libvirt() {
    dpkg-query -W -f='${db:Status-Status} ${source:Package} ${source:Version}\n' \
        libvirt-clients libvirt0 2>/dev/null | awk '$1 == "installed" { print $2, $3; exit }'
}

apt_source_failed() {
    local spec=$1 log=$2
    {
        echo
        echo "########################################################################"
        echo "ERROR: 'apt-get source $spec' failed: cannot get libvirt's source package."
        echo "This test needs the libvirt test data from the Debian source package, so"
        echo "deb-src entries MUST be enabled in the apt sources and 'apt-get update'"
        echo "MUST have been run first (as .ci/run does), e.g. a file"
        echo "/etc/apt/sources.list.d/deb-src.sources holding the deb entries of"
        echo "/etc/apt/sources.list.d/debian.sources with 'Types: deb-src'."
        echo "This test is never skipped. apt-get said:"
        sed 's/^/    /' "$log" | tail -n 15
        echo "########################################################################"
    } >&2
    exit 1
}

# Prints the extracted source tree, downloading and extracting it only when
# the cache does not hold it yet.
libvirt_tree() {
    local found pkg ver
    found=$(installed_libvirt)
    [ -n "$found" ] || die "libvirt is not installed (no libvirt-clients or libvirt0 package)"
    read -r pkg ver <<<"$found"
    local tree=$CACHE/$pkg-$ver
    if [ -f "$tree/.sp-extracted" ]; then
        echo "$tree"
        return
    fi
    echo "fetching the $pkg $ver source package into $CACHE" >&2
    local dl=$CACHE/download
    rm -rf "$dl" "$tree" "$tree.partial"
    mkdir -p "$dl"
    if ! (cd "$dl" && apt-get source --download-only "$pkg=$ver") >"$TMP/apt.log" 2>&1; then
        rm -rf "$dl"
        apt_source_failed "--download-only $pkg=$ver" "$TMP/apt.log"
    fi
    local dsc=$dl/${pkg}_${ver#*:}.dsc
    [ -f "$dsc" ] || die "apt-get source gave no $dsc"
    dpkg-source -x "$dsc" "$tree.partial" >"$TMP/dpkg-source.log" 2>&1 ||
        { cat "$TMP/dpkg-source.log" >&2; die "dpkg-source -x $dsc failed"; }
    touch "$tree.partial/.sp-extracted"
    mv "$tree.partial" "$tree"
    # dpkg-source leaves a copy of the upstream tarball next to the tree.
    rm -rf "$dl" "$CACHE/${pkg}_${ver%%-*}".orig.tar.*
    echo "$tree"
}

TREE=$(libvirt_tree)
DATA=$TREE/tests/qemuxml2argvdata
[ -d "$DATA" ] || die "$DATA does not exist: this libvirt keeps its test inputs elsewhere"
echo "libvirt test data: $DATA"

# --- choosing the inputs ----------------------------------------------------------

mapfile -t ALL < <(cd "$DATA" && find . -maxdepth 1 \( -type f -o -type l \) -name '*.xml' -printf '%f\n' |
    LC_ALL=C sort)
[ ${#ALL[@]} -gt 0 ] || die "no *.xml under $DATA"

declare -A VALID=()   # file -> 1 valid, 0 invalid (each validated once)
declare -A CHOSEN=()
SELECTED=()
INVALID=()

is_valid() {
    local f=$1
    if [ -z "${VALID[$f]+set}" ]; then
        if virt-xml-validate "$DATA/$f" domain >/dev/null 2>&1; then
            VALID[$f]=1
        else
            VALID[$f]=0
            INVALID+=("$f")
        fi
    fi
    [ "${VALID[$f]}" = 1 ]
}

# Orders a list evenly spread first: with quota k of n names, the names at
# i*n/k come first (a sample over the whole list, not its first k names),
# then all the others in order as replacements for invalid ones.
spread() {
    awk -v k="$1" '{ name[NR - 1] = $0 }
        END {
            n = NR
            for (i = 0; i < k && i < n; i++) { j = int(i * n / k); first[j] = 1; print name[j] }
            for (j = 0; j < n; j++) if (!(j in first)) print name[j]
        }'
}

# pick QUOTA REGEX: adds up to QUOTA valid, not yet chosen inputs whose
# names match REGEX (extended); sets PICKED to how many it added.
pick() {
    local quota=$1 regex=$2 added=0 f
    while IFS= read -r f; do
        [ $added -lt "$quota" ] || break
        [ -z "${CHOSEN[$f]+set}" ] || continue
        is_valid "$f" || continue
        CHOSEN[$f]=1
        SELECTED+=("$f")
        added=$((added + 1))
    done < <(printf '%s\n' "${ALL[@]}" | grep -E -- "$regex" | spread "$quota")
    PICKED=$added
}

pick 10 'q35'
n_q35=$PICKED
pick 6 'hostdev'
pick 6 'pci'
pick 5 'qemu-ns|commandline'
pick 4 '(^|[-_.])pc([-_.]|$)'
pick $((SAMPLE_TOTAL - ${#SELECTED[@]})) '.'

echo "inputs: ${#SELECTED[@]} selected ($n_q35 q35), ${#INVALID[@]} invalid skipped" \
     "(failed virt-xml-validate), of ${#ALL[@]} in the data dir"
[ ${#INVALID[@]} -eq 0 ] || printf '  invalid: %s\n' "${INVALID[@]}"
[ ${#SELECTED[@]} -ge $MIN_VALID ] ||
    die "only ${#SELECTED[@]} valid inputs found, need at least $MIN_VALID"
[ "$n_q35" -ge $MIN_Q35 ] || die "only $n_q35 valid q35 inputs found, need at least $MIN_Q35"

# --- helpers --------------------------------------------------------------------

# Host PCI addresses, as 0000:08:00.0, of the <address> elements on stdin
# (as xmllint prints them). Numbers as libvirt reads them: "0x08" or "8";
# a missing domain or function is 0; anything else gives -1 (never matches).
normalize_addresses() {
    awk -v q="'" '
        function num(v,    i, n, digits) {
            if (v == "") return 0
            if (v ~ /^0[xX][0-9a-fA-F]+$/) { v = tolower(substr(v, 3)); digits = "0123456789abcdef" }
            else if (v ~ /^[0-9]+$/) digits = "0123456789"
            else return -1
            n = 0
            for (i = 1; i <= length(v); i++) n = n * length(digits) + index(digits, substr(v, i, 1)) - 1
            return n
        }
        function attr(el, name) {
            if (!match(el, "[ \t\n]" name "=(\"[^\"]*\"|" q "[^" q "]*" q ")")) return ""
            return substr(el, RSTART + length(name) + 3, RLENGTH - length(name) - 4)
        }
        {
            rest = $0
            while (match(rest, /<address[^>]*>/)) {
                el = substr(rest, RSTART, RLENGTH)
                rest = substr(rest, RSTART + RLENGTH)
                d = num(attr(el, "domain")); b = num(attr(el, "bus"))
                s = num(attr(el, "slot")); f = num(attr(el, "function"))
                if (d < 0 || b < 0 || s < 0 || f < 0) print "invalid"
                else printf "%04x:%02x:%02x.%x\n", d, b, s, f
            }
        }'
}

# Host PCI addresses a document already passes through: PCI subsystem
# hostdevs and <interface type='hostdev'> (the shim adds neither twice).
host_addresses() {
    xmllint --xpath '/domain/devices/hostdev[@type="pci" and (not(@mode) or @mode="subsystem")]/source/address | /domain/devices/interface[@type="hostdev"]/source/address' \
        "$1" 2>/dev/null | normalize_addresses || true
}

count_hostdevs() {
    xmllint --xpath 'count(/domain/devices/hostdev)' "$1" 2>/dev/null || echo -1
}

xml_escape() {
    local v=$1
    v=${v//"&"/"&amp;"}
    v=${v//"<"/"&lt;"}
    v=${v//">"/"&gt;"}
    v=${v//'"'/"&quot;"}
    printf '%s' "$v"
}

# A fake host with the three devices, shared (read-only) by every case.
SYSFS=$TMP/sysfs
cat >"$TMP/sysfs.spec" <<'EOF'
0000:08:00.0 1002 1638 0x030000 amdgpu
0000:08:00.1 1002 1637 0x040300 snd_hda_intel
0000:03:00.0 1022 1639 0x0c0330 xhci_hcd
EOF
"$MKFAKESYSFS" "$SYSFS" "$TMP/sysfs.spec" || die "mkfakesysfs failed"
export SYNOPASSTHRU_SYSFS_ROOT=$SYSFS
unset SYNOPASSTHRU_CONFIG_DIR
# The config must belong to root; when not running as root, trust our uid.
if [ "$(id -u)" -ne 0 ]; then
    SYNOPASSTHRU_TRUSTED_UID=$(id -u)
    export SYNOPASSTHRU_TRUSTED_UID
fi

passed=0 failed=0 cases=0 clean_cases=0

fail() { # fail LABEL CHECK MESSAGE [FILE-TO-SHOW]
    failed=$((failed + 1))
    echo "FAIL $1: check $2: $3"
    if [ -n "${4:-}" ] && [ -s "$4" ]; then
        sed 's/^/    | /' "$4" | head -n 30
    fi
}

# run_case LABEL INPUT
run_case() {
    local label=$1 input=$2
    local work=$TMP/case-$cases
    cases=$((cases + 1))
    local cfg=$work/config out=$work/out.xml again=$work/again.xml err=$work/stderr
    install -d -m 755 "$work" "$cfg" "$cfg/vm.d" "$cfg/rom"
    "$SP_BUILD/tests/mkrom" legacy "$cfg/rom/vbios.bin"  # a valid x86 image for 1002:1638

    local name
    name=$(xmllint --xpath 'string(/domain/name)' "$input" 2>/dev/null || true)
    name=${name#"${name%%[![:space:]]*}"}
    name=${name%"${name##*[![:space:]]}"}
    if [ -z "$name" ]; then
        fail "$label" "(setup) name" "no /domain/name in the input"
        return
    fi
    # bind="no": this test is about the XML (the helper's checks of the
    # fake host are other tests' business), so preview runs no vfio check.
    cat >"$cfg/vm.d/vm.xml" <<EOF
<passthrough vm="$(xml_escape "$name")" bind="no">
  <pci address="08:00.0" rom="vbios.bin"/>
  <pci address="08:00.1"/>
  <pci address="03:00.0"/>
</passthrough>
EOF
    chmod 644 "$cfg/vm.d/vm.xml" "$cfg/rom/vbios.bin"

    # What the input already passes through decides how many are added.
    local present expected=0 a
    present=$(host_addresses "$input")
    local -a to_add=()
    for a in "${WANTED[@]}"; do
        grep -qxF "$a" <<<"$present" || { to_add+=("$a"); expected=$((expected + 1)); }
    done

    # (a) preview prints
    local rc=0
    "$CLI" preview --config "$cfg" "$input" >"$out" 2>"$err" || rc=$?
    if [ $rc -ne 0 ]; then
        fail "$label" "(a) preview exit" "exit $rc, expected 0 (later checks skipped)" "$err"
        return
    fi
    passed=$((passed + 1))
    local ok=1

    # (b) libvirt's schema accepts the output
    if virt-xml-validate "$out" domain >"$work/validate.log" 2>&1; then
        passed=$((passed + 1))
    else
        fail "$label" "(b) virt-xml-validate" "the output does not validate" "$work/validate.log"
        ok=0
    fi

    # (c) nothing but additions
    rc=0
    "$DOMDIFF" "$input" "$out" >"$work/domdiff.log" 2>&1 || rc=$?
    if [ $rc -eq 0 ]; then
        passed=$((passed + 1))
    else
        fail "$label" "(c) domdiff" "exit $rc" "$work/domdiff.log"
        ok=0
    fi

    # (d) the right hostdevs, each once, the ROM on 08:00.0
    local n_in n_out problems=""
    n_in=$(count_hostdevs "$input")
    n_out=$(count_hostdevs "$out")
    [ $((n_out - n_in)) -eq $expected ] ||
        problems+="$((n_out - n_in)) new hostdevs, expected $expected; "
    local after
    after=$(host_addresses "$out")
    for a in "${WANTED[@]}"; do
        local times
        times=$(grep -cxF "$a" <<<"$after" || true)
        [ "$times" -eq 1 ] || problems+="$a passed through $times times; "
    done
    if printf '%s\n' "${to_add[@]}" | grep -qxF 0000:08:00.0; then
        local rom_on
        rom_on=$(xmllint --xpath "/domain/devices/hostdev[rom/@file='$cfg/rom/vbios.bin']/source/address" \
            "$out" 2>/dev/null | normalize_addresses | tr "\n" " " || true)
        [ "$rom_on" = "0000:08:00.0 " ] ||
            problems+="ROM $cfg/rom/vbios.bin is on '${rom_on% }', expected 0000:08:00.0; "
    fi
    if [ -z "$problems" ]; then
        passed=$((passed + 1))
    else
        fail "$label" "(d) hostdevs" "${problems%; }"
        ok=0
    fi

    # (e) a second pass changes nothing
    rc=0
    "$CLI" preview --config "$cfg" "$out" >"$again" 2>"$err" || rc=$?
    if [ $rc -eq 0 ] && cmp -s "$out" "$again"; then
        passed=$((passed + 1))
    else
        if [ $rc -eq 0 ]; then
            diff "$out" "$again" >"$err" || true
        fi
        fail "$label" "(e) idempotence" "second preview: exit $rc, output $(
            cmp -s "$out" "$again" && echo same || echo differs)" "$err"
        ok=0
    fi

    if [ $ok = 1 ]; then
        clean_cases=$((clean_cases + 1))
        echo "ok   $label ($expected added)"
    fi
}

# --- the real inputs ---------------------------------------------------------------

start=$SECONDS
for f in "${SELECTED[@]}"; do
    run_case "$f" "$DATA/$f"
done

# --- inputs that already pass some of the devices through -------------------------
# No libvirt input uses these host addresses, so two are derived from the
# first valid inputs with one and with two PCI hostdevs: their first hostdev
# sources are moved onto our devices (the rest of the document unchanged);
# the shim must add only the devices still missing.

# derive INPUT OUTPUT ADDR...: rewrites the source <address> of the first
# PCI hostdevs (libvirt's one-element-a-line layout) to ADDR... in order.
derive() {
    local input=$1 output=$2
    shift 2
    awk -v addrs="$*" -v q="'" '
        BEGIN { n = split(addrs, want, " "); used = 0 }
        /<hostdev[^>]*type=.pci./ { in_hd = 1 }
        in_hd && /<source>/ { in_src = 1 }
        in_src && /<address / && used < n {
            split(want[++used], p, /[:.]/)
            line = $0
            sub(/<address .*\/>/, "<address domain=" q "0x" p[1] q " bus=" q "0x" p[2] q \
                " slot=" q "0x" p[3] q " function=" q "0x" p[4] q "/>", line)
            print line
            in_src = 0; in_hd = 0
            next
        }
        /<\/source>/ { in_src = 0 }
        /<\/hostdev>/ { in_hd = 0 }
        { print }' "$input" >"$output"
}

derived_case() { # derived_case MIN_HOSTDEVS ADDR...
    local need=$1 f
    shift
    for f in "${ALL[@]}"; do
        grep -q "<hostdev mode='subsystem' type='pci'" "$DATA/$f" || continue
        [ "$(host_addresses "$DATA/$f" | grep -c '^0000:' || true)" -ge "$need" ] || continue
        is_valid "$f" || continue
        local derived=$TMP/derived-$need-$f
        derive "$DATA/$f" "$derived" "$@"
        local have
        have=$(host_addresses "$derived")
        local a missing=0
        for a in "$@"; do grep -qxF "$a" <<<"$have" || missing=1; done
        [ $missing = 0 ] || continue
        virt-xml-validate "$derived" domain >/dev/null 2>&1 || continue
        run_case "derived:${f}[$*]" "$derived"
        return
    done
    fail "derived" "(setup)" "no valid input with $need PCI hostdevs to derive from"
}

derived_case 1 0000:08:00.1
derived_case 2 0000:08:00.0 0000:03:00.0

secs=$((SECONDS - start))
echo "cases: $cases run ($clean_cases clean), ${#SELECTED[@]} real inputs + derived ones;" \
     "${#INVALID[@]} invalid inputs skipped; ${secs}s"
echo "checks: $passed passed, $failed failed"
[ $failed -eq 0 ]
