#include "reset.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/fsutil.h"

/* Config space: where the capability list starts, and the PCIe one. */
#define CFG_STATUS 0x06
#define CFG_STATUS_CAP_LIST 0x10
#define CFG_CAP_PTR 0x34
#define CFG_FIRST_CAP 0x40
#define CAP_ID_PCIE 0x10
#define PCIE_DEVCAP 4
#define DEVCAP_FLR (1u << 28)
/* The kernel's bound on a capability walk: a longer list is a loop. */
#define CAP_WALK_MAX 48

int sp_pci_config_flr(const unsigned char *c, size_t len)
{
    if (len <= CFG_CAP_PTR)
        return -1;
    if (!(c[CFG_STATUS] & CFG_STATUS_CAP_LIST))
        return 0;
    size_t pos = c[CFG_CAP_PTR] & 0xfc;
    for (int i = 0; i < CAP_WALK_MAX && pos >= CFG_FIRST_CAP; i++) {
        if (pos + 2 > len)
            return -1;
        if (c[pos] == 0xff)
            return 0;
        if (c[pos] == CAP_ID_PCIE) {
            const unsigned char *d = c + pos + PCIE_DEVCAP;
            if (pos + PCIE_DEVCAP + 4 > len)
                return -1;
            uint32_t devcap = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 |
                              (uint32_t)d[3] << 24;
            return (devcap & DEVCAP_FLR) != 0;
        }
        pos = c[pos + 1] & 0xfc;
    }
    return 0;
}

/* 1 when the device's file exists, 0 when not, -1 (err) when that cannot be told. */
static int has_file(const char *root, const struct sp_pci_addr *addr, const char *name,
                    struct sp_err *err)
{
    char path[SP_PATH_MAX];
    struct stat st;
    if (sp_pci_device_path(root, addr, name, path, sizeof(path), err) < 0)
        return -1;
    if (lstat(path, &st) == 0)
        return 1;
    return errno == ENOENT ? 0 : sp_err_set(err, "%s: %s", path, strerror(errno));
}

/* reset_method's words, one space apart. */
static int read_methods(const char *root, const struct sp_pci_addr *addr, char *out,
                        size_t size, struct sp_err *err)
{
    char path[SP_PATH_MAX], *text = NULL, *save = NULL;
    if (sp_pci_device_path(root, addr, "reset_method", path, sizeof(path), err) < 0 ||
        sp_read_file(path, 4096, &text, NULL, err) < 0)
        return -1;
    size_t used = 0;
    out[0] = '\0';
    for (char *w = strtok_r(text, " \t\r\n", &save); w && used < size;
         w = strtok_r(NULL, " \t\r\n", &save))
        used += (size_t)snprintf(out + used, size - used, "%s%s", used ? " " : "", w);
    free(text);
    return 0;
}

int sp_pci_read_flr(const char *root, const struct sp_pci_addr *addr)
{
    char path[SP_PATH_MAX], *config = NULL;
    size_t len = 0;
    if (sp_pci_device_path(root, addr, "config", path, sizeof(path), NULL) < 0 ||
        sp_read_file(path, 4096, &config, &len, NULL) < 0)
        return -1;
    int flr = sp_pci_config_flr((const unsigned char *)config, len);
    free(config);
    return flr;
}

int sp_pci_read_reset(const char *root, const struct sp_pci_addr *addr, struct sp_pci_reset *out,
                      struct sp_err *err)
{
    memset(out, 0, sizeof(*out));
    out->listed = has_file(root, addr, "reset_method", err);
    out->reset_file = out->listed < 0 ? -1 : has_file(root, addr, "reset", err);
    if (out->listed < 0 || out->reset_file < 0)
        return -1;
    out->flr = -1;
    return out->listed ? read_methods(root, addr, out->methods, sizeof(out->methods), err) : 0;
}

int sp_pci_reset_available(const struct sp_pci_reset *r)
{
    return r->listed ? r->methods[0] != '\0' : r->reset_file;
}

/* Why the kernel has no method for the device. */
static const char *none_reason(const struct sp_pci_reset *r)
{
    return r->listed ? "reset_method is empty" : "no reset_method or reset file";
}

void sp_pci_reset_describe(const struct sp_pci_reset *r, char *out, size_t size)
{
    const char *flr = r->flr > 0 ? "; FLR advertised" : r->flr == 0 ? "; no FLR" : "";
    if (!sp_pci_reset_available(r))
        snprintf(out, size, "none (%s)%s", none_reason(r), flr);
    else
        snprintf(out, size, "%s%s",
                 r->listed ? r->methods : "yes (this kernel does not name its methods)", flr);
}

/* Every method listed resets the whole bus below the bridge (or the slot). */
static int bus_only(const struct sp_pci_reset *r)
{
    char words[sizeof(r->methods)], *save = NULL;
    snprintf(words, sizeof(words), "%s", r->methods);
    int n = 0;
    for (char *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save), n++)
        if (strcmp(w, "bus") != 0 && strcmp(w, "cxl_bus") != 0)
            return 0;
    return r->listed && n > 0;
}

static int is_given(const struct sp_pci_addr *a, const struct sp_pci_addr *given, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (sp_pci_addr_cmp(a, &given[i]) == 0)
            return 1;
    return 0;
}

/* The devices on addr's bus that are not given, into out ("" when none). */
static int others_on_bus(const char *root, const struct sp_pci_addr *addr,
                         const struct sp_pci_addr *given, size_t n, char *out, size_t size)
{
    struct sp_pci_addr *bus = NULL;
    size_t count = 0, used = 0;
    out[0] = '\0';
    if (sp_pci_bus_devices(root, addr, &bus, &count, NULL) < 0)
        return -1;
    for (size_t i = 0; i < count && used < size; i++) {
        char name[SP_PCI_ADDR_STRLEN];
        if (sp_pci_addr_cmp(&bus[i], addr) == 0 || is_given(&bus[i], given, n))
            continue;
        sp_pci_addr_format(&bus[i], name);
        used += (size_t)snprintf(out + used, size - used, "%s%s", used ? ", " : "", name);
    }
    free(bus);
    return 0;
}

enum sp_reset_verdict sp_pci_reset_judge(const char *root, const struct sp_pci_addr *addr,
                                         const struct sp_pci_reset *r,
                                         const struct sp_pci_addr *given, size_t n, char *why,
                                         size_t size)
{
    char others[1024];
    why[0] = '\0';
    if (!sp_pci_reset_available(r)) {
        snprintf(why, size, "the kernel cannot reset it (%s)", none_reason(r));
        return SP_RESET_NONE;
    }
    if (!bus_only(r) || others_on_bus(root, addr, given, n, others, sizeof(others)) < 0 ||
        !others[0])
        return SP_RESET_OK;
    snprintf(why, size, "the kernel can reset it only with its whole bus (reset_method: %s), "
                        "and that bus also holds %s: neither the kernel nor QEMU resets a bus "
                        "under devices the VM does not have", r->methods, others);
    return SP_RESET_BUS_SHARED;
}
