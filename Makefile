# The README's two commands: `make run` and `make test`. Both install what they need first.
SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
CENTRAL_PORT ?= 8080

.PHONY: run test deps build bench bench-edge load clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build --product central
	$(SWIFT) build --product edge-agent

## Build and start central on a SQLite file under ./data with a demo license.
run: deps
	@SWIFT="$(SWIFT)" CENTRAL_PORT="$(CENTRAL_PORT)" scripts/run-dev.sh

## Build everything, then run every test (unit, live-server, CLI) on real SQLite files.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

## Admission throughput and latency on SQLite (a measurement, not a test; see docs/benchmarks.md).
bench: deps
	$(SWIFT) build -c release --product central-bench
	.build/release/central-bench --mode store --concurrency 4 --admissions 20000
	.build/release/central-bench --mode http --concurrency 8 --admissions 10000

## Edge CPU and RSS while streaming one stream (docs/benchmarks.md).
bench-edge: deps
	SWIFT="$(SWIFT)" scripts/edge-bench.sh

## Streaming load: N simulated edges at real-time pace against a fresh central (docs/benchmarks.md).
load: deps
	$(SWIFT) build -c release --product central
	$(SWIFT) build -c release --product loadgen
	.build/release/loadgen --streams 100 --streams 500 --streams 1000 --streams 2000 --duration 15

clean:
	rm -rf .build
