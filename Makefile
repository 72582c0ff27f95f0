# Makefile - the front door: wraps CMake and the scripts. Every target first runs
# scripts/install-deps, which installs missing Debian packages (and is quick when none are).
#
#   make demo                  build, then run a C program compiled to wasm (examples/guest/demo.c)
#   make test                  unit tests (normal + ASan/UBSan builds), freestanding check, spec tests
#                              (also against the interpreter's portable switch dispatch)
#   make fuzz FUZZ_SECONDS=N   libFuzzer over decode + validate; crashes go to fuzz/crashes/
#   make bench [BENCH_ARGS=..] benchmark suite (native, V8, k23vm) + decode MB/s: bench/results/
#   make interp-profile        the interpreter's instruction-pair profile (switch + profile build in
#                              build-prof/) over the bench and real programs: bench/results/pairs.md
#   make build | clean
#
# Build directories: build/ (RelWithDebInfo), build-asan/ (-DK23VM_SANITIZE=ON), build-switch/
# (-DK23VM_INTERP_SWITCH=ON: switch dispatch instead of computed goto), build-fuzz/ (clang,
# -DK23VM_FUZZ=ON). Pass extra CMake flags with CMAKE_FLAGS=...

CMAKE ?= cmake
CTEST ?= ctest
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
BUILD_SWITCH ?= build-switch
FUZZ_SECONDS ?= 60
CMAKE_FLAGS ?=
ESBUILD_VERSION ?= 0.28.2
MAKEFLAGS += --no-print-directory

.PHONY: all deps build build-asan build-switch build-fuzz demo test test-unit test-asan test-spec test-switch fuzz bench clean help

all: build

help:
	@sed -n '2,/^$$/p' Makefile | sed 's/^# \{0,1\}//'

deps:
	@scripts/install-deps

# Configure every time (quick with a cache): a subdirectory that gained a CMakeLists.txt since the
# last run is picked up.
configure = $(CMAKE) -S . -B $(1) --log-level=WARNING $(2) $(CMAKE_FLAGS) >/dev/null

build: deps
	$(call configure,$(BUILD),-DCMAKE_BUILD_TYPE=RelWithDebInfo)
	$(CMAKE) --build $(BUILD) -j $(JOBS)

build-asan: deps
	$(call configure,$(BUILD_ASAN),-DCMAKE_BUILD_TYPE=Debug -DK23VM_SANITIZE=ON)
	$(CMAKE) --build $(BUILD_ASAN) -j $(JOBS)

# Only what the dispatch affects: the interpreter's unit tests and the spec runner.
build-switch: deps
	$(call configure,$(BUILD_SWITCH),-DCMAKE_BUILD_TYPE=RelWithDebInfo -DK23VM_INTERP_SWITCH=ON)
	$(CMAKE) --build $(BUILD_SWITCH) -j $(JOBS) --target test_interp k23vm-spec-runner

build-fuzz: deps
	$(call configure,$(BUILD_FUZZ),-DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DK23VM_FUZZ=ON)
	$(CMAKE) --build $(BUILD_FUZZ) -j $(JOBS) --target fuzz_module

# ---- demo ---------------------------------------------------------------------------------------
# examples/guest/demo.c, compiled to freestanding wasm32 by clang at build time, run by the
# embedding program examples/demo.c (see README.md, "Examples").
demo: build
	@echo
	@echo "== examples/guest/demo.c, compiled by clang --target=wasm32 without libc: its one import is"
	@echo "== env.print, which the embedding program provides (k23vm inspect lists what the module has):"
	@echo
	$(BUILD)/tools/k23vm inspect $(BUILD)/examples/demo.wasm
	@echo
	@echo "== examples/demo.c embeds k23vm, provides env.print and calls the module's export run():"
	@echo
	$(BUILD)/examples/demo $(BUILD)/examples/demo.wasm

# ---- tests --------------------------------------------------------------------------------------
# The unit tests and checks in both builds, the spec suite under the sanitizers (its logs printed in
# full only when it fails), then the spec suite in the normal build. The spec suite runs in the
# interpreter in both bounds-check modes (guard pages, explicit checks), in each build. Under the
# sanitizers it runs in one process (--no-isolate), so that LeakSanitizer, which checks at exit,
# sees every script (the per-script child processes leave through _exit, unchecked); `timeout`
# stands in for the per-script time limit that isolation gives. Each step stops the run on failure.
SPEC_RUN = spec-tests/run --mode interp --set wasm-2.0
SPEC_BOUNDS = guard explicit
SPEC_ASAN_TIMEOUT ?= 1200

test: test-unit test-asan test-spec test-switch

test-unit: build
	$(CTEST) --test-dir $(BUILD) --output-on-failure -j $(JOBS)

test-asan: build-asan
	$(CTEST) --test-dir $(BUILD_ASAN) --output-on-failure -j $(JOBS)
	@if [ -x spec-tests/run ]; then \
		for b in $(SPEC_BOUNDS); do \
			log=$(BUILD_ASAN)/spec-$$b.log; \
			cmd="$(SPEC_RUN) --bounds $$b --no-isolate"; \
			echo "K23VM_BUILD_DIR=$(BUILD_ASAN) timeout $(SPEC_ASAN_TIMEOUT) $$cmd > $$log"; \
			if K23VM_BUILD_DIR=$(BUILD_ASAN) timeout $(SPEC_ASAN_TIMEOUT) $$cmd > $$log 2>&1; then \
				echo "spec suite under ASan/UBSan, bounds $$b: $$(tail -n 1 $$log)"; \
			else \
				cat $$log; echo "spec suite under ASan/UBSan, bounds $$b: FAILED"; exit 1; \
			fi; \
		done; \
	fi

test-spec: build
	@if [ -x spec-tests/run ]; then \
		for b in $(SPEC_BOUNDS); do \
			echo "K23VM_BUILD_DIR=$(BUILD) $(SPEC_RUN) --bounds $$b"; \
			K23VM_BUILD_DIR=$(BUILD) $(SPEC_RUN) --bounds $$b || exit 1; \
		done; \
	else \
		echo "spec-tests/run does not exist yet: spec tests skipped"; \
	fi

# The portable switch dispatch build passes the same interpreter tests and spec suite.
test-switch: build-switch
	$(BUILD_SWITCH)/tests/test_interp
	@if [ -x spec-tests/run ]; then \
		echo "K23VM_BUILD_DIR=$(BUILD_SWITCH) $(SPEC_RUN) --bounds guard  (switch dispatch)"; \
		K23VM_BUILD_DIR=$(BUILD_SWITCH) $(SPEC_RUN) --bounds guard || exit 1; \
	fi

# ---- fuzzing ------------------------------------------------------------------------------------
# -fork=$(JOBS) runs one fuzzing process per core. The run stops at the first crash, sanitizer report,
# timeout or out-of-memory (a single allocation over 2 GB counts), saves the input in fuzz/crashes/
# and fails. The corpus in build-fuzz/corpus/ carries over to the next run.
fuzz: build build-fuzz
	scripts/fuzz-seeds $(BUILD_FUZZ)/seeds
	@mkdir -p fuzz/crashes $(BUILD_FUZZ)/corpus
	@before=$$(ls fuzz/crashes | wc -l); \
	$(BUILD_FUZZ)/fuzz/fuzz_module -fork=$(JOBS) \
		-max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-artifact_prefix=fuzz/crashes/ $(BUILD_FUZZ)/corpus $(BUILD_FUZZ)/seeds \
		2>$(BUILD_FUZZ)/fuzz.log; \
	status=$$?; tail -n 5 $(BUILD_FUZZ)/fuzz.log; \
	after=$$(ls fuzz/crashes | wc -l); \
	echo "fuzz: $(FUZZ_SECONDS) s, corpus $$(ls $(BUILD_FUZZ)/corpus | wc -l) inputs," \
		"$$((after - before)) new crashing inputs in fuzz/crashes/ (log: $(BUILD_FUZZ)/fuzz.log)"; \
	if [ $$after -gt $$before ]; then \
		echo "fuzz: reproduce with $(BUILD_FUZZ)/fuzz/fuzz_module FILE; once fixed, move FILE to tests/regress/"; \
		exit 1; \
	fi; \
	exit $$status

# ---- benchmarks ---------------------------------------------------------------------------------
# Decode + validate MB/s on a large real module: esbuild's wasm build (~14 MB, Go compiled to wasm)
# from the npm registry, fetched once into $(BUILD)/bench-deps/ (never committed), and the demo
# module. Then the suite: bench/run runs the programs of bench/programs/ (built by the CMake target
# bench_programs, which is not part of `all`, so `make test` neither builds nor runs them) natively,
# under V8 and under k23vm, and writes bench/results/latest.md (with the decode figures) and
# latest.png. BENCH_ARGS goes to bench/run, e.g. BENCH_ARGS="--reps 3 --only fib,sieve".
ESBUILD_WASM = $(BUILD)/bench-deps/node_modules/esbuild-wasm/esbuild.wasm
BENCH_ARGS ?=

$(ESBUILD_WASM): | deps
	mkdir -p $(BUILD)/bench-deps
	npm install --prefix $(BUILD)/bench-deps --no-audit --no-fund --no-save --silent \
		esbuild-wasm@$(ESBUILD_VERSION)

bench: build $(ESBUILD_WASM)
	$(CMAKE) --build $(BUILD) -j $(JOBS) --target bench_programs
	$(BUILD)/bench/decode_bench $(ESBUILD_WASM) $(BUILD)/examples/demo.wasm > $(BUILD)/bench/decode.txt \
		|| { cat $(BUILD)/bench/decode.txt; exit 1; }
	@cat $(BUILD)/bench/decode.txt
	$(BUILD)/bench/micro_bench $(ESBUILD_WASM) > $(BUILD)/bench/micro.md \
		|| { cat $(BUILD)/bench/micro.md; exit 1; }
	@cat $(BUILD)/bench/micro.md
	bench/run --build $(BUILD) --append "Decode + validate (bench/decode_bench)=$(BUILD)/bench/decode.txt" \
		--append "Micro-benchmarks (bench/micro_bench)=$(BUILD)/bench/micro.md" $(BENCH_ARGS)

# ---- interpreter profile --------------------------------------------------------------------------
# Superinstructions are chosen from measured instruction-pair frequencies (issue 5). The counters
# exist in the switch-dispatch build with K23VM_INTERP_PROFILE only, so they get a build of their
# own; tools/interp-prof/suite.sh runs k23vm-interp-prof over every bench program (exported `run`
# or WASI command), Flite (fetched from npm like the WASI tests) and the demo guest, and writes
# bench/results/pairs.md (each program's full profile in $(BUILD_PROF)/interp-prof/).
BUILD_PROF ?= build-prof
.PHONY: interp-profile
interp-profile: deps
	$(call configure,$(BUILD_PROF),-DCMAKE_BUILD_TYPE=RelWithDebInfo -DK23VM_INTERP_SWITCH=ON -DK23VM_INTERP_PROFILE=ON)
	$(CMAKE) --build $(BUILD_PROF) -j $(JOBS) --target k23vm_interp_prof bench_programs k23vm_examples_guests
	tools/interp-prof/suite.sh $(BUILD_PROF) $(BUILD_PROF)/interp-prof bench/results/pairs.md

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
