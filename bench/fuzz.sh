#!/usr/bin/env bash
# Runs a cargo-fuzz target for a given time and says whether it stayed clean.
#
#   bench/fuzz.sh [seconds] [target]        e.g.  bench/fuzz.sh 180 config
#
# Targets (one per parser of untrusted input; docs/benchmarks.md, "Fuzzing", says what each
# feeds to which function):
#   condition              condition text        -> rollgate_expr::Condition::parse
#   config                 rollgate.toml text    -> rollgate_config::parse
#   events                 POST /v1/events body  -> the server's router, ControlPlane::record_json_events
#   cookies_and_overrides  header/cookie values  -> OverrideSettings::verify_signed, RoutingTable::decide
#   routing_spec           snapshot JSON         -> RoutingSpec, RoutingTable::build, decide
#   metrics_json           metrics document JSON -> RolloutMetrics, rollgate_analysis::analyze
#   window_json            pushed window JSON    -> Window, WindowStore::insert, metrics, analyze
#
# Targets live in fuzz/fuzz_targets/<target>.rs. Seeds in fuzz/seeds/<target>/ and a dictionary
# in fuzz/dicts/<target>.dict are used when present; the growing corpus goes to
# fuzz/corpus/<target>/ (not committed), crashes to fuzz/artifacts/<target>/.
# Needs a nightly toolchain; installs cargo-fuzz when it is missing. Exit status: 0 clean
# (or skipped for lack of nightly), 1 the fuzzer found a failure, 2 usage or setup error.
set -euo pipefail

seconds="${1:-60}"
target="${2:-condition}"
root="$(cd "$(dirname "$0")/.." && pwd)"
fuzz_dir="$root/fuzz"

targets() { ls "$fuzz_dir/fuzz_targets" | sed 's/\.rs$//; s/^/  /' >&2; }
case "$seconds" in
  ''|*[!0-9]*) echo "usage: $0 [seconds] [target]; targets:" >&2; targets; exit 2 ;;
esac
if [[ ! -f "$fuzz_dir/fuzz_targets/$target.rs" ]]; then
  echo "no fuzz target '$target'; targets:" >&2
  targets
  exit 2
fi
if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  echo "fuzz: no nightly toolchain (rustup toolchain install nightly); skipping '$target'"
  exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  cargo install cargo-fuzz --locked || exit 2
fi

corpus="$fuzz_dir/corpus/$target"
mkdir -p "$corpus"
corpora=("$corpus")
[[ -d "$fuzz_dir/seeds/$target" ]] && corpora+=("$fuzz_dir/seeds/$target")
flags=(-max_total_time="$seconds" -print_final_stats=1)
[[ -f "$fuzz_dir/dicts/$target.dict" ]] && flags+=(-dict="$fuzz_dir/dicts/$target.dict")

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
echo "fuzz: running '$target' for ${seconds}s"
set +e
(cd "$root" && cargo +nightly fuzz run --fuzz-dir "$fuzz_dir" "$target" "${corpora[@]}" -- "${flags[@]}") 2>&1 \
  | tee "$log" | grep -E '^(#[0-9]+ +(DONE|pulse))|^==|^thread|panicked|SUMMARY|Test unit written|^error'
status="${PIPESTATUS[0]}"
set -e

runs="$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1 || true)"
rss="$(grep -oE 'stat::peak_rss_mb: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1 || true)"
secs="$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | grep -oE 'in [0-9]+' | grep -oE '[0-9]+' | tail -1 || true)"
if [[ -z "$runs" ]] && ! grep -q 'Running: ' "$log" && ! grep -q '^INFO: Seed' "$log"; then
  echo "fuzz: '$target' did not run (build or setup failed, exit $status):"
  tail -40 "$log"
  exit 2
fi
if [[ "$status" -eq 0 ]]; then
  echo "fuzz: '$target' clean: ${runs:-?} executions in ${secs:-$seconds}s, peak RSS ${rss:-?} MB"
  exit 0
fi
echo "fuzz: '$target' FAILED after ${runs:-?} executions (exit $status); see the output above and fuzz/artifacts/$target/"
tail -40 "$log"
exit 1
