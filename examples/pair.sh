#!/usr/bin/env bash
# Paired benchmark: alternate two ovn binaries (say, a release build of main before and after a
# change) on the same generated ledger, and print the median wall time and peak memory of each
# (`/usr/bin/time -f "%e %M"`), cold, warm and after one new commit. Runs alternate so that a
# busy moment hurts both alike; each binary reads its own hard-linked copy of the ledger, so
# their caches never mix. Not a test: it reports, it never fails on a number.
#
#   bash examples/bench.sh 1000000                       # generates /tmp/ovn-bench/ledger-1000000
#   cp -al /tmp/ovn-bench/ledger-1000000 /tmp/ovn-bench/ledger-1000000-b
#   cp -al /tmp/ovn-bench/ledger-1000000 /tmp/ovn-bench/ledger-1000000-a
#   bash examples/pair.sh OLD/ovn NEW/ovn /tmp/ovn-bench/ledger-1000000 5
#
# Needs git and /usr/bin/time; the ledger needs a project `air` (as examples/gen_ledger.rs makes).
# Usage: pair.sh BEFORE AFTER LEDGER [RUNS, default 3]
set -u
export LC_ALL=C
b=$1; a=$2; L=$3; runs=${4:-3}; Lb=$L-b; La=$L-a
export OVN_NOW=2027-01-15T12:00:00+00:00 LC_ALL=C
t() { /usr/bin/time -f "%e %M" -o /tmp/pt.out "$@" >/dev/null 2>&1; read -r w m < /tmp/pt.out; echo "$w $((m/1024))"; }
row() { # name state cmd...
  local name=$1 state=$2; shift 2
  local rb=() ra=()
  for i in $(seq "$runs"); do
    for which in b a; do
      bin=${!which}
      if [ "$which" = b ]; then LL=$Lb; else LL=$La; fi; if [ "$state" = cold ]; then rm -rf "$LL/.git/ovn/cache"; fi
      r=$(t "$bin" -C "$LL" "$@")
      if [ "$which" = b ]; then rb+=("$r"); else ra+=("$r"); fi
    done
  done
  med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1; m[NR]=$2} END {i=int((NR+1)/2); print a[i]" s "m[i]" MiB"}'; }
  echo "| $name | $state | $(med "${rb[@]}") | $(med "${ra[@]}") |"
}
echo "| command | state | before (median wall, peak) | after |"
echo "|---|---|---|---|"
row "check --at HEAD" cold check --at HEAD
row "payout 100000 -p air --at HEAD" cold payout 100000 -p air --at HEAD
row "report contributions --by agent --at HEAD" cold report contributions --by agent --at HEAD
# warm: each binary fills its own copy's cache once, then answers from it.
for cmd in "check --at HEAD" "payout 100000 -p air --at HEAD"; do
  "$b" -C "$Lb" $cmd >/dev/null 2>&1; "$a" -C "$La" $cmd >/dev/null 2>&1
done
row "check --at HEAD" warm check --at HEAD
row "payout 100000 -p air --at HEAD" warm payout 100000 -p air --at HEAD
# one new: B = A + one contribution, never read before; cache warm for A.
ones=0
onenew() { # ledger -> prints new commit
  local L=$1 id blob tree day=contributions/2027/01/15 base
  base=$(git -C "$L" rev-parse refs/heads/main)
  id=$(printf '01mcckg2g0pair%012d' "$ones")
  blob=$(printf 'id = "%s"\nagent = "%s"\ndate = 2027-01-15\nproject = "air"\nkind = "work"\ndescription = "One more"\nhours = "1"\n' "$id" "$AGENT" | git -C "$L" hash-object -w --stdin)
  sub() { git -C "$L" rev-parse -q --verify "$1" 2>/dev/null || true; }
  local t0 t1 t2 t3 t4
  t4=$( { git -C "$L" ls-tree "$base:contributions/2027/01/15" 2>/dev/null; printf '100644 blob %s\t%s.toml\n' "$blob" "$id"; } | git -C "$L" mktree)
  t3=$( { git -C "$L" ls-tree "$base:contributions/2027/01" 2>/dev/null | awk -F'\t' '$2!="15"'; printf '040000 tree %s\t15\n' "$t4"; } | git -C "$L" mktree)
  t2=$( { git -C "$L" ls-tree "$base:contributions/2027" 2>/dev/null | awk -F'\t' '$2!="01"'; printf '040000 tree %s\t01\n' "$t3"; } | git -C "$L" mktree)
  t1=$( { git -C "$L" ls-tree "$base:contributions" | awk -F'\t' '$2!="2027"'; printf '040000 tree %s\t2027\n' "$t2"; } | git -C "$L" mktree)
  t0=$( { git -C "$L" ls-tree "$base" | awk -F'\t' '$2!="contributions"'; printf '040000 tree %s\tcontributions\n' "$t1"; } | git -C "$L" mktree)
  echo "one more" | GIT_AUTHOR_NAME=b GIT_AUTHOR_EMAIL=b@x GIT_COMMITTER_NAME=b GIT_COMMITTER_EMAIL=b@x git -C "$L" commit-tree "$t0" -p "$base"
}
AGENT=$(git -C "$Lb" cat-file -p "HEAD:projects/air.toml" | sed -n 's/^stewards = \["\([^"]*\)".*/\1/p')
for what in "payout 100000 -p air --at" "check --at"; do
  rb=(); ra=()
  for i in $(seq "$runs"); do
    ones=$((ones+1))
    for which in b a; do
      bin=${!which}; if [ "$which" = b ]; then LL=$Lb; else LL=$La; fi
      "$bin" -C "$LL" $what HEAD >/dev/null 2>&1
      B=$(onenew "$LL")
      r=$(t "$bin" -C "$LL" $what "$B")
      if [ "$which" = b ]; then rb+=("$r"); else ra+=("$r"); fi
    done
  done
  med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1; m[NR]=$2} END {i=int((NR+1)/2); print a[i]" s "m[i]" MiB"}'; }
  echo "| $what B | one new | $(med "${rb[@]}") | $(med "${ra[@]}") |"
done
