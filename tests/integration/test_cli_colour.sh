# Colour as a person meets it: doctor, groups and check typed into a shell
# in a real terminal (tmux) show green, yellow and red; the same with
# NO_COLOR=1, or piped, show no escape at all.
. "$(dirname "$0")/lib.sh"

check "tmux is installed (deploy/debian-deps.sh)" command -v tmux
unset NO_COLOR
SOCKET=sp-colour-$$
tmx() { tmux -L "$SOCKET" -f /dev/null "$@"; }
trap 'rc=$?; tmx kill-server 2> /dev/null; (exit $rc); finish' EXIT

CONFIG=$WORK/config
make_config "$CONFIG"
make_sysfs "$WORK/sysfs" amd-apu "$WORK/proc"
add_snippet "$CONFIG" bad.xml '<passthrough vm="router"><pci address="05:00.0" vendor="1002" product="1638"/></passthrough>'
add_snippet "$CONFIG" win.xml '<passthrough vm="win11"><pci address="08:00.3" vendor="1022" product="1639"/></passthrough>'
export SYNOPASSTHRU_PROC_ROOT=$WORK/proc
ESC=$(printf '\033')

tmx new-session -d -s term -x 250 -y 50 "bash --norc --noprofile"
RUNS=0
# typed NAME COMMAND: types COMMAND into the terminal's shell and saves
# what the screen shows, escapes kept, in $WORK/NAME.
typed() {
    local done=1
    RUNS=$((RUNS + 1))
    tmx send-keys -t term "clear; $2; echo __done_$RUNS" Enter
    for _ in $(seq 100); do
        tmx capture-pane -p -S - -t term | grep -qx "__done_$RUNS" && { done=0; break; }
        sleep 0.1
    done
    check "$1: finished in the terminal" test "$done" -eq 0
    tmx capture-pane -e -p -J -S - -t term > "$WORK/$1"
    tmx clear-history -t term
}

typed doctor "'$CLI' --config '$CONFIG' doctor"
contains "doctor: ok in green" "$WORK/doctor" "${ESC}[32mok"
contains "doctor: warning in yellow" "$WORK/doctor" "${ESC}[33mwarning"
contains "doctor: problem in red" "$WORK/doctor" "${ESC}[31mproblem"
typed groups "'$CLI' --config '$CONFIG' groups"
contains "groups: alone in green" "$WORK/groups" "verdict: ${ESC}[32malone"
contains "groups: with-group in yellow" "$WORK/groups" "verdict: ${ESC}[33mwith-group"
contains "groups: no in red" "$WORK/groups" "verdict: ${ESC}[31mno"
typed tree "'$CLI' --config '$CONFIG' groups --tree"
contains "groups --tree: the tree, as drawn" "$WORK/tree" "|       \\- 0000:03:00.0"
contains "groups --tree: [ok] in green" "$WORK/tree" "${ESC}[32m[ok]"
contains "groups --tree: a group-mate in yellow" "$WORK/tree" "${ESC}[33m[shares group 2 with"
contains "groups --tree: a bridge in red" "$WORK/tree" "${ESC}[31m[a bridge: it stays with the host]"
typed check "'$CLI' --config '$CONFIG' check win11"
contains "check: its verdict in green" "$WORK/check" "${ESC}[32mVM 'win11': every device passes"

typed refused "'$CLI' --config '$CONFIG' check router"
contains "check: a refusal in red" "$WORK/refused" "synopassthru: ${ESC}[31mVM 'router': device 0000:05:00.0 is 8086:10fb"
typed refused-piped "'$CLI' --config '$CONFIG' check router 2>&1 | cat"
contains "check piped: the refusal" "$WORK/refused-piped" "synopassthru: VM 'router': device 0000:05:00.0 is 8086:10fb"
contains "check piped: no escape" "$WORK/refused-piped" "$ESC[3" 0

typed no-colour "NO_COLOR=1 '$CLI' --config '$CONFIG' doctor; NO_COLOR=1 '$CLI' --config '$CONFIG' groups"
contains "NO_COLOR=1: the same lines" "$WORK/no-colour" "verdict: alone"
contains "NO_COLOR=1: no escape" "$WORK/no-colour" "$ESC[3" 0
typed piped "'$CLI' --config '$CONFIG' doctor | cat; '$CLI' --config '$CONFIG' groups | cat; '$CLI' --config '$CONFIG' groups --tree | cat"
contains "piped: the same lines" "$WORK/piped" "verdict: alone"
contains "piped: the tree too" "$WORK/piped" "group 4 [ok]"
contains "piped: no escape" "$WORK/piped" "$ESC[3" 0
typed json "'$CLI' --config '$CONFIG' doctor --json; '$CLI' --config '$CONFIG' groups --json"
contains "--json in a terminal: JSON" "$WORK/json" '"schema": 1'
contains "--json in a terminal: no escape" "$WORK/json" "$ESC[3" 0
