#!/bin/bash
ADDRESS="05:00.0"
VENDOR="10de"
PRODUCT="1b80"
ROM=$(ls /usr/local/libvirt/user/*.rom | head -n 1)
VM_NAME="Living room PC"
export VM_NAME
if [ "$TARGET_VM" == "$VM_NAME" ]; then
    /usr/local/libvirt/attach_detach_pci_from_vm.sh "ATTACH" "$ADDRESS" "$VENDOR" "$PRODUCT" "$ROM"
fi
