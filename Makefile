# Thin wrapper around meson/ninja. The two commands a user needs are `make demo` and `make test`;
# both install missing packages and build first.

BUILD      ?= build
ASAN_BUILD ?= build-asan
MESON      ?= meson
NINJA      ?= ninja

.PHONY: all deps build build-asan test test-plain test-asan demo bench fuzz clean format

all: build

deps:
	@./scripts/install-deps.sh

$(BUILD)/build.ninja: | deps
	$(MESON) setup $(BUILD) --buildtype=debugoptimized

$(ASAN_BUILD)/build.ninja: | deps
	$(MESON) setup $(ASAN_BUILD) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

build: deps $(BUILD)/build.ninja
	$(NINJA) -C $(BUILD)

build-asan: deps $(ASAN_BUILD)/build.ninja
	$(NINJA) -C $(ASAN_BUILD)

test-plain: build
	$(MESON) test -C $(BUILD) --print-errorlogs --suite sluice

test-asan: build-asan
	$(MESON) test -C $(ASAN_BUILD) --print-errorlogs --suite sluice

# Every test, then every test again under AddressSanitizer + UndefinedBehaviorSanitizer.
test: test-plain test-asan

demo: build
	@echo "make demo: the three-appliance demo is delivered with the appliance (issue 4); it does not exist yet." >&2
	@exit 1

bench: build
	./perf/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')
