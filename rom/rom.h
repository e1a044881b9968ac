/* rom: PCI expansion ROM images, parsed from a buffer. Owns the image-chain
 * walk (0x55AA, PCIR at 0x18, image length, last-image flag), the legacy
 * checksum, the EFI image header and AMD's ATOM BIOS marker, and the rule
 * for whether a ROM fits a device. Every offset and length is bounds-checked;
 * errors name the offset. Never touches sysfs or libvirt. */
#ifndef SP_ROM_H
#define SP_ROM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "../common/err.h"

#define SP_ROM_MAX_BYTES (16u << 20)

enum sp_rom_code_type {
    SP_ROM_CODE_X86 = 0x00, /* x86 / legacy PC-AT */
    SP_ROM_CODE_OPEN_FIRMWARE = 0x01,
    SP_ROM_CODE_PA_RISC = 0x02,
    SP_ROM_CODE_EFI = 0x03,
};

struct sp_rom_image {
    size_t offset;          /* of the 0x55AA signature in the file */
    size_t length;          /* image length in bytes (512-byte units * 512) */
    size_t pcir_offset;     /* absolute */
    uint16_t vendor, device;
    uint8_t pcir_revision;
    uint16_t *device_list;  /* PCIR revision 3 device list (malloc'd), may be NULL */
    size_t n_device_list;
    uint32_t class_code;    /* 24 bits: base, sub, prog-if */
    uint8_t code_type;      /* enum sp_rom_code_type, or another value as found */
    int last;               /* last-image indicator set */
    int has_checksum;       /* legacy x86 image: checksum is meaningful */
    int checksum_ok;        /* all bytes of the image sum to 0 mod 256 */
    int efi;                /* EFI image header present and valid */
    uint16_t efi_subsystem, efi_machine, efi_compression;
    int atom;               /* "ATOM" marker found (AMD ATOM BIOS) */
};

struct sp_rom {
    struct sp_rom_image *images;
    size_t n_images;
};

/* Parses a whole ROM file's bytes. On error *out is empty and err names
 * the offset and the problem ("offset 0x200: image length 0 ..."). */
int sp_rom_parse(const uint8_t *buf, size_t len, struct sp_rom *out, struct sp_err *err);

/* Reads the ROM from fd (opened by sp_open_read, st its fstat, path its
 * name in messages; more than SP_ROM_MAX_BYTES is refused before reading)
 * and parses the bytes read: the ROM judged is the file of that fd. */
int sp_rom_load_fd(int fd, const struct stat *st, const char *path, struct sp_rom *out,
                   struct sp_err *err);

/* sp_rom_load_fd on path, opened for it (never a FIFO or a device). */
int sp_rom_load(const char *path, struct sp_rom *out, struct sp_err *err);

void sp_rom_free(struct sp_rom *rom);

/* True when one image names vendor:device, directly or in its device list. */
int sp_rom_matches(const struct sp_rom *rom, uint16_t vendor, uint16_t device);

/* The EFI image header's subsystem and machine type (PE/COFF values). */
#define SP_EFI_SUBSYSTEM_APPLICATION 10
#define SP_EFI_SUBSYSTEM_BOOT_DRIVER 11
#define SP_EFI_SUBSYSTEM_RUNTIME_DRIVER 12
#define SP_EFI_MACHINE_IA32 0x014c
#define SP_EFI_MACHINE_EBC 0x0ebc
#define SP_EFI_MACHINE_X64 0x8664
#define SP_EFI_MACHINE_AARCH64 0xaa64

/* How a ROM stands to the device it is given to. The rule follows what
 * firmware does with it: SeaBIOS runs only an x86 image whose PCIR names the
 * device, and a guest's driver reads the ROM as the device's own vBIOS; UEFI
 * firmware loads every EFI driver image of any device's ROM, whatever IDs
 * its PCIR names, and the driver then binds to the hardware it supports. */
enum sp_rom_fit {
    SP_ROM_FITS,       /* an image names the device, an x86 one if it has x86 images */
    SP_ROM_EFI_DRIVER, /* no image names the device, but every image is an EFI driver */
    SP_ROM_X86_OTHER,  /* an image names the device, but its x86 images name others */
    SP_ROM_OTHER,      /* no image names the device, and not all are EFI drivers */
};

enum sp_rom_fit sp_rom_fit(const struct sp_rom *rom, uint16_t vendor, uint16_t device);

/* An EFI image with a valid header that UEFI firmware loads as a driver
 * (boot service or runtime; an application is never loaded from a ROM). */
int sp_rom_image_is_efi_driver(const struct sp_rom_image *img);

/* True when an image is an EFI driver that x64 UEFI firmware (OVMF) runs:
 * machine x64, or EBC through its interpreter. */
int sp_rom_has_x64_efi_driver(const struct sp_rom *rom);

/* True when SeaBIOS would run an image of it for vendor:device: an x86 image
 * whose own PCIR IDs are those (SeaBIOS reads no device list). */
int sp_rom_has_bios_image(const struct sp_rom *rom, uint16_t vendor, uint16_t device);

/* "1002:1638, 8086:10fb": the distinct IDs its images name, device lists
 * included; only the x86 images' with x86_only. Returns how many. */
size_t sp_rom_names(const struct sp_rom *rom, int x86_only, char *out, size_t size);

/* What an SP_ROM_EFI_DRIVER ROM is, for the user: "EFI driver image (x64,
 * boot service driver), names 03ea:0665; UEFI firmware loads it from this
 * function". */
const char *sp_rom_efi_driver_note(const struct sp_rom *rom, char *out, size_t size);

/* "boot service driver", "x64", ...; "unknown" for other values. */
const char *sp_rom_efi_subsystem_name(uint16_t subsystem);
const char *sp_rom_efi_machine_name(uint16_t machine);

/* "x86", "Open Firmware", "PA-RISC", "EFI" or "unknown (0xNN)" into buf. */
const char *sp_rom_code_type_name(uint8_t code_type, char *buf, size_t size);

#endif
