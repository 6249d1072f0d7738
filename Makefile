# The two set-up commands of README.md. Both install the Debian packages that are
# missing, then configure and build with meson into build/.
#   make run    build, then start the manager, build/gui/hangar (options: RUN_ARGS="...")
#   make check  build, then every test suite, and the unit tests again under
#               AddressSanitizer and UndefinedBehaviorSanitizer; ends "N passed, N failed"
#   make bench  build, then the benchmarks (figures, with QEMU ratios when installed)

BUILD ?= build
RUN_ARGS ?=

.PHONY: all deps build run check bench clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja: | deps
	meson setup $(BUILD) --werror

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

run: build
	GSETTINGS_SCHEMA_DIR=$(BUILD)/data HANGAR_LOCALEDIR=$(BUILD)/po $(BUILD)/gui/hangar $(RUN_ARGS)

check: deps
	scripts/check

bench: build
	meson test -C $(BUILD) --benchmark --verbose

clean:
	rm -rf $(BUILD) build-asan build.setup.log build-asan.setup.log
