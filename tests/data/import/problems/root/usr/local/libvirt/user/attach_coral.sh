#!/bin/bash
ADDRESS=""
VENDOR="1ac1"
PRODUCT="089a"
ROM=""
VM_NAME="frigate & co"
export VM_NAME
if [ "$TARGET_VM" == "$VM_NAME" ]; then
    /usr/local/libvirt/attach_detach_pci_from_vm.sh "ATTACH" "$ADDRESS" "$VENDOR" "$PRODUCT" "$ROM"
fi
