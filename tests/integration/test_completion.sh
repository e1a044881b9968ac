# The bash completion (deploy/bash-completion/synopassthru): sourced into
# this bash, run on command lines split as readline splits them, against a
# fake host and a config dir with ROMs and snippets, with the real CLI on
# PATH. Its option lists are compared with the CLI's command table.
. "$(dirname "$0")/lib.sh"

SCRIPT=$SP_SRC/deploy/bash-completion/synopassthru
check "the completion script is bash" bash -n "$SCRIPT"
# shellcheck source=/dev/null
. "$SCRIPT"
complete -p synopassthru > "$WORK/registered" 2>&1
contains "it registers its function for synopassthru" "$WORK/registered" "-F _synopassthru synopassthru"

make_sysfs "$WORK/sysfs"
# An address outside domain 0000 is shown whole.
mkdir -p "$WORK/sysfs/bus/pci/devices/0001:00:00.0"
CONF=$WORK/conf
make_config "$CONF"
add_rom "$CONF" vbios_1002_1638.bin
add_rom "$CONF" AMDGopDriver_5600G.rom
add_snippet "$CONF" living.xml '<passthrough vm="Living room PC"><pci address="08:00.0"/></passthrough>'
add_snippet "$CONF" uuid.xml "<passthrough vm='591328d9-88d5-42aa-9551-bb793c3330cf'>
  <pci address=\"05:00.0\"/></passthrough>"
add_snippet "$CONF" media.xml '<passthrough bind="no" vm="media&amp;tv"><pci address="06:00.0"/></passthrough>'
add_snippet "$CONF" notes.txt '<passthrough vm="not a snippet"/>'
OTHER=$WORK/other
make_config "$OTHER"
add_snippet "$OTHER" nas.xml '<passthrough vm="nas-vm"><pci address="05:00.0"/></passthrough>'
mkdir -p "$WORK/bin" "$WORK/cwd/sub.d"
ln -s "$CLI" "$WORK/bin/synopassthru"
export PATH=$WORK/bin:$PATH
export SYNOPASSTHRU_CONFIG_DIR=$CONF
cd "$WORK/cwd" || exit 1

# split LINE: COMP_WORDS and COMP_CWORD as readline makes them for a cursor
# at the end of LINE: words at blanks outside quotes, ':' a word of its own.
split() {
    local line=$1 w= q= i c
    COMP_WORDS=()
    for ((i = 0; i < ${#line}; i++)); do
        c=${line:i:1}
        if [[ -n $q ]]; then
            w+=$c
            [[ $c == "$q" ]] && q=
            continue
        fi
        case $c in
        \\) w+=$c${line:i+1:1}; ((i++)) ;;
        \" | \') q=$c; w+=$c ;;
        ' ') [[ -n $w ]] && COMP_WORDS+=("$w"); w= ;;
        :) [[ -n $w ]] && COMP_WORDS+=("$w"); COMP_WORDS+=(":"); w= ;;
        *) w+=$c ;;
        esac
    done
    if [[ -n $w || $line == *' ' ]]; then COMP_WORDS+=("$w"); fi
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE=$line
    COMP_POINT=${#line}
}

# completes "what" LINE WANT...: the replies, in order, are WANT.
completes() {
    local what=$1 line=$2
    shift 2
    split "$line"
    COMPREPLY=()
    _synopassthru synopassthru "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    local got want
    got=$(printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort)
    want=$(printf '%s\n' "$@" | LC_ALL=C sort)
    if [ "$got" = "$want" ]; then
        pass "$what"
    else
        fail "$what: '$line' gave [$(echo $got)], want [$(echo $want)]"
    fi
}

# The option lists against the command table of cli/main.c.
sed -n 's/^ *{"\([a-z-]*\)", sp_cmd_[a-z_]*, "\([^"]*\)".*/\1|\2/p' "$SP_SRC/cli/main.c" \
    > "$WORK/table"
check "the command table has commands" test "$(wc -l < "$WORK/table")" -ge 10
while IFS='|' read -r cmd options; do
    check "the script knows the command $cmd" grep -qw -- "$cmd" <<< "$_synopassthru_commands"
    check "the script has $cmd's options as the table ($options)" \
        test "$(_synopassthru_cmd_options "$cmd")" = "$options"
done < "$WORK/table"

completes "the commands" "synopassthru " $_synopassthru_commands
completes "a command by its start" "synopassthru ch" check
completes "the global options" "synopassthru --" --config --help --version
completes "a command after --config DIR" "synopassthru --config $OTHER gr" groups
completes "--config takes a directory" "synopassthru --config $WORK/cw" "$WORK/cwd"
completes "check's options" "synopassthru check --" --json --domain --connect --help --config
completes "rom's options" "synopassthru rom extract -" --json --for --vfct --pci -o --force -h --help --config
completes "add's options" "synopassthru add x 08:00.0 --" --rom --functions --no-bind --release \
    --dry-run --connect --help --config
completes "remove's options" "synopassthru remove x --" --dry-run --connect --help --config
completes "the VM after --connect URI" "synopassthru remove --connect test:///default Liv" 'Living\ room\ PC'
completes "--functions takes all" "synopassthru add x 08:00.0 --functions " all

# VMs: `synopassthru vms --names`, or the snippets' vm= when it fails.
completes "VM names and titles, quoted" "synopassthru add " 'Living\ room\ PC' \
    591328d9-88d5-42aa-9551-bb793c3330cf 'media\&tv'
completes "a title by its start" "synopassthru check Liv" 'Living\ room\ PC'
completes "a title after a backslashed blank" 'synopassthru check Living\ r' 'Living\ room\ PC'
completes "a title in the quote it was opened with" 'synopassthru log "Liv' '"Living room PC"'
completes "(or single quotes)" "synopassthru log 'Liv" "'Living room PC'"
completes "--vm takes a VM" "synopassthru bind --vm 59" 591328d9-88d5-42aa-9551-bb793c3330cf
completes "the VMs of the config dir on the line" "synopassthru --config $OTHER check " nas-vm
completes "(given after the command too)" "synopassthru remove --config $OTHER " nas-vm
completes "no VM after the first word of check" "synopassthru check nas-vm "

# PCI addresses from the fake sysfs, short in domain 0000.
completes "addresses after the VM" "synopassthru add nas-vm 0" 00:00.0 00:01.1 00:02.1 00:08.1 \
    01:00.0 02:00.0 02:00.1 02:00.2 03:00.0 05:00.0 06:00.0 08:00.0 08:00.1 08:00.2 08:00.3 \
    08:00.4 08:00.6 0001:00:00.0
completes "another address after one" "synopassthru add 'Living room PC' 08:00.0 05" 05:00.0
completes "the functions of a slot, after readline's ':'" "synopassthru add nas-vm 08:00." \
    00.0 00.1 00.2 00.3 00.4 00.6
completes "(right after the ':')" "synopassthru bind 03:" 00.0
completes "a whole address in another domain" "synopassthru release 0001:00:0" 00.0
completes "--for takes an address" "synopassthru rom extract --vfct --for 08:00.1" 00.1
completes "--pci takes an address" "synopassthru rom extract --pci 06" 06:00.0
completes "addresses after an option's value and a split address" "synopassthru bind --vm nas-vm 08:00.0 " \
    00:00.0 00:01.1 00:02.1 00:08.1 01:00.0 02:00.0 02:00.1 02:00.2 03:00.0 05:00.0 06:00.0 \
    08:00.0 08:00.1 08:00.2 08:00.3 08:00.4 08:00.6 0001:00:00.0

# ROMs: the config's rom/ and files from here; directories and files.
completes "--rom takes a ROM of rom/" "synopassthru add x 08:00.0 --rom " \
    AMDGopDriver_5600G.rom vbios_1002_1638.bin sub.d
completes "rom info takes a ROM" "synopassthru rom info vb" vbios_1002_1638.bin
completes "rom's subcommands" "synopassthru rom " info extract
completes "inject's targets" "synopassthru inject " systemd dsm
touch "$WORK/cwd/vm.xml"
completes "--domain takes a file" "synopassthru check x --domain v" vm.xml
completes "preview takes a file" "synopassthru preview " sub.d vm.xml
completes "--root takes a directory" "synopassthru setup --root s" sub.d

# The values of the newer options: units, times, libvirt URIs.
completes "--unit takes a daemon's unit" "synopassthru doctor --unit " pkg-libvirtd libvirtd virtqemud
completes "(by its start)" "synopassthru setup --unit pkg" pkg-libvirtd
completes "--root takes a directory (doctor)" "synopassthru doctor --root s" sub.d
completes "--since takes a span or today's date" "synopassthru log --since " \
    30m 1h 12h 1d 2d 1w "$(date +%F)"
completes "(by its start)" "synopassthru log x --since 1" 1h 12h 1d 1w
completes "--connect takes a URI" "synopassthru vms --connect " qemu:///system qemu:///session
completes "(for check, after readline's ':', by its start)" "synopassthru check x --connect qemu:///sy" ///system
LIBVIRT_DEFAULT_URI="test+unix:///default?socket=/run/x" \
    completes "(and \$LIBVIRT_DEFAULT_URI)" "synopassthru vms --connect t" "test+unix:///default?socket=/run/x"
completes "(after readline's ':')" "synopassthru vms --connect qemu:" ///system ///session
