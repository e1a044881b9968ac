#!/bin/bash
# Rung 4: boots a real kernel under QEMU (software emulation, an emulated
# Intel IOMMU, a spare e1000e, and two e1000 behind a conventional PCI
# bridge, which share an IOMMU group) with the host's /usr, /etc, /var and this
# project shared read-only over 9p, runs tests/e2e/guest.sh in it and reads
# its verdict from the serial console. Fails loudly with the log's tail.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/../.." && pwd)
build=${SP_BUILD:-$project/build}
work=$(mktemp -d "${TMPDIR:-/tmp}/sp-e2e-XXXXXX")
trap 'rm -rf "$work"' EXIT
kernel=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -1)
[ -n "$kernel" ] || { echo "e2e: no kernel in /boot (install linux-image-amd64)"; exit 1; }
kver=${kernel#/boot/vmlinuz-}
for f in "$build/libsynopassthru.so" "$build/synopassthru" "$build/synopassthru-vfio"; do
    [ -x "$f" ] || [ -f "$f" ] || { echo "e2e: $f is missing: run make"; exit 1; }
done
"$here/build-initramfs.sh" "$kver" "$work/initrd.gz"
log=$work/serial.log
share() { echo "-fsdev local,id=$1,path=$2,security_model=none,readonly=on -device virtio-9p-pci,fsdev=$1,mount_tag=$1"; }
start=$EPOCHREALTIME
# shellcheck disable=SC2046
timeout 600 qemu-system-x86_64 \
    -machine q35,kernel-irqchip=split -accel tcg -cpu max \
    -device intel-iommu,intremap=on,caching-mode=on \
    -m 2G -smp 2 \
    -netdev user,id=n0 -device e1000e,netdev=n0 \
    -device pci-bridge,id=br1,chassis_nr=1 \
    -netdev user,id=n1 -device e1000,netdev=n1,bus=br1,addr=1 \
    -netdev user,id=n2 -device e1000,netdev=n2,bus=br1,addr=2 \
    $(share usr /usr) $(share etc /etc) $(share var /var) $(share project "$project") \
    -kernel "$kernel" -initrd "$work/initrd.gz" \
    -append "console=ttyS0 intel_iommu=on iommu=pt panic=-1 sp.project=$project sp.build=$build systemd.unit=sp-e2e.target systemd.show_status=false" \
    -display none -serial "file:$log" -no-reboot || true
cp "$log" "$build/e2e-serial.log" 2>/dev/null || true
secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
grep '^E2E: ' "$log" | tr -d '\r' || true
if ! grep -q '^E2E: DONE' "$log"; then
    echo "e2e: the guest did not finish (${secs}s); the serial log's tail:"
    tail -n 60 "$log" | sed 's/^/    | /'
    exit 1
fi
echo "e2e: guest run took ${secs}s"
if grep -q '^E2E: FAIL' "$log"; then
    echo "e2e: failed; the serial log's tail:"
    tail -n 60 "$log" | tr -d '\r' | sed 's/^/    | /'
    exit 1
fi
grep -q '^E2E: [1-9][0-9]* passed, 0 failed' "$log" || { echo "e2e: no checks passed"; exit 1; }
echo "e2e: all checks passed"
