# rdprescue — build, test, demo.  See README.md.
#
#   make          build/rdprescue (static)
#   make deps     install build and test packages (apt-get, Debian 12)
#   make check    all tests (unit, scenario); closes with "N passed, N failed, N skipped"
#                 SANITIZE=1: the same under ASan + UBSan + LeakSanitizer, in build/asan
#                 FAULTS=1: a fault-injection build (src/util/fault.h), in build/faults
#   make demo     build a broken sample disk, scan, fix, scan
#   make bench    benchmarks: rdprescue against its peers, bench/results.json (docs/performance.md);
#                 timings are printed, never asserted
#   make fuzz     libFuzzer harnesses, FUZZ_SECONDS each (clang)
#   make image    the bootable rescue image: build/rdprescue.iso, build/image/{vmlinuz,initrd.img}
#   make image-test  boots the image under qemu (TCG) with a broken disk (also part of make check)
#   make man      build/rdprescue.1 from docs/rdprescue.1.md (pandoc)
#   make dist     build/dist: rdprescue-VERSION-x86_64-linux.tar.gz, rdprescue_VERSION_amd64.deb,
#                 SHA256SUMS (dist/mkdist.sh)
#   make install  PREFIX=/usr/local (and DESTDIR): binary, man page, bash completion

CC        ?= gcc
SANITIZE  ?= 0
FAULTS    ?= 0
# Instrumented builds get their own directory so they never mix objects with the normal one.
ifeq ($(SANITIZE),1)
BUILD     ?= build/asan
endif
ifeq ($(FAULTS),1)
BUILD     ?= build/faults
endif
BUILD     ?= build

NTFS_DEFS := -DHAVE_STDINT_H=1 -DHAVE_SYS_TYPES_H=1 -DHAVE_STDARG_H=1 -DHAVE_TIME_H=1 \
             -DHAVE_SYS_STAT_H=1 -DHAVE_STDDEF_H=1 -DHAVE_STDIO_H=1 -DHAVE_SYS_PARAM_H=1 \
             -DHAVE_ENDIAN_H=1 -DHAVE_BYTESWAP_H=1
CFLAGS    ?= -O2 -g
CFLAGS    += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc $(NTFS_DEFS)
# --undefined: see src/plan/archive_link.c (keeps libxml2 and ICU out of the binary) and
# src/util/iconv.c (our iconv ahead of glibc's, which a static binary cannot load).
LIBS      := -Wl,--undefined=__archive_write_entry_filetype_unsupported -Wl,--undefined=iconv_open \
             -larchive -lnettle -lacl -llzma -lzstd -llz4 -lbz2 -lz -lhivex -lntfs-3g -ljansson -levtx -lbfio \
             -lcrypto -lz -llzma -ldl -lpthread -lm
LDFLAGS   ?=
ifeq ($(SANITIZE),1)
CFLAGS    += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS   += -fsanitize=address,undefined
STATIC    :=
else
STATIC    := -static
endif
ifeq ($(FAULTS),1)
CFLAGS    += -DRP_FAULTS=1
endif

SRC_LIB   := $(filter-out src/cli/%,$(wildcard src/*/*.c))
SRC_CLI   := $(wildcard src/cli/*.c)
OBJ_LIB   := $(SRC_LIB:%.c=$(BUILD)/%.o)
OBJ_CLI   := $(SRC_CLI:%.c=$(BUILD)/%.o)
UNIT      := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
TOOLS     := $(patsubst tests/tools/%.c,$(BUILD)/tests/%,$(wildcard tests/tools/*.c))
BENCHES   := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))

# FAULTS=1 in BUILD=DIR/faults: only the files with fault points (those that include
# util/fault.h) are compiled again; every other object is DIR's own, copied, made there first
# when missing.  A fault build then costs five compiles, not the whole tree.
ifeq ($(FAULTS),1)
PLAIN     := $(patsubst %/faults,%,$(BUILD))
ifneq ($(PLAIN),$(BUILD))
FAULT_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(shell grep -l '"util/fault.h"' $(SRC_LIB) $(SRC_CLI)))
$(filter-out $(FAULT_OBJ),$(OBJ_LIB) $(OBJ_CLI)): $(BUILD)/%.o: $(PLAIN)/%.o
	@mkdir -p $(dir $@)
	cp $< $@
$(PLAIN)/%.o: %.c
	$(MAKE) --no-print-directory FAULTS=0 BUILD=$(PLAIN) $@
# the plain objects' header dependencies, so that a changed header remakes them first
-include $(patsubst $(BUILD)/%.o,$(PLAIN)/%.d,$(OBJ_LIB) $(OBJ_CLI))
endif
endif

.PHONY: all deps check stress demo bench fuzz clean format format-check unit-tests tools image image-test \
	man dist install FORCE
all: $(BUILD)/rdprescue

# -MMD -MP: each object lists the headers it includes in a .d file next to it (read below), so a
# changed header rebuilds exactly the objects that include it.
# -Wmissing-prototypes: every function of src/ that is not static is declared in a header.
$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wmissing-prototypes -MMD -MP -c -o $@ $<

$(BUILD)/librdprescue.a: $(OBJ_LIB)
	@rm -f $@
	ar rcs $@ $^

# What --version prints besides the libraries' own calls (src/cli/version.c); rewritten only
# when it changes, so that a new commit relinks and nothing else does.
$(BUILD)/gen/version.h: FORCE
	@mkdir -p $(dir $@)
	@{ echo '#define RP_GIT_COMMIT "'"$$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$$(git diff --quiet HEAD -- src 2>/dev/null || echo -modified)"'"'; \
	   echo '#define RP_HIVEX_VERSION "'"$$(pkg-config --modversion hivex 2>/dev/null || echo unknown)"'"'; \
	   echo '#define RP_NTFS3G_VERSION "'"$$(pkg-config --modversion libntfs-3g 2>/dev/null || echo unknown)"'"'; \
	 } >$@.tmp && if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi
$(BUILD)/src/cli/version.o: $(BUILD)/gen/version.h
$(BUILD)/src/cli/version.o: CFLAGS += -I$(BUILD)
FORCE:

# The linker warns that getpwnam & co. and dlopen need shared libraries at run time:
# libntfs-3g's user mapping and libcrypto's engine loader, which rdprescue never calls.  Those
# lines are filtered out of its messages; its exit status is the rule's (a failed link fails).
$(BUILD)/rdprescue: $(OBJ_CLI) $(BUILD)/librdprescue.a
	@rm -f $@.log
	@$(CC) $(STATIC) $(LDFLAGS) -Wl,-Map=$@.map -o $@ $(OBJ_CLI) $(BUILD)/librdprescue.a $(LIBS) 2>$@.log; \
	  rc=$$?; grep -v -e 'requires at runtime the shared libraries' -e ': in function' $@.log >&2; \
	  rm -f $@.log; [ $$rc = 0 ] || { rm -f $@; exit $$rc; }
	@echo "linked $@"

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(BUILD)/librdprescue.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(BUILD)/librdprescue.a $(LIBS)

$(BUILD)/tests/%: tests/tools/%.c $(BUILD)/librdprescue.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/librdprescue.a $(LIBS)

$(BUILD)/bench/%: bench/%.c $(BUILD)/librdprescue.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/librdprescue.a $(LIBS)

unit-tests: $(UNIT)
tools: $(TOOLS)

deps:
	@sh tests/lib/deps.sh

# JOBS: parallel compiles and test suites (one per core).  The fault-injection build t_faults
# needs is made here, in parallel, rather than serially inside that suite.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
check: deps
	$(MAKE) -j$(JOBS) all unit-tests tools
	$(MAKE) -j$(JOBS) BUILD=$(BUILD)/faults FAULTS=1 all
	BUILD=$(BUILD) SANITIZE=$(SANITIZE) JOBS=$(JOBS) sh tests/run.sh

demo: deps
	$(MAKE) all tools
	BUILD=$(BUILD) sh tests/demo.sh

bench: deps
	$(MAKE) all tools $(BENCHES)
	BUILD=$(BUILD) sh bench/run.sh

# The kill sweep of make check (tests/scenario/t_killsweep.sh), longer: a kill every
# STRESS_STEP_MS from the start of fix and undo to their end, STRESS_RUNS times over.
STRESS_STEP_MS ?= 1
STRESS_RUNS ?= 3
stress: deps
	$(MAKE) all tools
	BUILD=$(BUILD) KILL_STEP_MS=$(STRESS_STEP_MS) KILL_RUNS=$(STRESS_RUNS) \
		sh tests/scenario/t_killsweep.sh

FUZZ_SECONDS ?= 60
fuzz: deps
	BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh

image: deps all
	BUILD=$(BUILD) sh image/build.sh

image-test: image tools
	BUILD=$(BUILD) RP_IMAGE_BUILT=1 sh tests/scenario/t_image.sh

# The man page: docs/rdprescue.1.md is its only source.
$(BUILD)/rdprescue.1: docs/rdprescue.1.md Makefile
	@mkdir -p $(dir $@)
	@command -v pandoc >/dev/null || { echo "make: pandoc is missing: run make deps" >&2; exit 1; }
	sed 1d $< | pandoc -s -f markdown -t man --shift-heading-level-by=-1 -M title=RDPRESCUE -M section=1 \
	  -M date="$$(git log -1 --format=%cs -- $< 2>/dev/null || date +%F)" \
	  -M footer="rdprescue $$(sed -n 's/.*RP_VERSION "\(.*\)"/\1/p' src/plan/plan.h)" -o $@
man: $(BUILD)/rdprescue.1

# The map file of the link (rdprescue.map) says which libraries went in: the licence notice.
dist: deps
	$(MAKE) all man
	BUILD=$(BUILD) sh dist/mkdist.sh

PREFIX    ?= /usr/local
install: all man
	install -D -m 755 $(BUILD)/rdprescue $(DESTDIR)$(PREFIX)/sbin/rdprescue
	install -D -m 644 $(BUILD)/rdprescue.1 $(DESTDIR)$(PREFIX)/share/man/man1/rdprescue.1
	install -D -m 644 dist/rdprescue.bash-completion \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/rdprescue

FORMATTED := $(wildcard src/*/*.c src/*/*.h tests/unit/*.c tests/unit/*.h tests/tools/*.c \
                         tests/fuzz/*.c bench/*.c)
format:
	clang-format -i $(FORMATTED)

# Fails when a C file differs from what clang-format makes of it (part of make check: t_format).
format-check:
	clang-format --dry-run --Werror $(FORMATTED)

clean:
	rm -rf $(BUILD)

-include $(OBJ_LIB:.o=.d) $(OBJ_CLI:.o=.d)
