# Sluice: `make test` and `make bench` are the two entry points (see README.md).
# Both install missing Debian packages first (`make deps`).

BUILD_DIR      ?= build
ASAN_BUILD_DIR ?= build-asan
TSAN_BUILD_DIR ?= build-tsan
GATE_BUILD_DIR ?= build-gate
FUZZ_BUILD_DIR ?= build-fuzz
PORTABLE_BUILD_DIR ?= build-portable
PORTABLE_MARCH ?= x86-64-v3
FUZZ_SECONDS   ?= 300
PYTHON         ?= /usr/bin/python3
BENCH_FLAGS    ?=
JOBS           ?= $(shell nproc)
CMAKE_FLAGS    ?=

.PHONY: all build deps test ui-test chaos unit-tests asan tsan mutants fuzz fuzz-ci fuzz-build format format-check bench bench-quick \
        report gate gate-update microbench clean help

all: build

help:
	@echo "make deps          install missing Debian packages (ci/debian-packages.txt)"
	@echo "make / make build  configure and build (Release, CMake + Ninja) into $(BUILD_DIR)/"
	@echo "make test          deps + build + the layering check + the embedding example + every test"
	@echo "                   (unit, SQL logic, oracle, CLI) and the web UI's test in headless chromium"
	@echo "make ui-test       the web UI's test alone: sluice serve, two jobs, the page in headless chromium"
	@echo "                   (ci/ui_test.py; its screenshot: $(BUILD_DIR)/ui-screenshot.png)"
	@echo "make asan          build and test with AddressSanitizer + UndefinedBehaviorSanitizer"
	@echo "make tsan          build with ThreadSanitizer and run the parallel runtime's tests"
	@echo "make mutants       plant each deliberate bug of ci/mutants.py in turn; fails if a check misses one"
	@echo "                   (MUTANTS_FLAGS='--bench' runs the lab for those the tests miss)"
	@echo "make fuzz          build the libFuzzer targets (clang) and run each for FUZZ_SECONDS (300)"
	@echo "make fuzz-ci       the same for 60 s per target (CI)"
	@echo "make chaos         200 kill -9s of checkpointed jobs at random moments, each restarted: 160 file ->"
	@echo "                   file (output exactly SQLite's) and 40 reading Kafka (into files: exactly SQLite's;"
	@echo "                   into Kafka: what the mock shows) (CHAOS_KILLS, CHAOS_KAFKA_KILLS, CHAOS_SEED)"
	@echo "make bench         deps + build + every scenario (core, codec, latency; threads), checked against"
	@echo "                   SQLite, DuckDB side by side, results/ + reports/latest/ + verdict table"
	@echo "                   (BENCH_SCALE=X multiplies record counts, e.g. 10 on a large server)"
	@echo "make bench-quick   the same on the scenarios' quick record counts (a few minutes; CI runs it);"
	@echo "                   exits non-zero when any run fails its check"
	@echo "make report        render the newest results/ run into reports/latest/"
	@echo "make gate          instructions per record (callgrind, checking sink not counted) vs"
	@echo "                   ci/baseline.json; fails above +5% over the baseline, +10% over the fixed"
	@echo "                   reference, on a failed check against SQLite or a wrong output row count"
	@echo "make gate-update   rewrite ci/baseline.json's baseline from this tree (a deliberate, separate"
	@echo "                   commit); the reference changes only with ci/gate.py BINARY --reset-reference"
	@echo "make microbench    Google Benchmark micro-benchmarks of the hot kernels"
	@echo "make format        clang-format every C++ file; make format-check checks only"
	@echo "make portable      build sluice for any x86-64-v3 CPU (AVX2) into $(PORTABLE_BUILD_DIR)/"
	@echo "make install       the portable sluice, its help, the systemd unit and an example config"
	@echo "                   (PREFIX=/usr/local, SYSCONFDIR=/etc; DESTDIR= stages the tree)"

deps:
	@ci/install-deps.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Before the test suite: the layering check (no module includes one above it; the order is the
# ```layering block of engine/README.md) with its own tests, which plant violations, and the
# embedding example, which exits non-zero when its rows are wrong; the report's Nexmark rows
# (reports/make_report_test.py); the web UI in headless
# chromium (ci/ui_test.py: about 25 s; it says SKIP when chromium or kcat is missing, which `make deps`
# installs).
test: deps build
	$(PYTHON) ci/check_layering.py
	$(PYTHON) ci/check_layering_test.py
	$(PYTHON) ci/check_deploy.py $(BUILD_DIR)/sluice
	$(PYTHON) ci/check_deploy_test.py $(BUILD_DIR)/sluice
	$(PYTHON) reports/make_report_test.py
	$(PYTHON) ci/decimal_oracle_test.py $(BUILD_DIR)/sluice
	$(BUILD_DIR)/sluice_embed_example
	$(PYTHON) ci/ui_test.py $(BUILD_DIR)/sluice --screenshot $(BUILD_DIR)/ui-screenshot.png
	$(BUILD_DIR)/sluice_tests --gtest_brief=1

# The web UI's test alone. `ci/ui_test.py build/sluice --screenshot docs/ui-screenshot.png`
# renews the README's screenshot.
ui-test: deps build
	$(PYTHON) ci/ui_test.py $(BUILD_DIR)/sluice --screenshot $(BUILD_DIR)/ui-screenshot.png

# The kill -9 campaign (engine/tests/chaos_test.cc): 240 kills of checkpointed jobs, each
# followed by a restart, every output checked against SQLite: 160 of file -> file jobs, 40 of
# jobs reading Kafka (into files and into Kafka) and 40 of file -> file jobs with RocksDB state.
# `make test` runs 20 + 6 + 10 of them.
# CHAOS_SEED=N replays a campaign.
CHAOS_KILLS ?= 160
CHAOS_KAFKA_KILLS ?= 40
CHAOS_ROCKSDB_KILLS ?= 40
CHAOS_SEED ?= 20261207
chaos: deps build
	SLUICE_CHAOS_KILLS=$(CHAOS_KILLS) SLUICE_CHAOS_KAFKA_KILLS=$(CHAOS_KAFKA_KILLS) \
	  SLUICE_CHAOS_ROCKSDB_KILLS=$(CHAOS_ROCKSDB_KILLS) SLUICE_CHAOS_SEED=$(CHAOS_SEED) \
	  $(BUILD_DIR)/sluice_tests --gtest_filter='ChaosTest.*:KafkaChaosTest.*'

asan: deps
	cmake -S . -B $(ASAN_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_SANITIZE=ON
	cmake --build $(ASAN_BUILD_DIR) -j $(JOBS)
	$(ASAN_BUILD_DIR)/sluice_tests --gtest_brief=1

# The parallel runtime's tests under ThreadSanitizer: the ring, the exchange, the runtime's own
# tests (barriers, alignment, failures, the 10,000-checkpoint stress run) and the oracle and SQL
# logic tests at parallelism 2 and 4. TSan halts at the first race it reports.
TSAN_TESTS = SpscRing*:Exchange*:ParallelRuntime*:FileSplit*:StatefulOracle*:Files/SqlLogicTest.Passes/*_p*
tsan: deps
	cmake -S . -B $(TSAN_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_TSAN=ON
	cmake --build $(TSAN_BUILD_DIR) -j $(JOBS) --target sluice_tests
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" $(TSAN_BUILD_DIR)/sluice_tests --gtest_brief=1 \
	  --gtest_filter='$(TSAN_TESTS)'

# The mutation check (ci/mutants.py): each deliberate bug is planted in turn, the tests rebuilt
# in build-mutants/ and run; a bug that no check catches fails the target.
mutants: deps
	$(PYTHON) ci/mutants.py $(MUTANTS_FLAGS)

# libFuzzer targets (engine/fuzz/README.md): built with clang, ASan and UBSan into
# $(FUZZ_BUILD_DIR)/, then each run for FUZZ_SECONDS on a scratch copy of its corpus, one after
# the other. A crash fails the target and names the input that reproduces it.
FUZZ_TARGETS = fuzz_sql fuzz_json_decoder fuzz_csv_decoder fuzz_snapshot fuzz_kafka_message

$(FUZZ_BUILD_DIR)/build.ninja:
	cmake -S . -B $(FUZZ_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
	  -DSLUICE_FUZZ=ON

fuzz-build: deps $(FUZZ_BUILD_DIR)/build.ninja
	cmake --build $(FUZZ_BUILD_DIR) -j $(JOBS)

fuzz: fuzz-build
	engine/fuzz/run_targets.sh $(FUZZ_BUILD_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-ci:
	$(MAKE) fuzz FUZZ_SECONDS=60

# The lab: sluice-bench runs and checks every scenario and writes results/<run>/; the report
# renders it and prints the verdict table. A failed check fails the target after the report.
bench: deps build
	@status=0; $(BUILD_DIR)/sluice-bench $(BENCH_FLAGS) || status=$$?; \
	  $(PYTHON) reports/make_report.py || status=1; exit $$status

bench-quick: deps build
	@status=0; $(BUILD_DIR)/sluice-bench --quick --runs 3 $(BENCH_FLAGS) || status=$$?; \
	  $(PYTHON) reports/make_report.py || status=1; exit $$status

report:
	$(PYTHON) reports/make_report.py

# The gate counts instructions in a portable build (valgrind does not run every instruction set
# -march=native may use), so that its figures do not depend on the machine.
$(GATE_BUILD_DIR)/build.ninja:
	cmake -S . -B $(GATE_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLUICE_NATIVE=OFF

gate: deps $(GATE_BUILD_DIR)/build.ninja
	cmake --build $(GATE_BUILD_DIR) -j $(JOBS) --target sluice-bench
	$(PYTHON) ci/gate.py $(GATE_BUILD_DIR)/sluice-bench

gate-update: deps $(GATE_BUILD_DIR)/build.ninja
	cmake --build $(GATE_BUILD_DIR) -j $(JOBS) --target sluice-bench
	$(PYTHON) ci/gate.py $(GATE_BUILD_DIR)/sluice-bench --update

microbench: deps build
	$(BUILD_DIR)/sluice_benchmarks --benchmark_counters_tabular=true

.PHONY: portable install

# The portable build: the same Release build tuned for x86-64-v3 instead of this machine's CPU,
# for installs and the container image (the lab keeps -march=native, the gate generic x86-64).
$(PORTABLE_BUILD_DIR)/build.ninja:
	cmake -S . -B $(PORTABLE_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLUICE_MARCH=$(PORTABLE_MARCH) \
	  $(CMAKE_FLAGS)

portable: $(PORTABLE_BUILD_DIR)/build.ninja
	cmake --build $(PORTABLE_BUILD_DIR) -j $(JOBS) --target sluice

# make install: the portable binary, its help (every command's --help), the systemd unit (its
# ExecStart pointed at BINDIR) and an example configuration, which an existing one is not
# replaced by. DESTDIR stages the tree (packaging, the container image). make test checks the
# unit, this recipe, the Dockerfile and deploy/kubernetes/ against the built binary's commands,
# flags, ports and paths (ci/check_deploy.py, with its own tests, which plant mistakes).
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
DOCDIR     ?= $(PREFIX)/share/doc/sluice
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
DESTDIR    ?=
SLUICE_COMMANDS = run explain validate connectors datagen serve kafka-mock topology

install: portable
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/sluice
	install -m 755 $(PORTABLE_BUILD_DIR)/sluice $(DESTDIR)$(BINDIR)/sluice
	{ $(PORTABLE_BUILD_DIR)/sluice --help; for command in $(SLUICE_COMMANDS); do \
	    printf '\n\n'; $(PORTABLE_BUILD_DIR)/sluice $$command --help; done; } > $(DESTDIR)$(DOCDIR)/sluice-help.txt
	chmod 644 $(DESTDIR)$(DOCDIR)/sluice-help.txt
	sed 's|/usr/local/bin/sluice|$(BINDIR)/sluice|; s|/usr/local/share/doc/sluice|$(DOCDIR)|; s|/etc/sluice/|$(SYSCONFDIR)/sluice/|g' \
	  packaging/systemd/sluice.service > $(DESTDIR)$(UNITDIR)/sluice.service
	chmod 644 $(DESTDIR)$(UNITDIR)/sluice.service
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/sluice/sluice.yaml ]; then \
	  echo "install: keeping $(DESTDIR)$(SYSCONFDIR)/sluice/sluice.yaml"; \
	else install -m 644 packaging/sluice.yaml $(DESTDIR)$(SYSCONFDIR)/sluice/sluice.yaml; fi

FORMAT_FILES = $(shell git ls-files '*.cc' '*.h')

format:
	clang-format -i $(FORMAT_FILES)

format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR) $(GATE_BUILD_DIR) $(FUZZ_BUILD_DIR) $(PORTABLE_BUILD_DIR)
