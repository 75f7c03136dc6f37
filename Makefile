# Thin wrapper over CMake. `make help` lists the targets.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure build test unit freestanding coverage clean help demo

all: build

help:
	@echo "make            build everything (hosted, sanitized, freestanding)"
	@echo "make demo       validate and dump the sample configs"
	@echo "make fuzz       fuzz every target (ENGINE=libfuzzer|afl TARGETS=... FUZZ_SECONDS=180 JOBS=N)"
	@echo "make repro CRASH=FILE   reproduce a crash with a symbolized report"
	@echo "make fuzz-coverage  reports/fuzz-coverage/<target>/index.html: handlers/ lines the corpora reach (TARGETS=...)"
	@echo "make test       every CI gate: unit, KVM, replay, BUILD-EQ, fuzz smoke, budgets, coverage"
	@echo "make bench      reports/latency.{json,md,png}"
	@echo "make freestanding  link the bare-metal image and print its size"
	@echo "make coverage   reports/coverage/index.html for handlers/"
	@echo "make clean      remove $(BUILD)/"

# ci/deps.sh is quick when everything is installed; it installs what is missing.
$(BUILD)/.deps: ci/deps.sh
	@bash ci/deps.sh
	@mkdir -p $(BUILD) && touch $@

deps: $(BUILD)/.deps

$(BUILD)/CMakeCache.txt: $(BUILD)/.deps CMakeLists.txt
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

configure: $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j $(JOBS)

unit: build
	bash ci/unit.sh $(BUILD)

freestanding: build
	@bash ci/freestanding.sh $(BUILD)

coverage: build
	bash ci/coverage.sh $(BUILD) report

demo: build
	bash ci/demo.sh $(BUILD)

test: build
	bash ci/test.sh $(BUILD)

clean:
	rm -rf $(BUILD)

# reports/latency.{json,md,png} and a short table (ci/bench.sh).
.PHONY: bench
bench: build
	bash ci/bench.sh $(BUILD)

# make fuzz / make repro
include ci/fuzz.mk
