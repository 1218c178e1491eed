# The README's two commands: `make run` and `make test`. Both install what they need first.
SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
CENTRAL_PORT ?= 8080

.PHONY: run test deps build bench bench-admissions bench-edge bench-pinned load clean customer-bundle container-check image-edge image-central

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build --product central
	$(SWIFT) build --product edge-agent

## Build and start central on a SQLite file under ./data with a demo license.
run: deps
	@SWIFT="$(SWIFT)" CENTRAL_PORT="$(CENTRAL_PORT)" scripts/run-dev.sh

## Build everything, then run every test (unit, live-server, CLI) on real SQLite files and on a
## real PostgreSQL server of its own (scripts/postgres-test-server.sh, stopped however the tests end).
test: deps
	$(SWIFT) build --build-tests
	@pg_dir="$$(scripts/postgres-test-server.sh start)" || exit 1; \
	trap 'scripts/postgres-test-server.sh stop "$$pg_dir"' EXIT; trap 'exit 130' INT TERM; \
	CENTRAL_TEST_POSTGRES_URL="$$(cat "$$pg_dir/url")" SWIFT="$(SWIFT)" scripts/run-swift-tests.sh --no-parallel
	scripts/test-dashscope-sdk.sh
	scripts/test-deepgram-sdk.sh
	scripts/test-openai-sdk.sh
	$(MAKE) test-browser

## Admission throughput and latency on SQLite (a measurement, not a test; see docs/benchmarks.md).
bench: deps
	$(SWIFT) build -c release --product central-bench
	.build/release/central-bench --mode store --concurrency 4 --admissions 20000
	.build/release/central-bench --mode http --concurrency 8 --admissions 10000

## Admissions/s and p99 on PostgreSQL, one central and three behind nginx, servers pinned to core 0
## and the driver to core 1 (docs/benchmarks.md, "Admissions on PostgreSQL"; LAYOUTS, CONCURRENCY,
## ADMISSIONS as in scripts/bench-admissions.sh).
bench-admissions: deps
	SWIFT="$(SWIFT)" scripts/bench-admissions.sh

## Edge CPU and RSS while streaming one stream (docs/benchmarks.md).
bench-edge: deps
	SWIFT="$(SWIFT)" scripts/edge-bench.sh

## Streaming load: N simulated edges at real-time pace against a fresh central (docs/benchmarks.md).
load: deps
	$(SWIFT) build -c release --product central
	$(SWIFT) build -c release --product loadgen
	.build/release/loadgen --streams 100 --streams 500 --streams 1000 --streams 2000 --duration 15

## Relay CPU per frame with central pinned to core 0 and loadgen to core 1, and nginx as the floor
## (docs/benchmarks.md, "Pinned relay cost"); STREAMS, DURATION, FLOOR as in scripts/bench-pinned.sh.
bench-pinned: deps
	SWIFT="$(SWIFT)" scripts/bench-pinned.sh

## Instance faults (issue 13): its own PostgreSQL, INSTANCES central instances behind nginx,
## STREAMS resuming clients, KILLS random kill -9 (docs/benchmarks.md, "Instance faults"). Not a test.
.PHONY: fault-kill
fault-kill: deps
	SWIFT="$(SWIFT)" BUILD=$${BUILD:-1} scripts/fault-kill.sh

## Fuzz the decoders (libFuzzer + ASan, scratch dir .build-fuzz): each target FUZZ_SECONDS (default 60)
## or FUZZ_RUNS inputs; FUZZ_TARGETS picks some. Not part of `make test` (docs/security.md, "Fuzzing").
.PHONY: fuzz
FUZZ_SECONDS ?= 60
fuzz:
	@FUZZ_SECONDS="$(FUZZ_SECONDS)" FUZZ_RUNS="$(FUZZ_RUNS)" SWIFTC="$(dir $(SWIFT))swiftc" scripts/fuzz.sh $(FUZZ_TARGETS)

clean:
	rm -rf .build

# ---- Packaging (README: "Installing (customer)" and "Deploying central (vendor)") ----
VERSION := $(shell cat VERSION 2>/dev/null || git describe --tags --always 2>/dev/null || echo dev)
REVISION := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
SOURCE_URL ?= $(shell git config --get remote.origin.url 2>/dev/null || echo unspecified)
CONTAINER_ENGINE ?= docker
EDGE_IMAGE ?= speech-edge/edge-agent:$(VERSION)
CENTRAL_IMAGE ?= speech-edge/central:$(VERSION)
# The vendor's central as customers' edges reach it; compiled into the edge image and preset
# in the customer bundle.
CENTRAL_URL ?= https://central.example.com
DIST ?= .build-dist

## The customer's bundle: $(DIST)/speech-edge-customer-$(VERSION).tar.gz (compose file, .env.example, start/stop scripts, READMEs).
customer-bundle:
	@VERSION="$(VERSION)" CENTRAL_URL="$(CENTRAL_URL)" EDGE_IMAGE="$(EDGE_IMAGE)" DIST="$(DIST)" \
	  CENTRAL_CA_FILE="$(CENTRAL_CA_FILE)" EDGE_IMAGE_TAR="$(EDGE_IMAGE_TAR)" Packaging/make-customer-bundle.sh

## Images, built from source in a Swift builder stage (needs a container engine that can pull swift and debian).
image-edge:
	$(CONTAINER_ENGINE) build -f docker/edge.Dockerfile -t $(EDGE_IMAGE) -t speech-edge/edge-agent:latest \
	  --build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) --build-arg SOURCE_URL=$(SOURCE_URL) \
	  --build-arg VENDOR_CENTRAL_URL=$(if $(filter https://central.example.com,$(CENTRAL_URL)),,$(CENTRAL_URL)) .

image-central:
	$(CONTAINER_ENGINE) build -f docker/central.Dockerfile -t $(CENTRAL_IMAGE) -t speech-edge/central:latest \
	  --build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) --build-arg SOURCE_URL=$(SOURCE_URL) .

## Images (runtime stages with the debug binaries from `make test`, podman + debootstrap, no Docker engine),
## customer bundle, compose schemas, systemd units. Run as root on Debian 12 after `make test`.
container-check:
	@scripts/container-check.sh

## The page in headless Chromium against a real central and edge (needs `swift build --build-tests` first).
.PHONY: test-browser
test-browser:
	@scripts/install-browser-deps.sh
	PYTHONDONTWRITEBYTECODE=1 .build/browser-venv/bin/python -m unittest discover -s Tests/Browser -v
