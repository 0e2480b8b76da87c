//! `PackReader` against git itself: repositories packed by `git gc` and `git repack` in the
//! ways that matter (deep OFS_DELTA chains, REF_DELTA, loose and packed objects side by side,
//! two packs, damaged packs). For every blob, the bytes must be exactly libgit2's, and exactly
//! the objects that are not in a pack must come back undelivered. `ovn` itself must say the
//! same about a ledger before and after it is packed.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::common::{Sandbox, run, write_files};
use git2::Oid;
use ovn::store::{PackReader, StoreError};

/// What `read_many` delivered (position → bytes, each position once) and what it did not.
struct Read {
    delivered: BTreeMap<usize, Vec<u8>>,
    missed: Vec<usize>,
}

fn read_many(dir: &Path, wanted: &[Oid]) -> Result<Read, StoreError> {
    let reader = PackReader::open(&dir.join(".git"))?;
    let delivered = Mutex::new(BTreeMap::new());
    let missed = reader.read_many(wanted, &|i, bytes| {
        let again = delivered.lock().unwrap().insert(i, bytes);
        assert!(again.is_none(), "position {i} delivered twice");
    })?;
    Ok(Read {
        delivered: delivered.into_inner().unwrap(),
        missed,
    })
}

/// Every object of the repository (packed or loose) with its type.
fn objects(s: &Sandbox, dir: &Path) -> Vec<(Oid, String)> {
    let out = s.git(
        dir,
        &[
            "cat-file",
            "--batch-all-objects",
            "--batch-check=%(objectname) %(objecttype)",
        ],
    );
    out.lines()
        .map(|line| {
            let (id, kind) = line.split_once(' ').unwrap();
            (Oid::from_str(id).unwrap(), kind.to_owned())
        })
        .collect()
}

fn blobs(s: &Sandbox, dir: &Path) -> Vec<Oid> {
    objects(s, dir)
        .into_iter()
        .filter(|(_, kind)| kind == "blob")
        .map(|(id, _)| id)
        .collect()
}

/// The ids of the loose objects.
fn loose_objects(dir: &Path) -> Vec<Oid> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir.join(".git/objects")).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.len() != 2 {
            continue;
        }
        for file in std::fs::read_dir(entry.path()).unwrap() {
            let rest = file.unwrap().file_name().to_string_lossy().into_owned();
            out.push(Oid::from_str(&format!("{name}{rest}")).unwrap());
        }
    }
    out
}

fn packs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir.join(".git/objects/pack"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pack"))
        .collect();
    out.sort();
    out
}

/// `git verify-pack -v` of a pack: (id, type, offset, delta depth) of each entry.
fn entries(s: &Sandbox, dir: &Path, pack: &Path) -> Vec<(Oid, String, u64, u32)> {
    let idx = pack.with_extension("idx");
    let out = s.git(dir, &["verify-pack", "-v", idx.to_str().unwrap()]);
    out.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let id = Oid::from_str(f.first()?).ok()?;
            if f.len() < 5 {
                return None;
            }
            let depth = f.get(5).map_or(0, |d| d.parse().unwrap());
            Some((id, f[1].to_owned(), f[4].parse().unwrap(), depth))
        })
        .collect()
}

/// The pack entry types (1..7) at each entry's offset.
fn entry_types(pack: &Path, offsets: impl Iterator<Item = u64>) -> Vec<u8> {
    let bytes = std::fs::read(pack).unwrap();
    offsets.map(|o| (bytes[o as usize] >> 4) & 7).collect()
}

/// Writes `families` groups of `versions` similar files and commits them: version `v` of a
/// family is its document with the first `v` lines edited (as a record corrected over time),
/// so each version is closest to the next one and git chains deltas deep.
fn commit_versions(s: &Sandbox, dir: &Path, tag: &str, families: usize, versions: usize) {
    let mut files = Vec::new();
    for f in 0..families {
        for v in 0..versions {
            let mut text = format!("id = \"{tag}-{f}\"\nkind = \"work\"\n");
            for line in 0..versions {
                if line < v {
                    text.push_str(&format!(
                        "note{line} = \"family {f} of {tag}: line {line} corrected to {} hours\"\n",
                        (line * 7 + f) % 13
                    ));
                } else {
                    text.push_str(&format!("note{line} = \"{tag} {f} {line}\"\n"));
                }
            }
            files.push((format!("{tag}/{f:02}/v{v:03}.toml"), text));
        }
    }
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    write_files(dir, &files);
    s.git(dir, &["add", "-A"]);
    s.git(dir, &["commit", "-q", "-m", tag]);
}

/// Every blob of the repository through `read_many`: the packed ones are delivered with
/// libgit2's bytes, and exactly `expect_missed` are not.
fn assert_reads_like_libgit2(s: &Sandbox, dir: &Path, expect_missed: &[Oid]) {
    let wanted = blobs(s, dir);
    let read = read_many(dir, &wanted).unwrap();
    let repo = git2::Repository::open(dir).unwrap();
    for (i, oid) in wanted.iter().enumerate() {
        let blob = repo.find_blob(*oid).unwrap();
        match read.delivered.get(&i) {
            Some(bytes) => assert_eq!(bytes.as_slice(), blob.content(), "blob {oid}"),
            None => assert!(
                read.missed.contains(&i),
                "{oid} neither delivered nor missed"
            ),
        }
    }
    let missed: Vec<Oid> = read.missed.iter().map(|&i| wanted[i]).collect();
    let mut expected: Vec<Oid> = wanted
        .iter()
        .filter(|o| expect_missed.contains(o))
        .copied()
        .collect();
    expected.sort();
    let mut got = missed.clone();
    got.sort();
    assert_eq!(got, expected, "undelivered blobs");
    assert!(read.missed.windows(2).all(|w| w[0] < w[1]), "sorted");
    assert_eq!(read.delivered.len() + read.missed.len(), wanted.len());
    assert_slices_read_alike(dir, &wanted, &read);
}

/// The same blobs through a reader prepared once and read a few at a time (as a cold cache
/// is filled a window at a time): the same bytes delivered and the same blobs missed as one
/// `read_many` of them all.
fn assert_slices_read_alike(dir: &Path, wanted: &[Oid], whole: &Read) {
    let reader = PackReader::open(&dir.join(".git")).unwrap();
    let prepared = reader.prepare();
    for size in [1, 3, 7] {
        let delivered = Mutex::new(BTreeMap::new());
        let mut missed = Vec::new();
        for (n, slice) in wanted.chunks(size).enumerate() {
            let at = n * size;
            let slice_missed = prepared
                .read_many_up_to(slice, usize::MAX, &|i, bytes| {
                    let again = delivered.lock().unwrap().insert(at + i, bytes);
                    assert!(again.is_none(), "position {} delivered twice", at + i);
                })
                .unwrap();
            missed.extend(slice_missed.into_iter().map(|i| at + i));
        }
        assert_eq!(
            delivered.into_inner().unwrap(),
            whole.delivered,
            "slices of {size}"
        );
        assert_eq!(missed, whole.missed, "slices of {size}");
    }
}

#[test]
fn gc_aggressive_deep_ofs_delta_chains() {
    let s = Sandbox::new();
    let dir = s.repo("aggressive");
    commit_versions(&s, &dir, "records", 4, 90);
    s.git(&dir, &["gc", "--aggressive", "-q"]);
    assert!(loose_objects(&dir).is_empty());
    let [pack] = packs(&dir).try_into().unwrap();
    let entries = entries(&s, &dir, &pack);
    let deepest = entries.iter().map(|e| e.3).max().unwrap();
    assert!(deepest >= 10, "chains are deep (deepest {deepest})");
    let types = entry_types(&pack, entries.iter().map(|e| e.2));
    assert!(types.contains(&6), "OFS_DELTA entries");
    assert!(!types.contains(&7), "no REF_DELTA entries");
    assert_reads_like_libgit2(&s, &dir, &[]);
}

#[test]
fn repack_without_offsets_gives_ref_deltas() {
    let s = Sandbox::new();
    let dir = s.repo("refdelta");
    commit_versions(&s, &dir, "records", 3, 60);
    s.git(
        &dir,
        &[
            "-c",
            "repack.useDeltaBaseOffset=false",
            "repack",
            "-a",
            "-d",
            "-f",
            "-q",
            "--depth=50",
            "--window=50",
        ],
    );
    let [pack] = packs(&dir).try_into().unwrap();
    let entries = entries(&s, &dir, &pack);
    let types = entry_types(&pack, entries.iter().map(|e| e.2));
    assert!(types.contains(&7), "REF_DELTA entries");
    assert!(!types.contains(&6), "no OFS_DELTA entries");
    assert_reads_like_libgit2(&s, &dir, &[]);
}

#[test]
fn loose_objects_and_other_types_are_left_to_the_caller() {
    let s = Sandbox::new();
    let dir = s.repo("mixed");
    commit_versions(&s, &dir, "packed", 2, 40);
    s.git(&dir, &["gc", "-q"]);
    assert!(loose_objects(&dir).is_empty());
    // Edits after the gc are loose objects; some are deltas' worth of change, some new.
    commit_versions(&s, &dir, "later", 2, 10);
    let late = loose_objects(&dir);
    assert!(!late.is_empty());
    assert_reads_like_libgit2(&s, &dir, &late);

    // Trees and commits (packed or not), unknown ids, and a blob asked for three times.
    let all = objects(&s, &dir);
    let packed_blob = blobs(&s, &dir)
        .into_iter()
        .find(|b| !late.contains(b))
        .unwrap();
    let packed_tree = all
        .iter()
        .find(|(id, kind)| kind == "tree" && !late.contains(id))
        .unwrap()
        .0;
    let commit = all.iter().find(|(_, kind)| kind == "commit").unwrap().0;
    let unknown = Oid::from_str("0123456789abcdef0123456789abcdef01234567").unwrap();
    let wanted = [
        packed_blob,
        packed_tree,
        commit,
        unknown,
        packed_blob,
        Oid::ZERO_SHA1,
        packed_blob,
    ];
    let read = read_many(&dir, &wanted).unwrap();
    assert_eq!(read.missed, vec![1, 2, 3, 5]);
    let content = git2::Repository::open(&dir)
        .unwrap()
        .find_blob(packed_blob)
        .unwrap()
        .content()
        .to_vec();
    for i in [0, 4, 6] {
        assert_eq!(read.delivered[&i], content);
    }
}

#[test]
fn two_packs() {
    let s = Sandbox::new();
    let dir = s.repo("twopacks");
    commit_versions(&s, &dir, "first", 2, 30);
    s.git(&dir, &["repack", "-d", "-q"]);
    commit_versions(&s, &dir, "second", 2, 30);
    s.git(&dir, &["repack", "-d", "-q"]);
    assert_eq!(packs(&dir).len(), 2);
    assert!(loose_objects(&dir).is_empty());
    let reader = PackReader::open(&dir.join(".git")).unwrap();
    assert_eq!(reader.pack_count(), 2);
    assert_reads_like_libgit2(&s, &dir, &[]);
}

#[test]
fn nothing_is_read_without_packs_or_in_another_object_format() {
    let s = Sandbox::new();
    let dir = s.repo("noPacks");
    commit_versions(&s, &dir, "loose", 1, 5);
    let wanted = blobs(&s, &dir);
    let read = read_many(&dir, &wanted).unwrap();
    assert_eq!(read.missed, (0..wanted.len()).collect::<Vec<_>>());

    // A repository that says it names objects by SHA-256 gets no pack opened.
    s.git(&dir, &["gc", "-q"]);
    assert_eq!(PackReader::open(&dir.join(".git")).unwrap().pack_count(), 1);
    let config = dir.join(".git/config");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{text}[extensions]\n\tobjectFormat = sha256\n"),
    )
    .unwrap();
    assert_eq!(PackReader::open(&dir.join(".git")).unwrap().pack_count(), 0);
}

#[test]
fn packs_of_alternates_are_read() {
    let s = Sandbox::new();
    let origin = s.repo("origin");
    commit_versions(&s, &origin, "shared", 2, 20);
    s.git(&origin, &["gc", "-q"]);
    let work = s.work();
    s.git(&work, &["clone", "-q", "--shared", "origin", "borrower"]);
    let borrower = work.join("borrower");
    assert!(!borrower.join(".git/objects/pack").exists() || packs(&borrower).is_empty());
    let reader = PackReader::open(&borrower.join(".git")).unwrap();
    assert!(
        reader.pack_count() >= 1,
        "the origin's pack, through alternates"
    );
    assert_reads_like_libgit2(&s, &borrower, &[]);
}

/// A packed repository whose pack we may damage, that pack, its entries and its blobs (listed
/// now: git cannot list the type of a damaged object).
struct Damaged {
    dir: PathBuf,
    pack: PathBuf,
    entries: Vec<(Oid, String, u64, u32)>,
    blobs: Vec<Oid>,
}

fn damaged_repo(s: &Sandbox, name: &str) -> Damaged {
    let dir = s.repo(name);
    commit_versions(s, &dir, "records", 2, 30);
    s.git(&dir, &["gc", "-q"]);
    let [pack] = packs(&dir).try_into().unwrap();
    let entries = entries(s, &dir, &pack);
    let mut perms = std::fs::metadata(&pack).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&pack, perms).unwrap();
    let blobs = blobs(s, &dir);
    Damaged {
        dir,
        pack,
        entries,
        blobs,
    }
}

#[test]
fn corrupt_zlib_data_is_an_error_naming_the_pack_and_offset() {
    let s = Sandbox::new();
    let Damaged {
        dir,
        pack,
        entries,
        blobs: wanted,
    } = damaged_repo(&s, "corrupt");
    // A whole blob (no delta), its data garbled in the middle.
    let (_, _, offset, _) = entries
        .iter()
        .find(|e| e.1 == "blob" && e.3 == 0)
        .unwrap()
        .clone();
    let mut bytes = std::fs::read(&pack).unwrap();
    for b in &mut bytes[offset as usize + 8..offset as usize + 16] {
        *b ^= 0x5a;
    }
    std::fs::write(&pack, &bytes).unwrap();
    let err = read_many(&dir, &wanted).err().expect("an error");
    let message = err.to_string();
    assert!(matches!(err, StoreError::CorruptPack { .. }), "{message}");
    assert!(
        message.contains(pack.to_str().unwrap()) && message.contains(&format!("offset {offset}")),
        "{message}"
    );
}

#[test]
fn a_corrupt_delta_base_is_an_error() {
    let s = Sandbox::new();
    let Damaged {
        dir,
        pack,
        entries,
        blobs: wanted,
    } = damaged_repo(&s, "badbase");
    let (_, _, offset, _) = entries
        .iter()
        .find(|e| e.1 == "blob" && e.3 > 0)
        .unwrap()
        .clone();
    let mut bytes = std::fs::read(&pack).unwrap();
    // Skip the type and size, then move the OFS_DELTA's base one byte: no entry starts there.
    let mut at = offset as usize;
    assert_eq!((bytes[at] >> 4) & 7, 6, "an OFS_DELTA entry");
    while bytes[at] & 0x80 != 0 {
        at += 1;
    }
    at += 1;
    while bytes[at] & 0x80 != 0 {
        at += 1;
    }
    bytes[at] ^= 1;
    std::fs::write(&pack, &bytes).unwrap();
    let err = read_many(&dir, &wanted).err().expect("an error");
    assert!(matches!(err, StoreError::CorruptPack { .. }), "{err}");
}

#[test]
fn a_truncated_pack_is_never_read() {
    let s = Sandbox::new();
    let Damaged {
        dir,
        pack,
        blobs: wanted,
        ..
    } = damaged_repo(&s, "truncated");
    let len = std::fs::metadata(&pack).unwrap().len();

    // Cut while a reader has it open: reading past the end is an error.
    let reader = PackReader::open(&dir.join(".git")).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&pack)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let err = reader.read_many(&wanted, &|_, _| {}).expect_err("an error");
    assert!(err.to_string().contains(pack.to_str().unwrap()), "{err}");

    // Opened after the cut: the pack no longer matches its index and is not used at all.
    let read = read_many(&dir, &wanted).unwrap();
    assert!(read.delivered.is_empty());
    assert_eq!(read.missed.len(), wanted.len());
}

/// A ledger of the worked example plus `n` contributions, committed.
fn ledger(s: &Sandbox, name: &str, n: usize) -> PathBuf {
    let dir = common::base_repo(s, name);
    let mut files = Vec::new();
    for i in 0..n {
        let id = format!("01bbbbbbbbbbbbbbbbbbbb{i:04}");
        // Spread over the year, so no one works more than a day's hours.
        let (month, day) = (i % 12 + 1, i / 12 % 28 + 1);
        files.push((
            format!("contributions/2026/{month:02}/{day:02}/{id}.toml"),
            format!(
                "id = \"{id}\"\nagent = \"{}\"\ndate = 2026-{month:02}-{day:02}\nproject = \"drone\"\nkind = \"work\"\ndescription = \"Session {i} on the drone\"\nhours = \"{}\"\n",
                ["ana", "ben", "cy"][i % 3],
                i % 7 + 1
            ),
        ));
    }
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    write_files(&dir, &files);
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "more contributions"]);
    dir
}

#[test]
fn ovn_says_the_same_before_and_after_packing() {
    let s = Sandbox::new();
    let dir = ledger(&s, "ledger", 400);
    let commands: [&[&str]; 3] = [
        &["check", "--at", "HEAD"],
        &["payout", "3000", "-p", "drone", "--at", "HEAD"],
        &["report", "contributions", "--at", "HEAD"],
    ];
    let outputs = |stage: &str| -> Vec<(i32, String, String)> {
        commands
            .iter()
            .map(|args| {
                let out = run(&s, &dir, args);
                assert_eq!(out.0, 0, "{stage}: ovn {args:?}: {}{}", out.1, out.2);
                out
            })
            .collect()
    };
    let loose = outputs("loose");
    s.git(&dir, &["gc", "--aggressive", "-q"]);
    assert_eq!(outputs("packed"), loose);
    // Half packed: a new record as a loose object on top.
    write_files(
        &dir,
        &[(
            "contributions/2026/04/02/01cccccccccccccccccccccc01.toml",
            "id = \"01cccccccccccccccccccccc01\"\nagent = \"ana\"\ndate = 2026-04-02\nproject = \"drone\"\nkind = \"work\"\ndescription = \"Late entry\"\nhours = \"3\"\n",
        )],
    );
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "late"]);
    let mixed = outputs("mixed");
    s.git(&dir, &["gc", "-q"]);
    assert_eq!(outputs("repacked"), mixed);
}

#[test]
fn ovn_reports_a_damaged_pack_as_an_error() {
    let s = Sandbox::new();
    let dir = ledger(&s, "damaged", 4200);
    s.git(&dir, &["gc", "-q"]);
    let [pack] = packs(&dir).try_into().unwrap();
    // A contribution's blob: read through the pack reader, as more than 4096 are read
    // (ovn.toml is read by libgit2).
    let record = s.git(
        &dir,
        &[
            "rev-parse",
            "HEAD:contributions/2026/01/01/01bbbbbbbbbbbbbbbbbbbb0000.toml",
        ],
    );
    let record = Oid::from_str(record.trim()).unwrap();
    let (_, _, offset, _) = entries(&s, &dir, &pack)
        .into_iter()
        .find(|e| e.0 == record)
        .unwrap();
    let mut perms = std::fs::metadata(&pack).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&pack, perms).unwrap();
    let mut bytes = std::fs::read(&pack).unwrap();
    for b in &mut bytes[offset as usize + 6..offset as usize + 12] {
        *b ^= 0xa5;
    }
    std::fs::write(&pack, &bytes).unwrap();
    let (code, _, err) = run(&s, &dir, &["check", "--at", "HEAD"]);
    assert_ne!(code, 0);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("corrupt pack"), "{err}");
}

#[test]
fn a_packed_ledger_is_listed_like_libgit2_lists_it() {
    let s = Sandbox::new();
    // 400 contributions in 336 day folders: enough for the day level to be read from the
    // pack on all cores once packed (libgit2 lists it while the objects are loose).
    let dir = ledger(&s, "listing", 400);
    write_files(
        &dir,
        &[
            ("docs/notes.md", "not a record\n"),
            ("contributions/2026/01/01/notes.txt", "a stray file\n"),
        ],
    );
    s.git(&dir, &["add", "-A"]);
    // A submodule inside a record folder is a stray file too.
    let head = s.git(&dir, &["rev-parse", "HEAD"]);
    let gitlink = format!("160000,{},contributions/2026/02/01/vendored", head.trim());
    s.git(&dir, &["update-index", "--add", "--cacheinfo", &gitlink]);
    s.git(&dir, &["commit", "-q", "-m", "strays"]);
    let loose = run(&s, &dir, &["check", "--at", "HEAD"]);
    assert_ne!(loose.0, 0, "the strays are reported: {}", loose.1);
    assert!(
        loose.1.contains("vendored") && loose.1.contains("notes.txt"),
        "{}",
        loose.1
    );
    s.git(&dir, &["gc", "-q"]);
    assert!(loose_objects(&dir).is_empty());
    assert_eq!(run(&s, &dir, &["check", "--at", "HEAD"]), loose);
}

/// A record of about 200 KB (a long description), well over the 64 KiB a file may hold.
fn big_record(id: &str, salt: &str) -> String {
    let mut description = String::new();
    for i in 0..20_000 {
        description.push_str(&format!("{salt}{i} "));
    }
    format!(
        "id = \"{id}\"\nagent = \"ana\"\ndate = 2026-03-20\nproject = \"drone\"\nkind = \"work\"\ndescription = \"{description}\"\nhours = \"1\"\n"
    )
}

#[test]
fn blobs_over_the_limit_and_their_deltas_are_never_inflated() {
    let s = Sandbox::new();
    let dir = s.repo("big");
    // Two versions of a big file (git deltas one on the other) and a small one.
    let big = big_record("01big00000000000000000001", "w");
    write_files(&dir, &[("big.toml", &big), ("small.toml", "x = 1\n")]);
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "one"]);
    write_files(&dir, &[("big.toml", &big.replacen("w1 ", "w1 edited ", 1))]);
    s.git(&dir, &["commit", "-q", "-am", "two"]);
    s.git(&dir, &["gc", "-q"]);
    let wanted = blobs(&s, &dir);
    assert_eq!(wanted.len(), 3);
    let [pack] = packs(&dir).try_into().unwrap();
    assert!(
        entries(&s, &dir, &pack)
            .iter()
            .any(|e| e.1 == "blob" && e.3 > 0),
        "one big version is a delta"
    );
    let reader = PackReader::open(&dir.join(".git")).unwrap();
    let delivered = Mutex::new(BTreeMap::new());
    let missed = reader
        .read_many_up_to(&wanted, 64 << 10, &|i, bytes| {
            delivered.lock().unwrap().insert(i, bytes);
        })
        .unwrap();
    let delivered = delivered.into_inner().unwrap();
    assert_eq!(delivered.len(), 1, "only the small blob");
    assert_eq!(delivered.values().next().unwrap(), b"x = 1\n");
    assert_eq!(missed.len(), 2);
    // Without a limit, everything.
    assert!(read_many(&dir, &wanted).unwrap().missed.is_empty());
}

#[test]
fn a_big_record_in_a_packed_ledger_is_too_large_without_being_inflated() {
    let s = Sandbox::new();
    let dir = common::base_repo(&s, "ledger");
    // More records than the bulk reader's threshold (4096), one hour each.
    let mut files = Vec::new();
    for i in 0..4200 {
        let id = format!("01cccccccccccccccccccc{i:04}");
        let (month, day) = (i % 12 + 1, i / 12 % 28 + 1);
        files.push((
            format!("contributions/2026/{month:02}/{day:02}/{id}.toml"),
            format!(
                "id = \"{id}\"\nagent = \"{}\"\ndate = 2026-{month:02}-{day:02}\nproject = \"drone\"\nkind = \"work\"\ndescription = \"Session {i}\"\nhours = \"1\"\n",
                ["ana", "ben", "cy"][i % 3],
            ),
        ));
    }
    let big_path = "contributions/2026/03/20/01big00000000000000000001.toml";
    files.push((
        big_path.to_owned(),
        big_record("01big00000000000000000001", "w"),
    ));
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    write_files(&dir, &files);
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "many records and a big one"]);
    s.git(&dir, &["gc", "-q"]);
    // The big record's compressed data garbled past its header: only inflating it fails.
    let big = Oid::from_str(
        s.git(&dir, &["rev-parse", &format!("HEAD:{big_path}")])
            .trim(),
    )
    .unwrap();
    let [pack] = packs(&dir).try_into().unwrap();
    let (_, _, offset, depth) = entries(&s, &dir, &pack)
        .into_iter()
        .find(|e| e.0 == big)
        .unwrap();
    assert_eq!(depth, 0, "the big record is a whole object");
    let mut perms = std::fs::metadata(&pack).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&pack, perms).unwrap();
    let mut bytes = std::fs::read(&pack).unwrap();
    for b in &mut bytes[offset as usize + 16..offset as usize + 48] {
        *b ^= 0x5a;
    }
    std::fs::write(&pack, &bytes).unwrap();

    let (code, out, err) = run(&s, &dir, &["--no-cache", "check", "--at", "HEAD"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("error[too-large]") && out.contains(big_path),
        "{out}{err}"
    );
    assert!(out.contains("1 problem in 1 file"), "{out}");
}
