# rdprescue — build, test, demo.  See README.md.
#
#   make          build/rdprescue (static)
#   make deps     install build and test packages (apt-get, Debian 12)
#   make check    all tests (unit, scenario); closes with "N passed, N failed"
#                 SANITIZE=1: the same under ASan + UBSan + LeakSanitizer, in build/asan
#                 FAULTS=1: a fault-injection build (src/util/fault.h), in build/faults
#   make demo     build a broken sample disk, scan, fix, scan
#   make bench    benchmarks (timings are printed, never asserted)
#   make fuzz     libFuzzer harnesses, FUZZ_SECONDS each (clang)
#   make image    the bootable rescue image: build/rdprescue.iso, build/image/{vmlinuz,initrd.img}
#   make image-test  boots the image under qemu (TCG) with a broken disk (also part of make check)

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
             -larchive -lnettle -lacl -llzma -lzstd -llz4 -lbz2 -lz -lhivex -lntfs-3g -ljansson \
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

.PHONY: all deps check stress demo bench fuzz clean format unit-tests tools image image-test
all: $(BUILD)/rdprescue

$(BUILD)/%.o: %.c $(wildcard src/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/librdprescue.a: $(OBJ_LIB)
	@rm -f $@
	ar rcs $@ $^

# The linker warns that getpwnam & co. and dlopen need shared libraries at run time:
# libntfs-3g's user mapping and libcrypto's engine loader, which rdprescue never calls.
$(BUILD)/rdprescue: $(OBJ_CLI) $(BUILD)/librdprescue.a
	$(CC) $(STATIC) $(LDFLAGS) -o $@ $(OBJ_CLI) $(BUILD)/librdprescue.a $(LIBS) 2>&1 \
	  | grep -v -e 'requires at runtime the shared libraries' -e ': in function' >&2 || true
	@test -x $@

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

check: deps
	$(MAKE) all unit-tests tools
	BUILD=$(BUILD) SANITIZE=$(SANITIZE) sh tests/run.sh

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

format:
	clang-format -i $(wildcard src/*/*.c src/*/*.h tests/unit/*.c tests/unit/*.h tests/tools/*.c tests/fuzz/*.c bench/*.c)

clean:
	rm -rf $(BUILD)
