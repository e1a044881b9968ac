#!/bin/bash
ADDRESS="05:00.0"
VENDOR="8086"
PRODUCT="10fb"
VM_NAME="Living room PC"
export VM_NAME
if [ "$TARGET_VM" == "$VM_NAME" ]; then
    /usr/local/libvirt/attach_detach_pci_from_vm.sh "DETACH" "$ADDRESS" "$VENDOR" "$PRODUCT"
fi
