#!/bin/bash
ADDRESS=""
VENDOR="15ad"
PRODUCT="0405"
ROM=""
VM_NAME="Living room PC"
export VM_NAME
if [ "$TARGET_VM" == "$VM_NAME" ]; then
    /usr/local/libvirt/attach_detach_pci_from_vm.sh "DETACH" "$ADDRESS" "$VENDOR" "$PRODUCT" "$ROM"
fi
