# Thin wrapper around meson/ninja. The two commands a user needs are `make demo` and `make test`;
# both install missing packages and build first.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
MESON      ?= meson
NINJA      ?= ninja

.PHONY: all deps build build-asan test test-plain test-asan soak demo bench fuzz clean format

all: build

deps:
	@./scripts/install-deps.sh

# The build the appliance, the benchmarks and the plain tests use: -O2 with debug info and
# link-time optimisation (the engine's per-packet path crosses dp_conn, dp_chan, dp_recovery and
# dp_cc; inlined across them it costs about 5 % less, perf/bench_engine).
$(BUILD)/build.ninja: | deps
	$(MESON) setup $(BUILD) --buildtype=debugoptimized -Db_lto=true

$(ASAN_BUILD)/build.ninja: | deps
	$(MESON) setup $(ASAN_BUILD) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

build: deps $(BUILD)/build.ninja
	$(NINJA) -C $(BUILD)

build-asan: deps $(ASAN_BUILD)/build.ninja
	$(NINJA) -C $(ASAN_BUILD)

$(FUZZ_BUILD)/build.ninja: | deps
	CC=clang $(MESON) setup $(FUZZ_BUILD) --buildtype=debugoptimized -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false

# The libFuzzer targets (tests/fuzz/README.md): each runs FUZZ_SECONDS (60 by default) under
# ASan + UBSan with its dictionary, on a corpus in the build directory that starts as a copy of
# its committed seeds (new inputs never go back into the source tree). Any crash, leak,
# sanitizer report or broken invariant fails; what it found is left in $(FUZZ_BUILD)/artifacts.
FUZZ_TARGETS = fuzz_conn fuzz_conf fuzz_handshake fuzz_frame fuzz_api fuzz_pex fuzz_book
FUZZ_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

fuzz: deps $(FUZZ_BUILD)/build.ninja
	$(NINJA) -C $(FUZZ_BUILD) $(addprefix tests/fuzz/,$(FUZZ_TARGETS))
	mkdir -p $(FUZZ_BUILD)/artifacts
	for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$t && cp tests/fuzz/corpus/$$t/* $(FUZZ_BUILD)/corpus/$$t/ && \
		$(FUZZ_ENV) $(FUZZ_BUILD)/tests/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=20 \
			-rss_limit_mb=2048 -print_final_stats=1 -dict=tests/fuzz/$$t.dict \
			-artifact_prefix=$(FUZZ_BUILD)/artifacts/$$t- $(FUZZ_BUILD)/corpus/$$t || exit 1; \
	done

test-plain: build
	$(MESON) test -C $(BUILD) --print-errorlogs --suite sluice

test-asan: build-asan
	$(MESON) test -C $(ASAN_BUILD) --print-errorlogs --suite sluice

# Every test, then every test again under AddressSanitizer + UndefinedBehaviorSanitizer.
test: test-plain test-asan

# The long perturbation run (not in make test, not in CI): four appliances in a ring, SOAK_ROUNDS
# rounds of every fault of tests/integration/test_perturb.py (a 10 s link outage, kill -9,
# SIGSTOP shorter and longer than the idle timeout, a restart at new addresses), then 10^7
# hostile packets through testpmd; prints the recovery times per fault (target: 5 s) and writes
# them, with the date and commit, to tests/integration/SOAK.md.
SOAK_ROUNDS ?= 15
soak: build
	python3 tests/integration/test_perturb.py $(BUILD)/sluice soak $(SOAK_ROUNDS) \
		--report tests/integration/SOAK.md

# Three appliances A -- R -- B over memif (no root, hugepages or NIC): A's messages to R's echo and
# B's stream to R's sink, a live progress line, a table per node; exit 0 only if nothing was lost.
demo: build
	python3 scripts/demo.py --sluice $(BUILD)/sluice

# Micro-benchmarks (perf/out/bench.md), then the perf rig (perf/RESULTS.md and its plots).
bench: build
	./perf/run.sh $(BUILD)
	python3 perf/rig.py $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')
