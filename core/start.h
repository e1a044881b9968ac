/* start: the decision for one VM start, shared by the shim and `preview`.
 * Owns the sequence: identify the VM, find its snippets, resolve and check
 * its devices under the sysfs root, check ROMs, merge with xmlpatch. Never
 * calls libvirt and never writes anything: the caller forwards the XML and
 * writes the audit record. */
#ifndef SP_START_H
#define SP_START_H

#include <stddef.h>

#include "../common/err.h"
#include "../config/config.h"
#include "../pci/pci.h"
#include "../xmlpatch/domain.h"
#include "../xmlpatch/xmlpatch.h"

enum sp_verdict {
    SP_UNMATCHED, /* no snippet names the VM: forward the original bytes */
    SP_READY,     /* matched and checked: forward st->xml */
    SP_REFUSED,   /* matched but its devices cannot be given: fail the start */
    SP_BAD_INPUT, /* the domain XML itself is unusable (libvirt will say so) */
};

struct sp_resolved_dev {
    int has_addr;
    struct sp_pci_addr addr;
    int has_ids;
    struct sp_pci_ids ids; /* as read from sysfs */
    char *rom;             /* absolute path, or NULL */
    const char *raw_xml;   /* points into the snapshot */
    int bind;
    int release;           /* back to the host driver when the VM stops */
    int allow_host_use;    /* host_use="allow" (see vfio/hostuse.h) */
    int rom_bar_off;       /* rombar="off": <rom bar='off'/> */
    const char *file;      /* snippet, points into the snapshot */
    int line;
    const char *joined;    /* functions="all" took it: why; NULL when named */
    char *rom_note;        /* its ROM fits on a rule worth saying (malloc'd), or NULL */
    int rom_read;          /* its ROM's content was read and taken: the two below hold */
    int rom_uefi;          /* the ROM holds an EFI driver x64 UEFI runs (x64 or EBC) */
    int rom_bios;          /* the ROM holds an x86 image SeaBIOS runs for this device */
};

/* What the domain boots: SeaBIOS is libvirt's default; a domain without
 * <os> (check's stand-in for a VM it has not seen) is not known. */
enum sp_firmware {
    SP_FIRMWARE_UNKNOWN,
    SP_FIRMWARE_BIOS,
    SP_FIRMWARE_UEFI,
};

struct sp_start {
    enum sp_verdict verdict;
    struct sp_snapshot *snap; /* referenced for the life of the start */
    struct sp_domain_id id;
    char *label;              /* how messages name the VM */
    const struct sp_vm_entry *entries[SP_VM_KEYS];
    size_t n_entries;
    struct sp_resolved_dev *devs;
    size_t n_devs;
    enum sp_firmware firmware;
    char *xml; /* SP_READY: the bytes to give libvirt */
    size_t xml_len;
    struct sp_patch_report report;
    struct sp_err err; /* SP_REFUSED / SP_BAD_INPUT: the reason */
    char **warnings;   /* what a start says but lets through: ROMs that rom_check = warn
                        * passes or the VM's firmware cannot use, devices the kernel
                        * cannot reset */
    size_t n_warnings;
    char *reset_note;  /* the devices the kernel cannot reset, for the record of a start
                        * libvirt fails; NULL when there are none */
};

/* The verdict on a device's ROM as a start makes it, through one fd: 1 it
 * lies in rom_dir, passes StrictModes, parses and names the device; 0 not
 * (why says so, naming the ROM and the device). */
int sp_start_rom_fits(const struct sp_start *st, const struct sp_resolved_dev *d, char *why,
                      size_t size);

/* The start's verdict on the device's reset: 1 a VM given the start's
 * devices can count on one; 0 not (why names the device, the cause and
 * what to expect). */
int sp_start_reset_ok(const struct sp_start *st, const struct sp_resolved_dev *d, char *why,
                      size_t size);

/* Decides what to do with one domain XML. Takes its own reference on snap.
 * Returns -1 only when memory runs out (then forward the original). */
int sp_start_prepare(struct sp_snapshot *snap, const char *xml, size_t len, struct sp_start *st);

/* 1 when libvirt gets xml as it is, decided from the head of the document
 * alone when it starts with <name>, <uuid> and <title> (as libvirt writes
 * it): no snippet names the VM, or the XML is not a domain we could read
 * (then sp_start_prepare says SP_UNMATCHED or SP_BAD_INPUT); 0 when
 * sp_start_prepare must decide. */
int sp_start_untouched(const struct sp_snapshot *snap, const char *xml, size_t len);
/* What a start needs, the head of the document read once: sp_start_prepare,
 * except that a VM sp_start_untouched lets through is SP_UNMATCHED (or
 * SP_BAD_INPUT) without the rest of the document being read. */
int sp_start_decide(struct sp_snapshot *snap, const char *xml, size_t len, struct sp_start *st);
void sp_start_free(struct sp_start *st);

#endif
