#!/bin/bash
ADDRESS="08:00.0"
VENDOR="1002"
PRODUCT="1638"
ROM="vbios_wrong.bin"  # a dump of another card
VM_NAME="Living room PC"
export VM_NAME
if [ "$TARGET_VM" == "$VM_NAME" ]; then
    /usr/local/libvirt/attach_detach_pci_from_vm.sh "ATTACH" "$ADDRESS" "$VENDOR" "$PRODUCT" "$ROM"
fi
