# Sourced by guest.sh: the same NIC, the same ROM and the same nested VM
# (SeaBIOS, its debug console captured) handed over two ways.
#   ours: the shim puts the device on QEMU's command line;
#   seed: a qemu hook hot-plugs it with virsh attach-device once started.
# Reports, relative to QEMU's launch, when the device was in the VM and when
# the firmware probed PCI, and what the firmware found. Times are seconds of
# guest uptime; this guest is itself emulated, so only the order of events
# and the ratios mean anything, not the absolute values.

# seconds_between A B: B - A, two decimals.
seconds_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
# launch_time VM: when the domain's QEMU process was started (uptime seconds).
launch_time() {
    local pid ticks
    pid=$(cat "/run/libvirt/qemu/$1.pid")
    ticks=$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f20)
    awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}
# cmp_domain VM: a domain with no hostdev whose firmware log goes to /tmp/fw-VM.log.
cmp_domain() {
    qemu_domain "$1" pc "<features><acpi/></features>" -chardev "file,id=fw,path=/tmp/fw-$1.log" \
        -device isa-debugcon,iobase=0x402,chardev=fw
}
# watch_firmware VM: waits (up to 180 s) until SeaBIOS has run the option
# ROMs; prints the uptime at which its PCI probe was first seen.
watch_firmware() {
    local log=/tmp/fw-$1.log probe=
    for _ in $(seq 1 1800); do
        [ -z "$probe" ] && grep -q 'PCI device probing' "$log" 2>/dev/null && probe=$(stamp)
        grep -q '^e820 map' "$log" 2>/dev/null && break
        sleep 0.1
    done
    echo "${probe:-none}"
}
# start_timed WHO VM: creates VM (cmp_domain) and checks that it started;
# sets create_s (how long virsh create took) and probe (watch_firmware).
start_timed() {
    local t0
    cmp_domain "$2" > "/tmp/$2.xml"
    t0=$(stamp)
    virsh create "/tmp/$2.xml" > "/tmp/$2.out" 2>&1
    check "compare: $1: the VM starts" test $? -eq 0
    create_s=$(seconds_between "$t0" "$(stamp)")
    probe=$(watch_firmware "$2")
}
# report WHO VM IN_VM_AT: the MEASURE lines for one run (uses create_s, probe).
report() {
    local who=$1 vm=$2 launch
    launch=$(launch_time "$vm")
    local fw=/tmp/fw-$vm.log
    echo "E2E: MEASURE $who virsh_create_s=$create_s"
    echo "E2E: MEASURE $who device_in_vm_after_launch_s=$(seconds_between "$launch" "$3")"
    echo "E2E: MEASURE $who firmware_pci_probe_after_launch_s=$(seconds_between "$launch" "$probe")"
    echo "E2E: MEASURE $who firmware_found=\"$(grep -o 'Found [0-9]* PCI devices' "$fw")\""
    echo "E2E: MEASURE $who firmware_init_nic=\"$(grep -o 'PCI: init bdf=[0-9a-f:.]* id=8086:10d3' "$fw")\""
    echo "E2E: MEASURE $who firmware_option_roms_run=$(grep -c 'Running option rom' "$fw")"
}

synopassthru release --force "$nic" > /dev/null 2>&1

# Ours.
start_timed ours cmp-ours
qemu_cmdline cmp-ours /tmp/cmp-ours.cmdline
check "compare: ours has the device in QEMU's argv" grep -q '"driver":"vfio-pci"' /tmp/cmp-ours.cmdline
# In argv: in the VM from the moment QEMU exists.
report ours cmp-ours "$(launch_time cmp-ours)"
check "compare: ours: the firmware initialised the NIC" grep -q 'id=8086:10d3' /tmp/fw-cmp-ours.log
virsh destroy cmp-ours > /dev/null 2>&1
synopassthru release --force "$nic" > /dev/null

# The seed's hook (installed by guest.sh before its last daemon restarts:
# libvirt looks for hooks only when it starts).
rm -f /tmp/seed.log
start_timed seed cmp-seed
for _ in $(seq 1 600); do grep -q '^attached' /tmp/seed.log 2>/dev/null && break; sleep 0.1; done
cat /tmp/seed.log
attached=$(sed -n 's/^attached rc=0 //p' /tmp/seed.log)
check "compare: the seed's hook hot-plugged the NIC" test -n "$attached"
report seed cmp-seed "${attached:-0}"
# libvirt runs the started hook once the vCPUs run, that is, once the
# firmware has begun; the hot-plug can only come after that.
hook_at=$(sed -n 's/^hook //p' /tmp/seed.log)
echo "E2E: MEASURE seed hook_after_launch_s=$(seconds_between "$(launch_time cmp-seed)" "${hook_at:-0}")"
echo "E2E: MEASURE seed device_after_firmware_probe_s=$(seconds_between "$probe" "${attached:-0}")"
virsh qemu-monitor-command cmp-seed --hmp 'info pci' > /tmp/cmp-seed.pci 2>&1
check "compare: the seed's NIC is in the VM by now" grep -q 'Ethernet controller' /tmp/cmp-seed.pci
virsh destroy cmp-seed > /dev/null 2>&1
rm -f /etc/libvirt/hooks/qemu
# Undo the seed's new_id binding: the NIC goes back to e1000e.
echo "8086 10d3" > /sys/bus/pci/drivers/vfio-pci/remove_id
echo "$nic" > "/sys/bus/pci/drivers/vfio-pci/unbind"
echo "$nic" > /sys/bus/pci/drivers_probe
check "compare: the NIC is back on e1000e" test "$(driver_of "$nic")" = e1000e
