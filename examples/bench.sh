#!/usr/bin/env bash
# Benchmark: generate large ledgers and time ovn on them (whole-process wall time and peak
# memory, median of several runs). Not a test: it reports, it never fails on a number.
#
#   bash examples/bench.sh                     # 10,000 / 100,000 / 1,000,000 contributions
#   bash examples/bench.sh 10000 100000        # chosen sizes
#   RUNS=3 BENCH_DIR=/tmp/ovn-bench bash examples/bench.sh 1000000
#
# Ledgers are generated once per size under $BENCH_DIR (default /tmp/ovn-bench, never inside
# the repository) by examples/gen_ledger.rs, packed as after `git gc`. Needs /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 1000000)
runs=${RUNS:-5}
dir=${BENCH_DIR:-/tmp/ovn-bench}
mkdir -p "$dir"
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is needed (apt-get install time)" >&2; exit 1; }

cargo build --release --quiet --bin ovn --example gen_ledger
target=${CARGO_TARGET_DIR:-$PWD/target}
ovn=$target/release/ovn
gen=$target/release/examples/gen_ledger

# median of the numbers on stdin
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# time_cmd LABEL RECORDS CMD...: prints a table row
time_cmd() {
    local label=$1 records=$2; shift 2
    local walls=() peaks=()
    "$@" >/dev/null 2>&1 || true # warm-up (page cache)
    for _ in $(seq "$runs"); do
        local out
        /usr/bin/time -f "%e %M" -o "$dir/time.out" "$@" >/dev/null 2>&1 || true
        out=$(tail -1 "$dir/time.out")
        walls+=("${out% *}")
        peaks+=("${out#* }")
    done
    local wall peak
    wall=$(printf '%s\n' "${walls[@]}" | median)
    peak=$(printf '%s\n' "${peaks[@]}" | median)
    awk -v l="$label" -v r="$records" -v w="$wall" -v p="$peak" 'BEGIN {
        printf "| %s | %d | %.2f s | %d records/s | %.0f MiB |\n", l, r, w, (w > 0 ? r / w : 0), p / 1024 }'
}

echo "| command | contributions | median wall | throughput | peak memory |"
echo "|---|---|---|---|---|"
for n in "${sizes[@]}"; do
    ledger="$dir/ledger-$n"
    if [ ! -d "$ledger/.git" ]; then
        rm -rf "$ledger"
        "$gen" --contributions "$n" --out "$ledger" 2>/dev/null
    fi
    project=$(git -C "$ledger" ls-tree --name-only HEAD projects/ | head -1 | sed 's|projects/||; s|\.toml$||')
    time_cmd "ovn check --at HEAD" "$n" "$ovn" -C "$ledger" check --at HEAD
    time_cmd "ovn payout 100000 -p $project --at HEAD" "$n" "$ovn" -C "$ledger" payout 100000 -p "$project" --at HEAD
done
