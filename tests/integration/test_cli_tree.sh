# `synopassthru groups --tree`: the PCI topology of each fake host as a
# tree (root buses, bridges, the functions behind them), each device with
# its group, driver and the verdict `groups` gives or what the host uses
# below it; golden files in tests/data/tree/HOST.txt.
. "$(dirname "$0")/lib.sh"

GOLDEN=$SP_SRC/tests/data/tree
CONFIG=$WORK/config
make_config "$CONFIG"

for host in amd-apu dsm-box gpu-with-bridge conc-box iommu-off; do
    make_sysfs "$WORK/sysfs-$host" "$host" "$WORK/proc-$host"
    SYNOPASSTHRU_SYSFS_ROOT=$WORK/sysfs-$host SYNOPASSTHRU_PROC_ROOT=$WORK/proc-$host \
        expect_exit 0 "groups --tree on $host" "$CLI" --config "$CONFIG" groups --tree
    matches_golden "$WORK/stdout" "$GOLDEN/$host.txt"
done

T=$GOLDEN/amd-apu.txt
contains "a switch behind the chipset bridge, two levels down" "$T" \
    "|       \\- 0000:03:00.0 [8086:15f3] Ethernet controller"
contains "the iGPU behind its internal bridge, ok" "$T" \
    "    +- 0000:08:00.0 [1002:1638] VGA compatible controller"
contains "its mark" "$T" "(driver amdgpu), group 4 [ok]"
contains "a group-mate says with whom" "$T" "(driver ahci), group 2 [shares group 2 with 0000:02:00.0"
contains "a bridge stays with the host" "$T" "(driver pcieport), group 1 [a bridge: it stays with the host]"
contains "one root bus heading per root bus" "$T" "[0000:" 3
contains "the host's own disk is marked" "$GOLDEN/dsm-box.txt" \
    "[host uses it: 0000:02:00.1 -> sda -> sda1 -> md0, mounted at /, and more]"
contains "the GPU shares its root port's group only with its audio" "$GOLDEN/gpu-with-bridge.txt" \
    "    +- 0000:01:00.0 [10de:1b80]"
contains "no IOMMU: no group" "$GOLDEN/iommu-off.txt" ", group none ["

SYNOPASSTHRU_SYSFS_ROOT=$WORK/nowhere expect_exit 3 "no sysfs: unusable input" \
    "$CLI" --config "$CONFIG" groups --tree
contains "naming the directory" "$WORK/stderr" "$WORK/nowhere/bus/pci/devices"
