#!/bin/sh
# A stand-in for the Virtualization package's start hook (its real text is
# not public): it loads what the VM manager needs before libvirtd starts.
modprobe vfio-pci
modprobe vfio_iommu_type1
