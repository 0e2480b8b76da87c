#!/usr/bin/env bash
# Networks of networks, end to end: the Open Alliance shares a grant among its member
# networks, each member takes its line in as revenue of one of its own projects and shares it
# by its own value equation, and both sides verify.
#
# The three ledgers are built as git repositories in a temporary folder from the example
# folders (alliance/ and repair-cafe/ here, and ../fablab, reused as it is), so this script
# never writes into the source tree and the fablab member never drifts from examples/fablab.
#
#   examples/open-alliance/run.sh [OVN] [WORKDIR]
#
# OVN defaults to target/debug/ovn of this repository (`cargo build` first); WORKDIR to a new
# temporary folder, removed at the end unless given.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ovn=${1:-"$here/../../target/debug/ovn"}
if [ $# -ge 2 ]; then work=$2; mkdir -p "$work"; else
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fi
export LC_ALL=C TZ=UTC OVN_NOW=2026-12-01T12:00:00+00:00
export GIT_AUTHOR_DATE=2026-12-01T12:00:00+00:00 GIT_COMMITTER_DATE=2026-12-01T12:00:00+00:00

# A ledger repository `name` made of the folder `from`, committed by `email`.
repo() {
  local name=$1 from=$2 email=$3
  mkdir -p "$work/$name"
  cp -R "$from/." "$work/$name/"
  rm -f "$work/$name/README.md"
  git -C "$work/$name" init -q -b main
  git -C "$work/$name" config user.name "$name treasurer"
  git -C "$work/$name" config user.email "$email"
  git -C "$work/$name" add -A
  git -C "$work/$name" commit -q -m "$name: the ledger"
}
say() { printf '\n$ %s\n' "$*"; }
ovn() { say "ovn $*"; "$ovn" "$@"; }
# The id of the payout recorded last in ledger $1.
last_payout() { git -C "$work/$1" log -1 --format= --name-only -- payouts | sed 's|.*/||; s|\.toml$||'; }

repo alliance "$here/alliance" fund@alliance.example
repo fablab "$here/../fablab" fund@fablab.example
repo repair-cafe "$here/repair-cafe" fund@repair-cafe.example
cd "$work"

# 1. Revenue in the parent network: a grant of 3000.00, shared by the alliance's equation.
ovn -C alliance payout 3000 -p grants --date 2026-11-30 --memo "Grant 2026-07" --record
grant=$(last_payout alliance)

# 2. Each member network takes its line in as revenue of one of its projects, and shares it
#    by its own value equation: AMOUNT is the line's (the agent of kind network named like
#    the member network).
ovn -C fablab payout -p lab --from-payout "../alliance:$grant" --date 2026-12-01 --record
fablab=$(last_payout fablab)
ovn -C repair-cafe payout -p repairs --from-payout "../alliance:${grant:0:10}" --date 2026-12-01 --record
repair=$(last_payout repair-cafe)

# The same line cannot be taken in twice.
say "ovn -C fablab payout -p lab --from-payout ../alliance:$grant --date 2026-12-02 --record"
if "$ovn" -C fablab payout -p lab --from-payout "../alliance:$grant" --date 2026-12-02 --record 2>&1; then
  echo "taken in twice!" >&2; exit 1
fi

# 3. Verification both ways: each member re-derives its line from the alliance's repository
#    (a local clone, or a ref fetched into its own repository), and the alliance checks that
#    its lines were taken in.
ovn -C fablab payout verify "$fablab" --source ../alliance
git -C repair-cafe fetch -q ../alliance main:refs/remotes/alliance/main
ovn -C repair-cafe payout verify "$repair" --source alliance/main
ovn -C alliance payout verify "$grant" --receiver ../fablab
ovn -C alliance payout verify "$grant" --receiver ../repair-cafe
ovn -C fablab check
