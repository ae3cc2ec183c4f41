# Sluice: `make test` and `make bench` are the two entry points (see README.md).
# Both install missing Debian packages first (`make deps`).

BUILD_DIR      ?= build
ASAN_BUILD_DIR ?= build-asan
JOBS           ?= $(shell nproc)
CMAKE_FLAGS    ?=

.PHONY: all build deps test unit-tests asan format format-check bench microbench clean help

all: build

help:
	@echo "make deps          install missing Debian packages (ci/debian-packages.txt)"
	@echo "make / make build  configure and build (Release, CMake + Ninja) into $(BUILD_DIR)/"
	@echo "make test          deps + build + every test (unit, SQL logic, oracle, CLI)"
	@echo "make asan          build and test with AddressSanitizer + UndefinedBehaviorSanitizer"
	@echo "make bench         deps + build + the Scenario 0 benchmarks (core and codec level)"
	@echo "make format        clang-format every C++ file; make format-check checks only"

deps:
	@ci/install-deps.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: deps build
	$(BUILD_DIR)/sluice_tests --gtest_brief=1

asan: deps
	cmake -S . -B $(ASAN_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_SANITIZE=ON
	cmake --build $(ASAN_BUILD_DIR) -j $(JOBS)
	$(ASAN_BUILD_DIR)/sluice_tests --gtest_brief=1

bench: deps build
	$(BUILD_DIR)/sluice_benchmarks --benchmark_counters_tabular=true

microbench: deps build
	$(BUILD_DIR)/sluice_benchmarks --benchmark_counters_tabular=true

FORMAT_FILES = $(shell git ls-files '*.cc' '*.h')

format:
	clang-format -i $(FORMAT_FILES)

format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR)
