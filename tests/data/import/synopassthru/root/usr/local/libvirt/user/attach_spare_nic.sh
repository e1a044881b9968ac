#!/bin/bash
# Written once, never added to the master: import must not take it.
ADDRESS="03:00.0"
VENDOR="8086"
PRODUCT="15f3"
ROM=""
VM_NAME="591328d9-88d5-42aa-9551-bb793c3330cf"
export VM_NAME
if [ "$TARGET_VM" == "$VM_NAME" ]; then
    /usr/local/libvirt/attach_detach_pci_from_vm.sh "ATTACH" "$ADDRESS" "$VENDOR" "$PRODUCT" "$ROM"
fi
