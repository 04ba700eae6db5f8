# The README's commands. `make` builds build/kedge; `make test` and
# `make demo` install missing Debian packages first (scripts/install-deps.sh).
BUILD ?= build
TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)

.PHONY: all build deps test test-asan demo fuzz clean bench

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja $(BUILD)/Makefile:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(TYPE)

build: $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

test: deps
	$(MAKE) build
	cd $(BUILD) && ctest --output-on-failure -j 2
	$(MAKE) test-asan

# The unit tests and fuzz corpora again under address+undefined sanitizers,
# then the end-to-end suite against the sanitized binary.
test-asan:
	$(MAKE) build BUILD=build-asan TYPE=Asan
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j 2

demo: deps
	$(MAKE) build
	bash scripts/demo.sh

fuzz:
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Fuzz
	cmake --build build-fuzz -j $(JOBS)

bench: build
	bash bench/run.sh

clean:
	rm -rf build build-asan build-fuzz
