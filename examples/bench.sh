#!/usr/bin/env bash
# Benchmark: generate large ledgers and time ovn on them, next to ledger-cli and hledger on an
# equivalent journal (whole-process wall time and peak memory, median of several runs). Not a
# test: it reports, it never fails on a number.
#
#   bash examples/bench.sh                          # 10,000 / 100,000 / 1,000,000, both variants
#   bash examples/bench.sh 10000 100000             # chosen sizes
#   RUNS=3 LOOSE_SIZES="10000 100000" bash examples/bench.sh 1000000 > bench.md
#
# Settings (environment):
#   RUNS=5            timed runs per row (after one untimed warm-up run); RUNS=3 is fine for 1M
#   LOOSE_SIZES=...   sizes also measured with loose objects (default: the same sizes; "" for
#                     none). 1M loose is a million files: about 2 minutes more to generate and
#                     about 4 GB of disk, and every cold read of it takes minutes
#   CHECKOUT_SIZES=.. sizes (packed) for which `ovn log` is also timed in a full checkout
#                     (default: the largest size; "" for none; a 1M checkout takes ~25 s, 4 GB)
#   BENCH_DIR=...     where ledgers go (default /tmp/ovn-bench; never inside the repository)
#
# Ledgers are generated once per size and variant under $BENCH_DIR by examples/gen_ledger.rs
# and reused by later runs (delete the folder to regenerate):
#   ledger-N        packed, as after `git gc` or a fresh clone, and journal-N.journal, the same
#                   contributions as one ledger/hledger transaction each (`--journal`);
#   ledger-N-loose  the same commit with every object loose, as freshly committed objects are
#                   before any `git gc` (`--loose`; it sets gc.auto = 0 so nothing packs them).
#
# Rows, for each size and variant (the state column says what the cache held):
#   cold      no `$GIT_DIR/ovn/cache` before every run, as in a fresh clone (the warm-up only fills
#             the page cache): the cache is moved aside into $BENCH_DIR/moved-caches, which is
#             deleted when the benchmark ends. Deleting it before each run instead would time
#             ext4's slower file creation just after a mass deletion (it skips recently freed
#             inodes), not ovn: writing the cache then costs about 1 s more at 1M;
#   warm      the cache filled by the warm-up run and kept;
#   one new   a commit B = A + one new contribution on top of the ledger's commit A: before each
#             run, A is read once (its cache kept warm), and each timed run reads a B that was
#             never read before (a new record id per run, refs/bench/one-K in the ledger), so it
#             sees a cache warm for A and cold for what B changed;
#   ovn export valueflows cold, warm and one new; warm with -o FILE (written, synced and
#             renamed into place) next to `dd ... conv=fsync` writing the same bytes;
#   ovn review A..B with --no-impact and with the payout impact (--amount 100000), cold and one new;
#   ovn log in a bare clone (git clone --bare: objects and a branch move only), in a sparse
#             checkout without contributions/ (cone: agents projects resources agreements; no sparse index), and
#             for CHECKOUT_SIZES in a full checkout with --no-commit and committing, then
#             committing with git's split index (core.splitIndex), and `ovn check --staged`
#             there after `git add` of one new record (the pre-commit hook's case), and of one
#             record that is not TOML (the commit it refuses; exit status 1); the clone's
#             branch, index and files are reset before every run, OVN_NOW pins the day to
#             2027-01-15 (after every generated record) and gc.auto = 0 keeps `git gc --auto`
#             from running in the background;
#   ledger -f J balance and hledger -f J balance on journal-N.journal, where installed.
# Throughput is contributions in the ledger per second of wall time ("—" for commands that do
# not read the whole ledger); the exit column lists the exit statuses of the timed runs.
#
# How long it takes on 2 busy cores: 10,000 and 100,000 in both variants with RUNS=5 about
# 7 minutes; 1,000,000 packed with RUNS=1 about 15 minutes (hledger alone needs about a minute
# and 8 GiB per run).
#
# Needs git, /usr/bin/time (apt-get install time), and optionally ledger and hledger.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 1000000)
runs=${RUNS:-5}
read -r -a loose_sizes <<<"${LOOSE_SIZES-${sizes[*]}}"
largest=$(printf '%s\n' "${sizes[@]}" | sort -n | tail -1)
read -r -a checkout_sizes <<<"${CHECKOUT_SIZES-$largest}"
dir=${BENCH_DIR:-/tmp/ovn-bench}
case "$(realpath -m "$dir")/" in
"$PWD"/*) echo "bench: BENCH_DIR must be outside the repository" >&2; exit 2 ;;
esac
mkdir -p "$dir"
# Left over by an interrupted run.
rm -rf "$dir/moved-caches"
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is needed (apt-get install time)" >&2; exit 1; }

cargo build --release --quiet --bin ovn --example gen_ledger
target=${CARGO_TARGET_DIR:-$PWD/target}
ovn=$target/release/ovn
gen=$target/release/examples/gen_ledger

# The same day and identity for every run, whatever the clock says.
export OVN_NOW=2027-01-15T12:00:00+00:00
export GIT_AUTHOR_DATE=2027-01-15T12:00:00+00:00 GIT_COMMITTER_DATE=2027-01-15T12:00:00+00:00
log_day=contributions/2027/01/15

say() { echo "bench: $*" >&2; }
has() { [ -n "$2" ] && [[ " $1 " == *" $2 "* ]]; }
# 1234567 -> 1,234,567 (the argument, or stdin)
commas() { sed ':a; s/\B[0-9]\{3\}\>/,&/; ta' <<<"${1-$(cat)}"; }

# median of the numbers on stdin
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

rows=()
# row COMMAND VARIANT STATE CONTRIBUTIONS WALL THROUGHPUT PEAK EXIT
row() { rows+=("$(printf '| %s ' "$@")|"); }

# measure LABEL STATE RECORDS PREP MAKE: for i = 0 (warm-up, untimed) .. RUNS, runs `PREP i`,
# then `MAKE i`, which sets the array `cmd`, then cmd; adds one table row. RECORDS is "-" when
# a throughput makes no sense.
measure() {
    local label=$1 state=$2 records=$3 prep=$4 make=$5
    local walls=() peaks=() codes=() i w p x
    say "$variant $n: $label ($state)"
    for i in $(seq 0 "$runs"); do
        "$prep" "$i"
        "$make" "$i"
        if [ "$i" -eq 0 ]; then
            "${cmd[@]}" >/dev/null 2>&1 || true
            continue
        fi
        /usr/bin/time -f "%e %M %x" -o "$dir/time.out" "${cmd[@]}" >/dev/null 2>"$dir/stderr.out" || true
        read -r w p x < <(tail -1 "$dir/time.out")
        walls+=("$w")
        peaks+=("$p")
        codes+=("$x")
    done
    local wall peak exits
    wall=$(printf '%s\n' "${walls[@]}" | median)
    peak=$(printf '%s\n' "${peaks[@]}" | median)
    exits=$(printf '%s\n' "${codes[@]}" | sort -un | paste -sd, -)
    [ "$exits" = 0 ] || say "  exit $exits: $(head -c 300 "$dir/stderr.out" | tr '\n' ' ')"
    row "\`$label\`" "$variant" "$state" "$(commas "$n")" \
        "$(awk -v w="$wall" 'BEGIN { printf "%.2f s", w }')" \
        "$(awk -v r="$records" -v w="$wall" 'BEGIN {
            if (r == "-" || w <= 0) print "—"; else printf "%d\n", r / w }' | commas)$(
            [ "$records" = - ] || echo " records/s")" \
        "$(awk -v p="$peak" 'BEGIN { printf "%.0f MiB", p / 1024 }')" "$exits"
}

none() { :; }
moved=0
drop_cache() {
    if [ -d "$cache" ]; then
        mkdir -p "$dir/moved-caches"
        moved=$((moved + 1))
        mv "$cache" "$dir/moved-caches/$moved"
    fi
}
# The command of the row (`template`, where @REV is the revision read) at the ledger's HEAD,
# and at a new commit B = A + one contribution.
at_head() { cmd=("$ovn" -C "$ledger" "${template[@]//@REV/HEAD}"); }
at_new() {
    one_more
    cmd=("$ovn" -C "$ledger" "${template[@]//@REV/$new_commit}")
}
# Reads A (with `warm_template`) so its cache is warm before B is read.
warm_base() { "$ovn" -C "$ledger" "${warm_template[@]//@REV/$base}" >/dev/null 2>&1 || true; }

# tree_with TREE PATH BLOB: prints the id of tree TREE (an id, or empty for none) with BLOB
# put at PATH, writing only the trees along PATH (as a commit of one record does).
tree_with() {
    local tree=$1 path=$2 blob=$3 head=${2%%/*} entry sub=""
    if [ "$head" = "$path" ]; then
        entry=$(printf '100644 blob %s\t%s' "$blob" "$head")
    else
        [ -z "$tree" ] || sub=$(git -C "$ledger" rev-parse -q --verify "$tree:$head" 2>/dev/null || true)
        entry=$(printf '040000 tree %s\t%s' "$(tree_with "$sub" "${path#*/}" "$blob")" "$head")
    fi
    {
        [ -z "$tree" ] || git -C "$ledger" ls-tree "$tree" | awk -F'\t' -v n="$head" '$2 != n'
        printf '%s\n' "$entry"
    } | git -C "$ledger" mktree
}

# one_more: sets new_commit to a new commit on top of A that adds one work contribution (a new
# id each call, so no run finds it cached); its objects are loose, as after `ovn log`.
ones=0
one_more() {
    ones=$((ones + 1))
    local id blob tree
    id=$(printf '01mcckg2g0bench%011d' "$ones")
    blob=$(printf 'id = "%s"\nagent = "%s"\ndate = 2027-01-15\nproject = "%s"\nkind = "work"\ndescription = "One more"\nhours = "1"\n' \
        "$id" "$agent" "$project" | git -C "$ledger" hash-object -w --stdin)
    tree=$(tree_with "$(git -C "$ledger" rev-parse "$base^{tree}")" "$log_day/$id.toml" "$blob")
    new_commit=$(echo "log: one more" | GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@ovn.example \
        GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@ovn.example \
        git -C "$ledger" commit-tree "$tree" -p "$base")
    git -C "$ledger" update-ref "refs/bench/one-$ones" "$new_commit"
}

# Puts the clone back to A: branch, index entries and files of the logged day.
reset_clone() {
    git -C "$clone" update-ref refs/heads/main "$base"
    local f
    while IFS= read -r f; do
        git -C "$clone" update-index --force-remove -- "$f"
    done < <(git -C "$clone" ls-files -- "$log_day" 2>/dev/null)
    rm -rf "${clone:?}/$log_day"
}
# Puts the clone back to A, then stages one new record (a new id each run) with `git add`:
# what the pre-commit hook then checks.
stage_one() {
    reset_clone
    ones=$((ones + 1))
    local id
    id=$(printf '01mcckg2g0stage%011d' "$ones")
    mkdir -p "$clone/$log_day"
    printf 'id = "%s"\nagent = "%s"\ndate = 2027-01-15\nproject = "%s"\nkind = "work"\ndescription = "Staged"\nhours = %s\n' \
        "$id" "$agent" "$project" "${staged_hours:-\"1\"}" >"$clone/$log_day/$id.toml"
    git -C "$clone" add -- "$log_day/$id.toml"
}
# The same with a record that is not TOML (its hours a bare word): the commit the hook refuses.
stage_broken() { staged_hours=six stage_one; }
# A bare clone has only its branch to put back.
reset_bare() { git -C "$clone" update-ref refs/heads/main "$base"; }
in_clone() { cmd=("$ovn" -C "$clone" "${template[@]}"); }
plain() { cmd=("${template[@]}"); }

# bench_ledger N VARIANT LEDGER: every row for one ledger.
bench_ledger() {
    n=$1 variant=$2 ledger=$3
    cache="$(git -C "$ledger" rev-parse --absolute-git-dir)/ovn/cache"
    base=$(git -C "$ledger" rev-parse refs/heads/main)
    project=$(git -C "$ledger" ls-tree --name-only HEAD projects/ | head -1 | sed 's|projects/||; s|\.toml$||')
    # A steward is a person, who may log hours.
    agent=$(git -C "$ledger" cat-file -p "HEAD:projects/$project.toml" | sed -n 's/^stewards = \["\([^"]*\)".*/\1/p')
    ones=0
    drop_cache
    local reads=("check --at @REV" "payout 100000 -p $project --at @REV"
        "report contributions --by agent --at @REV" "report resources --at @REV"
        "report claims -p $project --amount 100000 --at @REV")
    local r
    for r in "${reads[@]}"; do
        read -r -a template <<<"$r"
        measure "ovn ${r//@REV/HEAD}" cold "$n" drop_cache at_head
    done
    for r in "${reads[@]}"; do
        read -r -a template <<<"$r"
        measure "ovn ${r//@REV/HEAD}" warm "$n" none at_head
    done
    for r in "${reads[@]}"; do
        read -r -a template <<<"$r"
        warm_template=("${template[@]}")
        measure "ovn ${r//@REV/B}" "one new (A warm)" "$n" warm_base at_new
    done

    # The largest output: the ValueFlows document (about a kilobyte a contribution), to
    # standard output (here /dev/null) cold, warm and after one new commit; then warm to a
    # file (-o FILE writes a temporary file, syncs it and renames it over FILE) next to `dd`
    # writing and syncing the same bytes: warm, the export is bounded by writing its output.
    template=(export valueflows --at @REV)
    measure "ovn export valueflows" cold "$n" drop_cache at_head
    measure "ovn export valueflows" warm "$n" none at_head
    warm_template=("${template[@]}")
    measure "ovn export valueflows" "one new (A warm)" "$n" warm_base at_new
    vf="$dir/valueflows-$n-$variant.jsonld"
    template=(export valueflows --at @REV -o "$vf")
    measure "ovn export valueflows -o FILE" warm "$n" none at_head
    template=(dd "if=$vf" "of=$vf.copy" bs=1M conv=fsync status=none)
    measure "dd if=FILE of=COPY bs=1M conv=fsync ($(du -h "$vf" | cut -f1))" "—" - none plain
    rm -f "$vf" "$vf.copy"

    template=(review "$base..@REV" --no-impact)
    measure "ovn review A..B --no-impact" "one new (A warm)" - warm_base at_new
    template=(review "$base..@REV" --amount 100000)
    warm_template=(payout 100000 -p "$project" --at @REV)
    measure "ovn review A..B --amount 100000" cold "$n" drop_cache at_new
    measure "ovn review A..B --amount 100000" "one new (A warm)" "$n" warm_base at_new

    clone="$dir/bare-$n-$variant"
    rm -rf "$clone"
    git clone -q --bare "$ledger" "$clone"
    git -C "$clone" config gc.auto 0
    git -C "$clone" config user.name "$agent"
    git -C "$clone" config user.email "$agent@ovn.example"
    template=(log 1h bench -p "$project" --agent "$agent")
    measure "ovn log 1h bench -p $project" "bare clone" - reset_bare in_clone
    rm -rf "$clone"

    clone="$dir/clone-$n-$variant"
    rm -rf "$clone"
    git clone -q --no-checkout "$ledger" "$clone"
    git -C "$clone" config gc.auto 0
    git -C "$clone" config user.name "$agent"
    git -C "$clone" config user.email "$agent@ovn.example"
    git -C "$clone" sparse-checkout set --cone --no-sparse-index agents projects resources agreements
    git -C "$clone" checkout -q main
    measure "ovn log 1h bench -p $project" "sparse checkout without contributions/" - reset_clone in_clone
    if [ "$variant" = packed ] && has "${checkout_sizes[*]}" "$n"; then
        say "$variant $n: full checkout"
        git -C "$clone" sparse-checkout disable
        template=(log 1h bench -p "$project" --agent "$agent" --no-commit)
        measure "ovn log 1h bench -p $project --no-commit" "full checkout" - reset_clone in_clone
        template=(log 1h bench -p "$project" --agent "$agent")
        measure "ovn log 1h bench -p $project" "full checkout" - reset_clone in_clone
        # git's split index, as README advises for a checkout this large: .git/index then
        # holds only what changed since the shared index was written.
        git -C "$clone" config core.splitIndex true
        git -C "$clone" update-index --split-index
        measure "ovn log 1h bench -p $project" "full checkout, split index" - reset_clone in_clone
        # The pre-commit hook's case: one new record staged, then `ovn check --staged` (the
        # warm-up run digests the split index's shared part and fills the cache).
        template=(check --staged)
        measure "ovn check --staged, one record staged" "full checkout, split index" - stage_one in_clone
        measure "ovn check --staged, one broken record staged (refused)" "full checkout, split index" - stage_broken in_clone
    fi
    rm -rf "$clone"

    if [ "$variant" = packed ]; then
        local tool
        for tool in ledger hledger; do
            variant=journal
            if command -v "$tool" >/dev/null; then
                template=("$tool" -f "$dir/journal-$n.journal" balance)
                measure "$tool -f journal-$n.journal balance" "—" "$n" none plain
            else
                row "\`$tool -f J balance\`" journal "—" "$(commas "$n")" \
                    "skipped: $tool is not installed" "" "" ""
            fi
        done
    fi
}

# generate N VARIANT LEDGER [ARGS...]: generates a ledger unless it is there; adds a row to
# the generation table.
gens=()
generate() {
    local n=$1 variant=$2 ledger=$3 w p
    shift 3
    if [ -d "$ledger/.git" ] && { [ "$variant" = loose ] || [ -f "$dir/journal-$n.journal" ]; }; then
        gens+=("| $(commas "$n") | $variant | reused from an earlier run | | | |")
        return
    fi
    say "generating $n contributions, $variant"
    rm -rf "$ledger"
    /usr/bin/time -f "%e %M" -o "$dir/time.out" "$gen" --contributions "$n" --out "$ledger" "$@" 2>"$dir/gen.out"
    read -r w p < <(tail -1 "$dir/time.out")
    gens+=("| $(commas "$n") | $variant | $w s | $(awk -v p="$p" 'BEGIN { printf "%.0f MiB", p / 1024 }') | $(du -sh "$ledger/.git" | cut -f1) | $(sed -n 's/^gen_ledger: .*: //p' "$dir/gen.out") |")
}

for n in "${sizes[@]}"; do
    generate "$n" packed "$dir/ledger-$n" --journal "$dir/journal-$n.journal"
done
for n in "${loose_sizes[@]}"; do
    generate "$n" loose "$dir/ledger-$n-loose" --loose
done

for n in "${sizes[@]}"; do
    bench_ledger "$n" packed "$dir/ledger-$n"
    if has "${loose_sizes[*]}" "$n"; then
        bench_ledger "$n" loose "$dir/ledger-$n-loose"
    fi
done

rm -rf "$dir/moved-caches"

commit=$(git rev-parse --short=12 HEAD)
[ -z "$(git status --porcelain --untracked-files=no)" ] || commit="$commit (with uncommitted changes)"
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM; $(git --version)"
echo "ovn $commit, release build; median of $runs run(s) after a warm-up run; $(date -u +%Y-%m-%d)"
echo
echo "| generated | variant | wall | peak memory | .git size | of which |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${gens[@]}"
echo
echo "| command | variant | state | contributions | median wall | throughput | peak memory | exit |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
