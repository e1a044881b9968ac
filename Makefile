# SynoPassthru — one plain Makefile.
#   make                 build/libsynopassthru.so and build/synopassthru
#   make check           every test: unit (plain and ASan+UBSan), golden, integration, fuzz smoke
#   make install PREFIX=/usr/local DESTDIR=   (PREFIX is compiled in: build with the same one)
VERSION := 0.1.0

PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
CC ?= cc
FUZZ_CC ?= clang
FUZZ_RUNS ?= 20000

PKG_CONFIG ?= pkg-config
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags libxml-2.0 jansson libvirt)
# What each program links. The release programs need nothing beyond glibc and
# libxml2 (the shim's libxml2 is the daemon's own): see "Releases" in the README.
XML_LIBS := $(shell $(PKG_CONFIG) --libs libxml-2.0)
JANSSON_LIBS := $(shell $(PKG_CONFIG) --libs jansson)
LIBEXECDIR ?= $(PREFIX)/libexec/synopassthru
LIBDIR ?= $(PREFIX)/lib/synopassthru
DATADIR ?= $(PREFIX)/share/synopassthru
SYSCONFDIR ?= $(PREFIX)/etc
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka)
# The tests link more: cmocka, and jansson to read the JSON we write.
TEST_LIBS := $(XML_LIBS) $(JANSSON_LIBS) $(CMOCKA_LIBS) -lpthread

CFLAGS ?= -O2 -g
WARNINGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wno-format-nonliteral -Wno-format-truncation -Wvla
ifeq ($(SANITIZE),1)
  SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARNINGS) $(CFLAGS) $(SAN_FLAGS) -fPIC \
              -fvisibility=hidden -DSP_VERSION=\"$(VERSION)\" \
              -DSP_LIBEXECDIR=\"$(LIBEXECDIR)\" -DSP_LIBDIR=\"$(LIBDIR)\" \
              -DSP_BINDIR=\"$(PREFIX)/bin\" -DSP_DATADIR=\"$(DATADIR)\" -DSP_PREFIX=\"$(PREFIX)\" \
              -DSP_DEFAULT_CONFIG_DIR=\"$(SYSCONFDIR)/synopassthru\" $(PKG_CFLAGS)
# glibc 2.34 and later hold libdl and libpthread in libc itself.
RELEASE_LDFLAGS := -Wl,--as-needed -Wl,-z,now -Wl,-z,relro

# Sources by module; each program below names the modules it is made of.
COMMON_SRC := common/err.c common/fsutil.c
PCI_SRC := pci/pci.c pci/ids.c pci/reset.c
PCI_SRC += pci/tree.c
VFIO_SRC := vfio/sysfs.c vfio/names.c vfio/procview.c vfio/hostuse.c vfio/check.c vfio/state.c \
            vfio/claim.c vfio/bind.c
CORE_SRC := common/xmlutil.c common/json.c config/settings.c config/snippet.c config/config.c \
            xmlpatch/slots.c xmlpatch/layout.c xmlpatch/domain.c xmlpatch/source.c \
            xmlpatch/xmlpatch.c xmlpatch/edits.c core/start.c core/audit.c \
            rom/rom.c rom/vfct.c core/helper.c core/binder.c core/persist.c
# config/watch.c: the inotify watch that spares an unchanged config any per-file look;
# config/vmindex.c: the VM index a change updates in place of a rebuild.
CORE_SRC += config/watch.c config/vmindex.c
# config/nametab.c: the config cache's snippets and VMs found by name.
CORE_SRC += config/nametab.c
SHIM_SRC := shim/real.c shim/gate.c shim/events.c shim/domain_create.c shim/domain_define.c
INJECTOR_SRC := common/sha256.c injector/loadproof.c injector/dropin.c injector/dsm_hook.c injector/manifest.c \
                injector/setup.c
INJECTOR_SRC += injector/procscan.c
CLI_SRC := cli/main.c cli/preview.c cli/check.c cli/rom.c cli/vfio.c cli/holds.c cli/status.c \
           cli/inject.c cli/setup.c cli/import.c cli/add.c
CLI_SRC += cli/log.c cli/vms.c
# The CLI's own plain modules: the JSON reader, the audit log view, the
# libvirt client loaded at run time.
CLI_LIB_SRC := common/jsonread.c cli/logview.c cli/virt.c
# `check` and `doctor`: the read-only checks of a VM and of a whole install.
DOCTOR_SRC := core/vmcheck.c core/doctor.c
CLI_SRC += cli/doctor.c cli/term.c cli/tree.c $(DOCTOR_SRC)
# `import`: the community scripts read into snippets (the CLI only, never the shim).
IMPORT_SRC := import/shvars.c import/legacy.c import/apply.c import/oldhook.c import/report.c \
              import/import.c import/dirs.c config/snippet_format.c
# `add` and `remove`: hand-written snippets edited in place (the CLI only).
EDIT_SRC := config/snippet_edit.c
TEST_HELPER_SRC := tests/tools/fakesysfs.c tests/unit/testutil.c tests/unit/xmlmem.c
UNIT_TESTS := test_pci test_settings test_snippet test_config test_slots test_layout \
              test_xmlpatch test_raw_hostdev test_start test_audit test_golden test_rom test_vfio \
              test_injector test_json test_ids test_import test_hostuse test_files test_launch test_faults \
              test_helper_proc test_snippet_edit
UNIT_TESTS += test_jsonread test_logview test_virt
UNIT_TESTS += test_doctor test_tree
UNIT_TESTS += test_identity_head
UNIT_TESTS += test_watch
UNIT_TESTS += test_config_memory test_nametab
FUZZ_TARGETS := fuzz_snippet fuzz_settings fuzz_domain fuzz_qemu_arg fuzz_rom fuzz_persist fuzz_json \
                fuzz_pci_ids fuzz_shvars fuzz_manifest fuzz_dsm_hook fuzz_hostuse fuzz_identity \
                fuzz_config_dir fuzz_snippet_edit
FUZZ_TARGETS += fuzz_jsonread fuzz_logview
FUZZ_TARGETS += fuzz_procscan

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
# The test hooks (common/testhooks.h), chosen at link time: none in the shim
# and the helper; from the environment in the CLI and the test programs.
HOOKS_NONE_OBJ := $(call obj,common/testhooks_none.c)
HOOKS_ENV_OBJ := $(call obj,common/testhooks_env.c)
BASE_OBJ := $(call obj,$(COMMON_SRC) $(PCI_SRC))
CORE_OBJ := $(call obj,$(CORE_SRC)) $(BASE_OBJ)
VFIO_OBJ := $(call obj,$(VFIO_SRC))
# core/launch is the start sequence the shim carries out; it reads the vfio
# helper's hold files to know whether a stopped VM has devices to give back.
SHIM_OBJ := $(call obj,$(SHIM_SRC)) $(call obj,core/launch.c) $(CORE_OBJ) $(call obj,vfio/state.c)
INJECTOR_OBJ := $(call obj,$(INJECTOR_SRC))
IMPORT_OBJ := $(call obj,$(IMPORT_SRC))
EDIT_OBJ := $(call obj,$(EDIT_SRC))
CLI_LIB_OBJ := $(call obj,$(CLI_LIB_SRC))
CLI_OBJ := $(call obj,$(CLI_SRC)) $(CLI_LIB_OBJ) $(INJECTOR_OBJ) $(IMPORT_OBJ) $(EDIT_OBJ) $(CORE_OBJ) $(VFIO_OBJ) \
           $(HOOKS_ENV_OBJ)
HELPER_OBJ := $(call obj,vfio/helper_main.c) $(VFIO_OBJ) $(BASE_OBJ)
TEST_HELPER_OBJ := $(call obj,$(TEST_HELPER_SRC)) $(HOOKS_ENV_OBJ)

SHIM := $(BUILD)/libsynopassthru.so
CLI := $(BUILD)/synopassthru
HELPER := $(BUILD)/synopassthru-vfio
VIRSH_WRAPPER := $(BUILD)/synopassthru-virsh
UNIT_BINS := $(addprefix $(BUILD)/tests/,$(UNIT_TESTS))
TEST_SHIM := $(BUILD)/tests/libsynopassthru-test.so
TOOL_BINS := $(BUILD)/tests/mkfakesysfs $(BUILD)/tests/domdiff $(BUILD)/tests/mkrom $(TEST_SHIM) \
             $(BUILD)/tests/synopassthru-vfio-model $(BUILD)/tests/conc_client \
             $(BUILD)/tests/libslowstart.so

.PHONY: all check dist spk payload e2e unit unit-run asan asan-daemon fuzz-smoke fuzz-long integration demo bench install uninstall clean
.PHONY: man
all: $(SHIM) $(CLI) $(HELPER) $(VIRSH_WRAPPER)

$(VIRSH_WRAPPER): $(BUILD)/obj/injector/virsh_wrapper.o
	$(CC) $(ALL_CFLAGS) -o $@ $^

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# Only the interposed functions are exported (shim/exports.map, with no
# version node, so that libvirt's versioned references still bind to them).
LINK_SHIM = $(CC) $(ALL_CFLAGS) -shared -Wl,-z,defs $(RELEASE_LDFLAGS) \
	  -Wl,--version-script=shim/exports.map -o $@ $(filter %.o,$^) $(XML_LIBS)
$(SHIM): $(SHIM_OBJ) $(HOOKS_NONE_OBJ) shim/exports.map
	$(LINK_SHIM)

# The shim with the test hooks, for the tests that inject faults; never shipped.
$(TEST_SHIM): $(SHIM_OBJ) $(HOOKS_ENV_OBJ) shim/exports.map
	@mkdir -p $(dir $@)
	$(LINK_SHIM)

$(CLI): $(CLI_OBJ)
	$(CC) $(ALL_CFLAGS) $(RELEASE_LDFLAGS) -o $@ $^ $(XML_LIBS)

$(HELPER): $(HELPER_OBJ) $(HOOKS_NONE_OBJ)
	$(CC) $(ALL_CFLAGS) $(RELEASE_LDFLAGS) -o $@ $^

# The helper with the kernel model standing in for write(2), for tests only.
$(BUILD)/tests/synopassthru-vfio-model: $(HELPER_OBJ) $(HOOKS_ENV_OBJ) $(BUILD)/obj/tests/tools/kmodel.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^

$(BUILD)/tests/test_%: $(BUILD)/obj/tests/unit/test_%.o $(CORE_OBJ) $(VFIO_OBJ) $(TEST_HELPER_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(TEST_LIBS)

CLI_LIB_TESTS := $(addprefix $(BUILD)/tests/,test_jsonread test_logview test_virt)
$(CLI_LIB_TESTS): $(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(CLI_LIB_OBJ) $(CORE_OBJ) $(VFIO_OBJ) $(TEST_HELPER_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(TEST_LIBS)

$(BUILD)/tests/test_launch: $(BUILD)/obj/tests/unit/test_launch.o $(call obj,core/launch.c) $(CORE_OBJ) $(VFIO_OBJ) $(TEST_HELPER_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(TEST_LIBS)

$(BUILD)/tests/test_injector: $(BUILD)/obj/tests/unit/test_injector.o $(INJECTOR_OBJ) $(CORE_OBJ) $(TEST_HELPER_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(TEST_LIBS)

$(BUILD)/tests/test_doctor: $(BUILD)/obj/tests/unit/test_doctor.o $(call obj,$(DOCTOR_SRC)) $(INJECTOR_OBJ) $(IMPORT_OBJ) $(CORE_OBJ) $(VFIO_OBJ) $(TEST_HELPER_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(TEST_LIBS)

$(BUILD)/tests/test_import: $(BUILD)/obj/tests/unit/test_import.o $(IMPORT_OBJ) $(CORE_OBJ) $(TEST_HELPER_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(TEST_LIBS)

$(BUILD)/tests/test_snippet_edit: $(BUILD)/obj/tests/unit/test_snippet_edit.o $(EDIT_OBJ) $(call obj,config/snippet_format.c) $(CORE_OBJ) $(TEST_HELPER_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(TEST_LIBS)

# The vfio tests run against the kernel model, linked in.
$(BUILD)/tests/test_vfio: $(BUILD)/obj/tests/unit/test_vfio.o $(BUILD)/obj/tests/tools/kmodel.o $(CORE_OBJ) $(VFIO_OBJ) $(TEST_HELPER_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(TEST_LIBS)

$(BUILD)/tests/test_hostuse: $(BUILD)/obj/tests/unit/test_hostuse.o $(BUILD)/obj/tests/tools/kmodel.o $(CORE_OBJ) $(VFIO_OBJ) $(TEST_HELPER_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(TEST_LIBS)

$(BUILD)/tests/test_faults: $(BUILD)/obj/tests/unit/test_faults.o $(BUILD)/obj/tests/tools/kmodel.o $(CORE_OBJ) $(VFIO_OBJ) $(TEST_HELPER_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(TEST_LIBS)

$(BUILD)/tests/mkfakesysfs: $(BUILD)/obj/tests/tools/mkfakesysfs.o $(BUILD)/obj/tests/tools/fakesysfs.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^

# The concurrency test's client: libvirt's client library, one connection each.
$(BUILD)/tests/conc_client: $(BUILD)/obj/tests/tools/conc_client.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs libvirt) -lpthread

# Preloaded after the shim by the race tests: the real starts take longer.
$(BUILD)/tests/libslowstart.so: $(BUILD)/obj/tests/tools/slowstart.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -shared -o $@ $^ -ldl

$(BUILD)/tests/mkrom: $(BUILD)/obj/tests/tools/mkrom.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^

$(BUILD)/tests/domdiff: $(BUILD)/obj/tests/tools/domdiff.o $(CORE_OBJ) $(HOOKS_ENV_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(TEST_LIBS)

# config_cost [SNIPPETS] [ROUNDS]: the config cache's memory and per-start cost
# (built with the unit tests so that it keeps building).
TOOL_BINS += $(BUILD)/tests/config_cost
$(BUILD)/tests/config_cost: $(BUILD)/obj/tests/tools/config_cost.o $(CORE_OBJ) $(TEST_HELPER_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(TEST_LIBS)

$(BUILD)/tests/bench: $(BUILD)/obj/tests/tools/bench.o $(call obj,core/launch.c) $(CORE_OBJ) $(VFIO_OBJ) $(TEST_HELPER_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(TEST_LIBS)

# Measured ratios, reproducible with this target (absolute times vary); the
# README's Performance table is its output. Sizes: make bench BENCH_ARGS=
# "--rounds 5 --snippets 10,100 --virsh-starts 20 --no-callgrind".
bench: $(BUILD)/tests/bench $(SHIM) $(CLI)
	SP_BUILD=$(BUILD) $(BUILD)/tests/bench --out $(BUILD)/bench.json $(BENCH_ARGS)

unit: $(UNIT_BINS) $(TOOL_BINS)

# Runs the unit tests of this build; tests/run.sh prints one line each.
unit-run: unit
	@tests/run.sh unit $(BUILD) $(UNIT_BINS)

asan:
	$(MAKE) BUILD=build/asan SANITIZE=1 unit-run

# The shim built with ASan+UBSan inside the real libvirtd the tests start
# (the ASan runtime preloaded first); a sanitizer report kills the daemon
# and so fails the test.
ASAN_RUNTIME = $(shell $(CC) -print-file-name=libasan.so)
asan-daemon:
	$(MAKE) BUILD=build/asan SANITIZE=1 all unit
	@ASAN_OPTIONS=detect_leaks=0 SP_PRELOAD_FIRST=$(ASAN_RUNTIME) \
	  tests/run.sh asan-daemon build/asan tests/integration/test_vfio_daemon.sh \
	  tests/integration/test_persistent.sh tests/integration/test_races.sh

integration: all unit dist spk
	@tests/run.sh integration $(BUILD) tests/integration/test_*.sh

# The fuzzers: every source compiled once with the fuzzer's instrumentation,
# each target linked from its own file and those objects.
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
               -DSP_VERSION=\"$(VERSION)\" $(PKG_CFLAGS)
fuzz_obj = $(patsubst %.c,$(BUILD)/fuzzobj/%.o,$(1))
FUZZ_BASE_OBJ := $(call fuzz_obj,$(CORE_SRC) $(COMMON_SRC) $(PCI_SRC) common/testhooks_env.c)
$(BUILD)/fuzzobj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/fuzz/%: $(BUILD)/fuzzobj/tests/fuzz/%.o $(FUZZ_BASE_OBJ)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(XML_LIBS) $(JANSSON_LIBS)

# A fuzz target's sources beyond the core ones, as extra prerequisites.
$(BUILD)/fuzz/fuzz_shvars: $(call fuzz_obj,import/shvars.c)
$(BUILD)/fuzz/fuzz_manifest: $(call fuzz_obj,injector/manifest.c)
$(BUILD)/fuzz/fuzz_dsm_hook: $(call fuzz_obj,injector/dsm_hook.c)
$(BUILD)/fuzz/fuzz_hostuse: $(call fuzz_obj,vfio/procview.c)
$(BUILD)/fuzz/fuzz_identity: $(call fuzz_obj,tests/unit/xmlmem.c)
$(BUILD)/fuzz/fuzz_config_dir: $(call fuzz_obj,tests/tools/fakesysfs.c)
$(BUILD)/fuzz/fuzz_snippet_edit: $(call fuzz_obj,$(EDIT_SRC) config/snippet_format.c)
$(BUILD)/fuzz/fuzz_jsonread: $(call fuzz_obj,common/jsonread.c)
$(BUILD)/fuzz/fuzz_logview: $(call fuzz_obj,common/jsonread.c cli/logview.c)
$(BUILD)/fuzz/fuzz_procscan: $(call fuzz_obj,injector/procscan.c)

fuzz-smoke: $(addprefix $(BUILD)/fuzz/,$(FUZZ_TARGETS))
	@FUZZ_RUNS=$(FUZZ_RUNS) tests/run.sh fuzz $(BUILD) $^

# Each target for FUZZ_SECONDS, its corpus kept in $(BUILD)/fuzz-long/corpus/NAME
# (a rerun goes on from it), what it finds in $(BUILD)/fuzz-long/artifacts/NAME.
# One target alone: make fuzz-long FUZZ_TARGETS=fuzz_config_dir FUZZ_SECONDS=600
FUZZ_SECONDS ?= 3600
fuzz-long: $(addprefix $(BUILD)/fuzz/,$(FUZZ_TARGETS))
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/run.sh fuzz-long $(BUILD) $^

demo: all unit
	@SP_BUILD=$(abspath $(BUILD)) SP_SRC=$(CURDIR) bash tests/integration/demo.sh

check: all unit dist spk
	$(MAKE) asan
	$(MAKE) asan-daemon
	$(MAKE) fuzz-smoke
	@tests/run.sh all $(BUILD) $(UNIT_BINS) tests/integration/test_*.sh
	$(MAKE) e2e

# Rung 4: a real kernel with an emulated IOMMU under QEMU (tests/e2e/).
e2e: all $(BUILD)/tests/mkrom $(TEST_SHIM) spk
	@tests/run.sh e2e $(BUILD) tests/e2e/run.sh
	@echo "e2e: measured (see README, \"Present from power-on\"):"
	@tr -d '\r' < $(BUILD)/e2e-serial.log | sed -n 's/^E2E: MEASURE /  /p'

# ---- Manual pages (doc/*.scd, written in scdoc) and the bash completion ----
MANDIR := $(PREFIX)/share/man
BASH_COMPLETION_DIR := $(PREFIX)/share/bash-completion/completions
MAN1 := $(BUILD)/man/synopassthru.1
MAN5 := $(BUILD)/man/synopassthru.conf.5 $(BUILD)/man/synopassthru-snippet.5
COMPLETION := deploy/bash-completion/synopassthru
man: $(MAN1) $(MAN5)

# The page's date is the commit's (SOURCE_DATE_EPOCH), so a release is reproducible.
$(BUILD)/man/%: doc/%.scd
	@mkdir -p $(dir $@)
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) scdoc < $< > $@

# ---- Release files (see "Releases" in the README) ----
PCI_IDS ?= /usr/share/misc/pci.ids
DIST := $(BUILD)/dist
PAYLOAD := $(DIST)/payload
DIST_NAME := synopassthru-$(VERSION)-x86_64
TARBALL := $(DIST)/$(DIST_NAME).tar.gz
SPK := $(DIST)/SynoPassthru-$(VERSION)-x86_64.spk
SPK_BUILD ?= 0001
# Release files come out the same byte for byte from the same commit.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
TAR_REPRO := --sort=name --mtime=@$(SOURCE_DATE_EPOCH) --owner=0 --group=0 --numeric-owner \
             --format=gnu
below_prefix = $(patsubst $(PREFIX)/%,%,$(1))

# The programs laid out as below PREFIX, stripped: what both release files
# carry and what `setup` copies into place.
payload: all man
	rm -rf $(PAYLOAD)
	install -d $(PAYLOAD)/bin $(PAYLOAD)/$(call below_prefix,$(LIBDIR)) \
	  $(PAYLOAD)/$(call below_prefix,$(LIBEXECDIR)) $(PAYLOAD)/$(call below_prefix,$(DATADIR))
	install -d $(PAYLOAD)/$(call below_prefix,$(MANDIR))/man1 $(PAYLOAD)/$(call below_prefix,$(MANDIR))/man5 \
	  $(PAYLOAD)/$(call below_prefix,$(BASH_COMPLETION_DIR))
	install -m 0644 $(MAN1) $(PAYLOAD)/$(call below_prefix,$(MANDIR))/man1/
	install -m 0644 $(MAN5) $(PAYLOAD)/$(call below_prefix,$(MANDIR))/man5/
	install -m 0644 $(COMPLETION) $(PAYLOAD)/$(call below_prefix,$(BASH_COMPLETION_DIR))/
	install -m 0755 -s $(CLI) $(VIRSH_WRAPPER) $(PAYLOAD)/bin/
	install -m 0755 -s $(SHIM) $(PAYLOAD)/$(call below_prefix,$(LIBDIR))/
	install -m 0755 -s $(HELPER) $(PAYLOAD)/$(call below_prefix,$(LIBEXECDIR))/
	install -m 0644 $(PCI_IDS) $(PAYLOAD)/$(call below_prefix,$(DATADIR))/pci.ids

dist: payload
	rm -rf $(DIST)/$(DIST_NAME) $(TARBALL)
	mkdir -p $(DIST)/$(DIST_NAME)
	cp -a $(PAYLOAD)/. $(DIST)/$(DIST_NAME)/
	install -m 0755 deploy/install.sh deploy/uninstall.sh $(DIST)/$(DIST_NAME)/
	install -m 0644 README.md $(DIST)/$(DIST_NAME)/
	cd $(DIST)/$(DIST_NAME) && find . -type f ! -name SHA256SUMS | LC_ALL=C sort | sed 's|^\./||' | \
	  xargs sha256sum > SHA256SUMS
	tar $(TAR_REPRO) -C $(DIST) -cf - $(DIST_NAME) | gzip -n9 > $(TARBALL)
	@echo "wrote $(TARBALL)"

$(BUILD)/mkicon: deploy/mkicon.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< -lm

spk: payload $(BUILD)/mkicon
	rm -rf $(DIST)/spk $(SPK)
	mkdir -p $(DIST)/spk/scripts $(DIST)/spk/conf
	tar $(TAR_REPRO) -C $(PAYLOAD) -cf - . | gzip -n9 > $(DIST)/spk/package.tgz
	sed -e 's/@SPK_VERSION@/$(VERSION)-$(SPK_BUILD)/' \
	    -e "s/@CHECKSUM@/$$(md5sum < $(DIST)/spk/package.tgz | cut -d' ' -f1)/" \
	    deploy/spk/INFO.in > $(DIST)/spk/INFO
	install -m 0755 deploy/spk/scripts/* $(DIST)/spk/scripts/
	chmod 0644 $(DIST)/spk/scripts/common
	install -m 0644 deploy/spk/conf/privilege $(DIST)/spk/conf/
	$(BUILD)/mkicon 64 $(DIST)/spk/PACKAGE_ICON.PNG
	$(BUILD)/mkicon 256 $(DIST)/spk/PACKAGE_ICON_256.PNG
	tar $(TAR_REPRO) -C $(DIST)/spk -cf $(SPK) INFO package.tgz scripts conf \
	  PACKAGE_ICON.PNG PACKAGE_ICON_256.PNG
	@echo "wrote $(SPK)"

install: all man
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(BASH_COMPLETION_DIR)
	install -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(COMPLETION) $(DESTDIR)$(BASH_COMPLETION_DIR)/synopassthru
	install -d $(DESTDIR)$(PREFIX)/bin
	install -d $(DESTDIR)$(LIBDIR)
	install -m 0755 $(SHIM) $(DESTDIR)$(LIBDIR)/libsynopassthru.so
	install -m 0755 $(CLI) $(DESTDIR)$(PREFIX)/bin/synopassthru
	install -m 0755 $(VIRSH_WRAPPER) $(DESTDIR)$(PREFIX)/bin/synopassthru-virsh
	install -d $(DESTDIR)$(LIBEXECDIR)
	install -m 0755 $(HELPER) $(DESTDIR)$(LIBEXECDIR)/synopassthru-vfio
	install -d $(DESTDIR)$(DATADIR)
	install -m 0644 $(PCI_IDS) $(DESTDIR)$(DATADIR)/pci.ids
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/synopassthru/vm.d $(DESTDIR)$(SYSCONFDIR)/synopassthru/rom
	test -e $(DESTDIR)$(SYSCONFDIR)/synopassthru/synopassthru.conf || \
	  install -m 0644 config/synopassthru.conf.example $(DESTDIR)$(SYSCONFDIR)/synopassthru/synopassthru.conf

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libsynopassthru.so $(DESTDIR)$(PREFIX)/bin/synopassthru \
	      $(DESTDIR)$(PREFIX)/bin/synopassthru-virsh $(DESTDIR)$(LIBEXECDIR)/synopassthru-vfio \
	      $(DESTDIR)$(DATADIR)/pci.ids
	rm -f $(DESTDIR)$(MANDIR)/man1/synopassthru.1 $(DESTDIR)$(MANDIR)/man5/synopassthru.conf.5 \
	      $(DESTDIR)$(MANDIR)/man5/synopassthru-snippet.5 $(DESTDIR)$(BASH_COMPLETION_DIR)/synopassthru
	-rmdir $(DESTDIR)$(LIBDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DATADIR)

clean:
	rm -rf build

.SECONDARY:

-include $(shell find $(BUILD)/obj $(BUILD)/fuzzobj -name '*.d' 2>/dev/null)
