#!/usr/bin/env bash
# Builds the libFuzzer targets in Tests/Fuzz with swiftc (-sanitize=fuzzer,address) and runs
# each for a bounded time. Not part of `make test`; see docs/security.md ("Fuzzing").
#
#   scripts/fuzz.sh [target ...]     default: every target
#   FUZZ_SECONDS=60                  time per target (libFuzzer -max_total_time)
#   FUZZ_RUNS=10000000               inputs per target instead of a time (-runs)
#   FUZZ_BUILD=.build-fuzz           scratch directory (never the shared .build)
#   FUZZ_NICE=10                     niceness of the builds and runs
#   FUZZ_OPT=-O                      optimisation of the instrumented code (-O as shipped; -Onone adds asserts)
#
# Each target is compiled from the sources it fuzzes (Protocol as a module, plus the few
# Central and EdgeAgent files named below), not from the SwiftPM graph: no Hummingbird, NIO or
# GRDB to instrument, and the shared .build is never touched. The working corpus grows in
# $FUZZ_BUILD/corpus/<target>, seeded from Tests/Fuzz/corpus/<target>; a crash leaves its input
# in $FUZZ_BUILD/artifacts/<target>/ and fails the script with the command that replays it.
set -euo pipefail
cd "$(dirname "$0")/.."

all_targets=(audio-frame control-message opus-toc dashscope-event edge-start-request)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")

FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
FUZZ_RUNS="${FUZZ_RUNS:-}"
FUZZ_BUILD="${FUZZ_BUILD:-.build-fuzz}"
FUZZ_NICE="${FUZZ_NICE:-10}"
FUZZ_OPT="${FUZZ_OPT:--O}"
SWIFTC="${SWIFTC:-$(command -v swiftc 2>/dev/null || echo /opt/swift/usr/bin/swiftc)}"

# libopus (the TOC parser's reference), and libstdc++ for libFuzzer's C++ runtime.
scripts/install-deps.sh libopus-dev libstdc++-12-dev binutils
[ -x "$SWIFTC" ] || { echo "fuzz: no swiftc (set SWIFTC or install the Swift toolchain)" >&2; exit 1; }
resource_dir="$(dirname "$(dirname "$(readlink -f "$SWIFTC")")")/lib"
if ! find "$resource_dir" -name "libclang_rt.fuzzer-$(uname -m).a" 2>/dev/null | grep -q .; then
  echo "fuzz: the Swift toolchain at $SWIFTC has no libFuzzer runtime (libclang_rt.fuzzer-$(uname -m).a)" >&2
  exit 1
fi

# No allocation stack traces kept for ASan reports: the JSON targets allocate per token and
# spend most of their time recording them. Replay a crash with ASAN_OPTIONS= for full stacks.
export ASAN_OPTIONS="${ASAN_OPTIONS:-malloc_context_size=0}"
# libFuzzer prints the stack of a trap itself; Swift's own backtracer trips over ASan here.
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"

mkdir -p "$FUZZ_BUILD"/{protocol,bin,dict}
common=(-parse-as-library -swift-version 6 -enable-upcoming-feature ExistentialAny "$FUZZ_OPT" -g -sanitize=fuzzer,address)
run_nice() { nice -n "$FUZZ_NICE" "$@"; }
# ld.gold's "Cannot export local symbol" lines are harmless (docs/security.md).
quiet_link() { grep -v "Cannot export local symbol" || true; }

echo "fuzz: building Protocol (instrumented) in $FUZZ_BUILD"
mapfile -t protocol_sources < <(find Sources/Protocol -name '*.swift' | sort)
run_nice "$SWIFTC" "${common[@]}" -module-name Protocol \
  -emit-module -emit-module-path "$FUZZ_BUILD/protocol/Protocol.swiftmodule" \
  -emit-library -static -o "$FUZZ_BUILD/protocol/libProtocol.a" "${protocol_sources[@]}" 2>&1 | quiet_link
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "fuzz: Protocol did not build" >&2; exit 1; }

# Sources each target compiles besides its entry point (Tests/Fuzz/<Dir>/<Dir>Fuzz.swift).
sources_for() {
  case "$1" in
    audio-frame) echo Tests/Fuzz/AudioFrame/AudioFrameFuzz.swift ;;
    control-message) echo Tests/Fuzz/ControlMessage/ControlMessageFuzz.swift ;;
    opus-toc) echo Tests/Fuzz/OpusPacket/OpusPacketFuzz.swift ;;
    dashscope-event)
      echo Sources/Central/Providers/DashScope/DashScopeMessages.swift \
        Sources/Central/Providers/DashScope/DashScopeTaskEvents.swift \
        Sources/Central/Providers/Engine/ProviderRelayState.swift \
        Sources/Central/Providers/Engine/ProviderTaskEvent.swift \
        Sources/Central/Providers/Engine/ProviderTaskResult.swift \
        Sources/Central/Providers/Engine/ProviderFailure.swift \
        Sources/Central/Streaming/SpeechProvider.swift \
        Sources/Central/Providers/Keys/ProviderKeySource.swift \
        Tests/Fuzz/DashScopeEvent/DashScopeEventFuzz.swift ;;
    edge-start-request)
      echo Sources/EdgeAgent/LocalAPI/TranslationStartRequest.swift \
        Tests/Fuzz/EdgeStartRequest/EdgeStartRequestFuzz.swift ;;
    *) return 1 ;;
  esac
}

for target in "${targets[@]}"; do
  read -r -a sources <<<"$(sources_for "$target")" || { echo "fuzz: unknown target $target (one of: ${all_targets[*]})" >&2; exit 2; }
  echo "fuzz: building $target"
  module="Fuzz_${target//-/_}"
  run_nice "$SWIFTC" "${common[@]}" -module-name "$module" -I "$FUZZ_BUILD/protocol" -I Sources/COpus \
    -L "$FUZZ_BUILD/protocol" -lProtocol "${sources[@]}" -o "$FUZZ_BUILD/bin/$target" 2>&1 | quiet_link
  [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "fuzz: $target did not build" >&2; exit 1; }
done

summary="$FUZZ_BUILD/summary.txt"
: >"$summary"
failed=()
for target in "${targets[@]}"; do
  corpus="$FUZZ_BUILD/corpus/$target"
  artifacts="$FUZZ_BUILD/artifacts/$target"
  log="$FUZZ_BUILD/$target.log"
  mkdir -p "$corpus" "$artifacts"
  args=(-artifact_prefix="$artifacts/" -print_final_stats=1 -timeout=10 -rss_limit_mb=4096)
  # A DashScope task's events are each well under 1 KB; longer inputs only slow the decoder down.
  [ "$target" = dashscope-event ] && args+=(-max_len=2048)
  dict="$FUZZ_BUILD/dict/$target.dict"
  : >"$dict"
  if [ -f "Tests/Fuzz/dict/$target.dict" ]; then
    cat Tests/Fuzz/dict/json-common.dict "Tests/Fuzz/dict/$target.dict" >"$dict"
    args+=(-dict="$dict")
  fi
  if [ -n "$FUZZ_RUNS" ]; then
    args+=(-runs="$FUZZ_RUNS")
    bound="$FUZZ_RUNS inputs"
  else
    args+=(-max_total_time="$FUZZ_SECONDS")
    bound="$FUZZ_SECONDS s"
  fi
  echo "fuzz: running $target ($bound); log $log"
  started=$(date +%s)
  set +e
  run_nice "$FUZZ_BUILD/bin/$target" "${args[@]}" "$corpus" "Tests/Fuzz/corpus/$target" >"$log" 2>&1
  status=$?
  set -e
  elapsed=$(( $(date +%s) - started ))
  runs=$(grep -a 'stat::number_of_executed_units' "$log" | awk '{print $2}' | tail -1)
  rate=$(grep -a 'stat::average_exec_per_sec' "$log" | awk '{print $2}' | tail -1)
  line="$target: ${runs:-?} inputs in ${elapsed} s (${rate:-?} exec/s), corpus $(find "$corpus" -type f | wc -l) files"
  if [ "$status" -ne 0 ]; then
    crash=$(grep -a -o "Test unit written to [^ ]*" "$log" | tail -1 | sed 's/Test unit written to //')
    line="$line — FAILED (exit $status)${crash:+; replay: SWIFT_BACKTRACE=enable=no $FUZZ_BUILD/bin/$target $crash}"
    failed+=("$target")
    grep -a -m 20 -E "Fatal error|runtime failure|ERROR: |SUMMARY: |crashed" "$log" >&2 || true
  fi
  echo "$line" | tee -a "$summary"
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failures in ${failed[*]} (logs and inputs under $FUZZ_BUILD)" >&2
  exit 1
fi
echo "fuzz: no crash, no trap ($summary)"
