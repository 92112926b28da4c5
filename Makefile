# Makefile - a thin front for CMake: build, test (unit + integration, then all of them again
# under ASan/UBSan, then the unit tests under valgrind), the demo, and the chaos, bench and fuzz runs.
#
#   make            build into build/ (RelWithDebInfo)
#   make test       deps, build, ctest, ASan+UBSan, TSan, valgrind: what CI runs
#   make demo       start the embedded PostgreSQL, run the pipeline, show the results
#   make clean      remove the build trees

BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
JOBS       ?= 2
CMAKE      ?= cmake
CTEST      ?= ctest
VALGRIND   ?= valgrind --quiet --error-exitcode=1 --leak-check=full \
              --errors-for-leak-kinds=definite,indirect

MAKEFLAGS += --no-print-directory

# What the helper scripts need to find the binary and the sources.
SCRIPT_ENV = SLUICE_BIN=$(CURDIR)/$(BUILD)/sluice SLUICE_SRC=$(CURDIR)

.PHONY: all build deps test ctest asan tsan valgrind demo chaos bench fuzz clean install compose-test

all: build

build:
	$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	$(CMAKE) --build $(BUILD) -j $(JOBS)

deps:
	scripts/install-deps.sh

test: deps
	$(MAKE) build
	$(MAKE) ctest
	$(MAKE) asan
	$(MAKE) tsan
	$(MAKE) valgrind

ctest:
	$(CTEST) --test-dir $(BUILD) --output-on-failure

# Every test again (unit and integration, so the real binary too), built with AddressSanitizer
# and UndefinedBehaviorSanitizer.
asan:
	$(CMAKE) -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_SANITIZE=ON
	$(CMAKE) --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		$(CTEST) --test-dir $(ASAN_BUILD) --output-on-failure

# The integration tests (the real binary, its worker threads) once more under ThreadSanitizer;
# any report ends the process with status 66 and fails the test.
tsan:
	$(CMAKE) -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_TSAN=ON
	$(CMAKE) --build $(TSAN_BUILD) -j $(JOBS)
	TSAN_OPTIONS=halt_on_error=1:exitcode=66:second_deadlock_stack=1 \
		$(CTEST) --test-dir $(TSAN_BUILD) --output-on-failure -L integration

# The unit tests of the normal build under valgrind (run from the source tree, as ctest does).
valgrind:
	@set -e; n=0; for t in $(BUILD)/test_*; do \
		[ -x "$$t" ] || continue; \
		echo "valgrind $$t"; \
		$(VALGRIND) "$$t" >/dev/null; \
		n=$$((n + 1)); \
	done; echo "valgrind: $$n unit tests clean"

demo: deps
	$(MAKE) build
	$(SCRIPT_ENV) scripts/demo.sh

# The full chaos suite (issue 3 sizes); the quick one runs inside `make test`.
chaos: build
	CHAOS=full $(SCRIPT_ENV) bash tests/chaos/run.sh

bench: build
	scripts/install-deps.sh bench
	$(SCRIPT_ENV) BENCH_OUT=bench/CONFLICT.md bash bench/conflict_cost.sh
	$(SCRIPT_ENV) bash bench/run.sh

fuzz: deps
	@if [ -f tests/fuzz/run.sh ]; then $(SCRIPT_ENV) bash tests/fuzz/run.sh; \
	else echo "make fuzz: tests/fuzz/run.sh is not there yet"; fi

# make install [PREFIX=/usr/local] [DESTDIR=staging]: binary, schema, man page, systemd units.
PREFIX ?= /usr/local
install: build
	DESTDIR=$(DESTDIR) $(CMAKE) --install $(BUILD) --prefix $(PREFIX)

# The stack in Docker, scaled out and under fire (own dockerd; not part of make test).
compose-test:
	$(SCRIPT_ENV) bash tests/compose/run.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) build-fuzz
