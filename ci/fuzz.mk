# Fuzzing targets of the root Makefile (included by it).
#   make fuzz [ENGINE=libfuzzer|afl] [TARGETS="hcall gpt"] [FUZZ_SECONDS=180] [JOBS=N]
#   make repro CRASH=FILE [TARGET=name]
#   make fuzz-coverage [TARGETS="hcall gpt"]   reports/fuzz-coverage/ (ci/fuzz-coverage.sh)
# JOBS is the Makefile's build parallelism too; fuzzing uses one core per
# target unless JOBS is given explicitly.
ENGINE ?= libfuzzer
FUZZ_SECONDS ?= 180
TARGETS ?=
FUZZ_JOBS ?= $(if $(filter command line environment,$(origin JOBS)),$(JOBS),1)

.PHONY: fuzz repro fuzz-coverage

fuzz: configure
	ENGINE=$(ENGINE) TARGETS="$(TARGETS)" FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) \
		BUILD=$(BUILD) BUILD_JOBS=$(JOBS) bash ci/fuzz.sh

repro: configure
	BUILD=$(BUILD) bash ci/repro.sh "$(CRASH)" $(TARGET)

# The coverage build compiles with JOBS jobs (default: every core).
fuzz-coverage: $(BUILD)/.deps
	TARGETS="$(TARGETS)" BUILD_JOBS=$(JOBS) bash ci/fuzz-coverage.sh
