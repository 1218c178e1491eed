#!/usr/bin/env bash
# Runs the Swift test suites (already built) with a bound on the whole run, so a test that hangs
# fails the run with its name instead of using up CI's time. On a failure or the timeout it
# prints the tests that started and never finished, which a log's last lines may not show.
# Usage: SWIFT=swift TEST_TIMEOUT_MINUTES=30 scripts/run-swift-tests.sh [swift test arguments]
set -uo pipefail
swift="${SWIFT:-swift}"
minutes="${TEST_TIMEOUT_MINUTES:-30}"
log="$(mktemp -t swift-test.XXXXXX.log)"
trap 'rm -f "$log"' EXIT

# Not a pipe into tee: a test process left over after the timeout would hold the pipe open.
timeout --signal=TERM --kill-after=30s "${minutes}m" "$swift" test --skip-build "$@" >"$log" 2>&1 &
runner=$!
tail -n +1 --pid="$runner" -f "$log"
wait "$runner"
status=$?
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    pkill -KILL -f 'PackageTests\.xctest' 2>/dev/null || true
fi
if [ "$status" -ne 0 ]; then
    { [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; } && echo "swift test did not finish within ${minutes} minutes" >&2
    # Swift Testing prints `◇ Test name() started.` and later `✔`/`✘ Test name() …`.
    unfinished="$(awk '
        / Test .* started\.$/ && !/Test case passing/ { name = $0; sub(/^.* Test /, "", name); sub(/ started\.$/, "", name); open[name] = 1 }
        / Test .* (passed|failed|skipped)/ { for (n in open) if (index($0, "Test " n " ") > 0) delete open[n] }
        END { for (n in open) print "  " n }' "$log")"
    if [ -n "$unfinished" ]; then
        echo "tests that started and never finished:" >&2
        echo "$unfinished" >&2
    fi
fi
exit "$status"
