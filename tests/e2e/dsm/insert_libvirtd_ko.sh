#!/bin/sh
# A stand-in for the Virtualization package's start hook on DSM, which loads
# the kernel modules the VM manager needs before its libvirt daemon starts.
modprobe vfio-pci
modprobe vfio_iommu_type1
