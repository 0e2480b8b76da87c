#!/usr/bin/env bash
# The outputs a refactoring must not change: runs one ovn binary over a ledger (for example one
# examples/bench.sh generated) and prints the md5 of each command's output and its exit code,
# one line per command. Run it with the binary before and after a change and `diff` the two
# listings: any line that differs is a behaviour change. Reads only, with --no-cache, so the
# two runs never share a cache. The review row needs a commit on top of the one before it
# (HEAD~1..HEAD); with a single commit it reviews the empty change HEAD..HEAD.
#
#   bash examples/outputs.sh OLD/ovn /tmp/ovn-bench/ledger-100000 air > before.txt
#   bash examples/outputs.sh NEW/ovn /tmp/ovn-bench/ledger-100000 air > after.txt
#   diff before.txt after.txt && echo identical
#
# Run both binaries at the same commit: examples/fablab is read at this repository's HEAD,
# and outputs name commits. `check --history` remembers what it proved (.git/ovn/verified,
# kept even with --no-cache), so its row matches only when both runs start from the same
# state (for example each on its own fresh `cp -al` copy with .git/ovn removed).
#
# Usage: outputs.sh OVN LEDGER PROJECT [AMOUNT, default 100000]
set -u
export LC_ALL=C OVN_NOW=2027-01-15T12:00:00+00:00 TZ=UTC
ovn=$1; L=$2; p=$3; amount=${4:-100000}
base=HEAD~1
git -C "$L" rev-parse -q --verify "$base^{commit}" >/dev/null || base=HEAD
site=$(mktemp -d)
trap 'rm -rf "$site"' EXIT
row() { # name, then the command's arguments
  local name=$1 out code
  shift
  out=$("$ovn" --no-cache -C "$L" "$@" 2>&1; echo "exit $?")
  code=${out##*exit }
  printf '%s  exit %s  %s\n' "$(printf '%s' "$out" | md5sum | cut -c1-32)" "$code" "$name"
}
row "check --at HEAD" check --at HEAD
row "check --history" check --history
row "payout" payout "$amount" -p "$p" --at HEAD
row "payout json explain" payout "$amount" -p "$p" --at HEAD --format json --explain
row "payout markdown" payout "$amount" -p "$p" --at HEAD --format markdown
row "report contributions by agent" report contributions --by agent --at HEAD
row "report contributions by project,month csv" report contributions --by project,month --at HEAD --format csv
row "report claims" report claims --at HEAD
row "report claims json" report claims --at HEAD --format json
row "report payouts" report payouts --at HEAD
row "report resources" report resources --at HEAD
row "review" review "$base..HEAD" --amount "$amount"
row "review markdown" review "$base..HEAD" --amount "$amount" --format markdown
row "review json" review "$base..HEAD" --amount "$amount" --format json
row "export hledger" export hledger --at HEAD
row "export csv" export csv --at HEAD
row "export valueflows" export valueflows --at HEAD
"$ovn" --no-cache -C "$L" site "$site/out" --at HEAD >/dev/null 2>&1
code=$?
printf '%s  exit %s  %s\n' "$(cd "$site" && find . -type f | sort | xargs md5sum | md5sum | cut -c1-32)" "$code" "site"
