//! Generate a large, valid `ovn` ledger for benchmarks.
//!
//! ```text
//! cargo run --release --example gen_ledger -- --contributions N --out DIR
//!     [--seed S] [--agents 200] [--projects 20] [--years 4]
//!     [--commits-per-month] [--checkout] [--loose] [--journal FILE]
//! ```
//!
//! `DIR` must not exist (or be empty); it becomes a new git repository whose branch `main` holds
//! a ledger in the format of `ovn-ledger(5)`: `ovn.toml`, agents, projects, resources,
//! one value-equation agreement per project, and `N` contributions spread evenly over the
//! `--years` calendar years ending in 2026 (about 70% work with skills, the rest use of
//! resources, materials, money and care, with a few evidence links and reverses/supersedes
//! corrections). Every reference is valid and no agent logs more than 24 hours on one day.
//! The output is a pure function of the arguments: same seed, same bytes, same commit ids
//! (fixed author, committer and timestamps; a SplitMix64 PRNG). `--loose` and `--journal`
//! change nothing in the ledger's commits.
//!
//! Why `git fast-import`: writing a million files to disk and then running `git add` and
//! `git commit` takes minutes and leaves a million loose objects, which also makes every later
//! read slow. Instead the generator streams every record straight into one `git fast-import`
//! process, which writes them as a single pack (plus its index): about as fast as git can
//! compress, and already in the packed form a well-kept ledger repository has (as after
//! `git gc` or a fresh clone). History is one commit, or with `--commits-per-month` a set-up
//! commit followed by one commit per month. Measured on 2 cores: 10,000 contributions in about
//! 0.6 s, 1,000,000 in about 30 s (a 197 MB pack). Generating the records takes under a second
//! of that; the rest is fast-import, whose table of path names has a fixed number of buckets,
//! so a million unique file names make it grow a little faster than linearly.
//!
//! `--loose` then turns the pack into loose objects, one zlib file per object under
//! `.git/objects/xx/`, as a ledger holds them when every record was committed on its own (by
//! `ovn log`, through libgit2, which never packs) and no `git gc` ran since: the pack is moved
//! out of the object store, fed to `git unpack-objects` and deleted. It also sets
//! `gc.auto = 0` in the repository, so neither git nor `ovn` (which runs `git gc --auto` after
//! its writes) packs them again behind a benchmark's back. Unpacking costs about 0.1 ms per
//! object on 2 cores, mostly file creation in the kernel: 1 s for 10,000 contributions, and a
//! 1,000,000-contribution ledger becomes a million files (about 4 GB on disk with 4 KiB blocks).
//!
//! `--journal FILE` also writes the same contributions as a plain-text accounting journal that
//! both ledger-cli and hledger read (`hledger -f FILE check` passes), for comparing their
//! balance reports with `ovn`: one transaction per contribution, dated as the record, with its
//! id as the code and its description; the hours (`HRS`) or the amount (`EUR`) go to
//! `contributions:<project>:<agent>:<kind>` and the opposite (an elided amount) to
//! `equity:<project>`. A reversal posts the negated amount of the record it reverses and a
//! superseding record the difference it makes, so balances match what `ovn` counts.
//!
//! The working tree is left empty (and the index too) because checking out a million files
//! costs more than generating them; `ovn` reads records from git objects. Pass `--checkout` to
//! populate it (`git reset --hard`) when a benchmark needs files on disk.
//!
//! The last line on standard error says what was made and how long each step took.
//! Contribution ids are ULID-like: the first 10 characters encode the record's date (midnight
//! UTC, in milliseconds), the last 16 are pseudo-random. Needs `git` 2.28 or later on `PATH`.
//!
//! The generator uses only std, so it can also be built on its own:
//! `rustc -O --edition 2021 examples/gen_ledger.rs -o /tmp/gen_ledger`.

use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

const USAGE: &str = "usage: gen_ledger --contributions N --out DIR [--seed S] [--agents 200] \
[--projects 20] [--years 4] [--commits-per-month] [--checkout] [--loose] [--journal FILE]";

/// The last generated year; `--years` counts back from it.
const LAST_YEAR: i64 = 2026;
const IDENT: &str = "ovn generator <gen@ovn.example>";
/// The agent receiving payout leftovers and the network buckets.
const FUND: usize = 0;
/// Hours are tracked in quarter hours; a person stops at about 10 h a day when the day allows.
const SOFT_DAY_QUARTERS: u8 = 40;
/// The contract's hard limit: 24 h of non-`use` contributions per agent and date.
const HARD_DAY_QUARTERS: u8 = 96;

struct Args {
    contributions: u64,
    out: PathBuf,
    seed: u64,
    agents: usize,
    projects: usize,
    years: i64,
    commits_per_month: bool,
    checkout: bool,
    loose: bool,
    journal: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut contributions = None;
    let mut out = None;
    let mut args = Args {
        contributions: 0,
        out: PathBuf::new(),
        seed: 1,
        agents: 200,
        projects: 20,
        years: 4,
        commits_per_month: false,
        checkout: false,
        loose: false,
        journal: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        fn num<T: std::str::FromStr>(flag: &str, v: String) -> Result<T, String> {
            v.parse()
                .map_err(|_| format!("{flag}: not a number: {v:?}"))
        }
        match flag.as_str() {
            "--contributions" => contributions = Some(num(&flag, value()?)?),
            "--out" => out = Some(PathBuf::from(value()?)),
            "--seed" => args.seed = num(&flag, value()?)?,
            "--agents" => args.agents = num(&flag, value()?)?,
            "--projects" => args.projects = num(&flag, value()?)?,
            "--years" => args.years = num(&flag, value()?)?,
            "--commits-per-month" => args.commits_per_month = true,
            "--checkout" => args.checkout = true,
            "--loose" => args.loose = true,
            "--journal" => args.journal = Some(PathBuf::from(value()?)),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => return Err(format!("unknown argument {arg:?}\n{USAGE}")),
        }
    }
    args.contributions = contributions.ok_or(format!("--contributions is required\n{USAGE}"))?;
    args.out = out.ok_or(format!("--out is required\n{USAGE}"))?;
    if args.agents < 2 {
        return Err("--agents must be at least 2 (the fund and one person)".into());
    }
    if args.projects < 1 || args.projects > 9999 {
        return Err("--projects must be between 1 and 9999".into());
    }
    if !(1..=100).contains(&args.years) {
        return Err("--years must be between 1 and 100".into());
    }
    Ok(args)
}

/// SplitMix64: tiny, fast, and good enough for synthetic data; fixed so output is reproducible.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (multiply-shift; the bias is far below anything a benchmark notices).
    fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.index(xs.len())]
    }

    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

const CROCKFORD: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A ULID-style id: 10 characters of the date's milliseconds since the epoch (so ids sort by
/// date), then 16 characters (80 bits) of randomness.
fn new_id(rng: &mut Rng, day: i64) -> [u8; 26] {
    let mut id = [0u8; 26];
    let ms = day as u64 * 86_400_000;
    for (i, c) in id[..10].iter_mut().enumerate() {
        *c = CROCKFORD[((ms >> (5 * (9 - i))) & 31) as usize];
    }
    let hi = rng.next_u64();
    let lo = rng.next_u64() & 0xFFFF;
    for (i, c) in id[10..].iter_mut().enumerate() {
        let bit = 5 * (15 - i); // offset of this character within the 80 random bits
        let v = if bit >= 16 {
            hi >> (bit - 16)
        } else {
            (hi << (16 - bit)) | (lo >> bit)
        };
        *c = CROCKFORD[(v & 31) as usize];
    }
    id
}

fn id_str(id: &[u8; 26]) -> &str {
    std::str::from_utf8(id).expect("crockford ids are ascii")
}

/// Writes a decimal with `scale` implied decimals and no trailing zeros ("2.5", "3", "0.25").
fn push_decimal(s: &mut String, value: u64, scale: u32) {
    let div = 10u64.pow(scale);
    let _ = write!(s, "{}", value / div);
    let frac = value % div;
    if frac != 0 {
        let digits = format!("{frac:0width$}", width = scale as usize);
        s.push('.');
        s.push_str(digits.trim_end_matches('0'));
    }
}

fn quarters(q: u8) -> String {
    let mut s = String::new();
    push_decimal(&mut s, q as u64 * 25, 2);
    s
}

/// Money is always written with both minor digits ("400.00"), as people write it.
fn cents(c: u64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

// --- Vocabulary -----------------------------------------------------------------------------

/// (display name, ascii id stem)
const FIRST_NAMES: &[(&str, &str)] = &[
    ("Ana", "ana"),
    ("Ben", "ben"),
    ("Cy", "cy"),
    ("Zoë", "zoe"),
    ("João", "joao"),
    ("Ingrid", "ingrid"),
    ("Mehmet", "mehmet"),
    ("Chloé", "chloe"),
    ("Aisha", "aisha"),
    ("Lukas", "lukas"),
    ("Núria", "nuria"),
    ("Søren", "soren"),
    ("Łucja", "lucja"),
    ("Kwame", "kwame"),
    ("Mei", "mei"),
    ("Ravi", "ravi"),
    ("Olga", "olga"),
    ("Tomás", "tomas"),
    ("Amélie", "amelie"),
    ("Yusuf", "yusuf"),
    ("Hana", "hana"),
    ("Björn", "bjorn"),
    ("Fatou", "fatou"),
    ("Diego", "diego"),
];

const LAST_NAMES: &[&str] = &[
    "Lima",
    "Okafor",
    "Tremblay",
    "Martin",
    "Pereira",
    "Løvås",
    "Yılmaz",
    "Dubois",
    "Bello",
    "Müller",
    "Puig",
    "Nowak",
    "Mensah",
    "Chen",
    "Sharma",
    "Ivanova",
    "García",
    "Kowalczyk",
    "Öztürk",
    "Nakamura",
    "Sørensen",
    "Diallo",
    "Peña",
    "O'Brien",
];

const ORG_NAMES: &[&str] = &[
    "Cooperative",
    "Association",
    "Foundation",
    "Collective",
    "Makerspace",
];

/// (id stem, display name)
const PROJECTS: &[(&str, &str)] = &[
    ("drone", "Open Drone"),
    ("seedbank", "Community Seed Bank"),
    ("lab", "Lab Operations and Courses"),
    ("bikes", "Cargo Bike Workshop"),
    ("solar", "Solar Kit"),
    ("cnc", "Open CNC Router"),
    ("mesh", "Community Mesh Radio"),
    ("repair", "Repair Café"),
    ("textiles", "Textile Lab"),
    ("bees", "Urban Beekeeping"),
    ("water", "Rainwater Sensors"),
    ("kiln", "Shared Ceramic Kiln"),
    ("school", "Maker School"),
    ("compost", "Compost Network"),
    ("strawbale", "Straw-bale Housing"),
    ("bakery", "Bakery Cooperative"),
    ("prosthetics", "Open Prosthetics"),
    ("air", "Air Quality Sensors"),
    ("boats", "Wooden Boat Building"),
    ("films", "Documentary Films"),
];

/// (skill, work descriptions)
const SKILLS: &[(&str, &[&str])] = &[
    (
        "electronics",
        &[
            "Soldered and tested the sensor boards",
            "Routed the controller board",
            "Debugged the power supply",
        ],
    ),
    (
        "design",
        &[
            "Drew the enclosure in CAD",
            "Designed the project poster",
            "Iterated on the user interface mock-ups",
        ],
    ),
    (
        "documentation",
        &[
            "Wrote the assembly guide",
            "Updated the wiki and photos",
            "Translated the manual",
        ],
    ),
    (
        "carpentry",
        &[
            "Built the workbench",
            "Cut and assembled the plywood frames",
            "Repaired the storage shelves",
        ],
    ),
    (
        "gardening",
        &[
            "Sowed and transplanted seedlings",
            "Harvested and dried seed",
            "Weeded and mulched the beds",
        ],
    ),
    (
        "teaching",
        &[
            "Taught the Saturday introduction course",
            "Ran the soldering workshop for kids",
            "Mentored a new member",
        ],
    ),
    (
        "coding",
        &[
            "Wrote the firmware for the data logger",
            "Fixed bugs in the booking website",
            "Reviewed pull requests",
        ],
    ),
    (
        "welding",
        &[
            "Welded the trailer frame",
            "Repaired the bike rack",
            "Tack-welded the jig",
        ],
    ),
    (
        "sewing",
        &[
            "Sewed the prototype bags",
            "Patterned the workshop aprons",
            "Repaired the shade cloth",
        ],
    ),
    (
        "outreach",
        &[
            "Ran the stall at the market",
            "Answered questions on the mailing list",
            "Met the neighbourhood association",
        ],
    ),
    (
        "maintenance",
        &[
            "Serviced the machines",
            "Cleaned and calibrated the printer",
            "Tidied and inventoried the stores",
        ],
    ),
    (
        "accounting",
        &[
            "Reconciled the bank statements",
            "Prepared the quarterly report",
            "Filed the receipts",
        ],
    ),
];

/// (id stem, display name)
const RESOURCES: &[(&str, &str)] = &[
    ("printer", "Prusa MK4"),
    ("laser", "Laser cutter"),
    ("van", "Cargo van"),
    ("workshop", "Workshop space"),
    ("cnc", "CNC router"),
    ("greenhouse", "Greenhouse"),
    ("kiln", "Ceramic kiln"),
    ("sewing", "Industrial sewing machine"),
    ("scope", "Oscilloscope"),
    ("welder", "MIG welder"),
    ("loom", "Floor loom"),
    ("boat", "Rowing boat"),
];

/// (description, unit, quantity choices in hundredths, unit price in cents)
const MATERIALS: &[(&str, &str, &[u64], u64)] = &[
    ("PLA filament", "kg", &[100, 200, 300, 500], 2_290),
    ("Birch plywood sheets", "sheets", &[200, 400, 1000], 3_850),
    ("Electronic components", "pcs", &[5_000, 20_000, 50_000], 4),
    ("Heirloom seeds", "kg", &[10, 25, 50], 14_000),
    ("Glass jars", "pcs", &[2_400, 7_200, 14_400], 65),
    ("Steel tube", "m", &[600, 1_200, 2_400], 480),
    ("Cotton canvas", "m", &[300, 1_000], 1_150),
    ("Clay", "kg", &[1_000, 2_500], 190),
    ("Screws and glue", "boxes", &[100, 300], 1_450),
];

const MONEY: &[&str] = &[
    "Paid the electricity bill",
    "Membership fee",
    "Bought tools",
    "Paid the insurance",
    "Donation to the project",
    "Paid the internet subscription",
];

const USES: &[&str] = &[
    "Prototype run",
    "Course session",
    "Production batch",
    "Weekend build",
];

const CARE: &[&str] = &[
    "Childcare during the members' assembly",
    "Cooked the shared lunch",
    "Welcomed and oriented newcomers",
    "Cleaned the common room",
];

// --- The ledger -----------------------------------------------------------------------------

struct Agent {
    id: String,
    skills: [usize; 2],
    projects: [usize; 3],
}

struct Resource {
    id: String,
}

/// One file of the ledger: its path inside the repository and its TOML text.
type File = (String, String);

fn toml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            _ => out.push(ch),
        }
    }
    out.push('"');
    out
}

fn toml_array(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| toml_str(s)).collect();
    format!("[{}]", quoted.join(", "))
}

fn date(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

struct Ledger {
    agents: Vec<Agent>,
    /// Indices of persons (organizations give money and material, not hours).
    persons: Vec<usize>,
    projects: Vec<String>,
    resources: Vec<Resource>,
    /// Everything but contributions, in a fixed order.
    files: Vec<File>,
}

fn build_ledger(args: &Args, rng: &mut Rng, start_day: i64) -> Ledger {
    let mut files = Vec::new();
    files.push((
        "ovn.toml".to_string(),
        "format = 1\nname = \"Benchmark Commons\"\ncurrency = \"EUR\"\n\
         validated_branch = \"main\"\nleftover = \"network-fund\"\n"
            .to_string(),
    ));

    let projects: Vec<String> = (0..args.projects)
        .map(|i| {
            let (stem, _) = PROJECTS[i % PROJECTS.len()];
            match i / PROJECTS.len() {
                0 => stem.to_string(),
                n => format!("{stem}-{}", n + 1),
            }
        })
        .collect();

    let mut agents = Vec::with_capacity(args.agents);
    let mut persons = Vec::new();
    for i in 0..args.agents {
        let joined = start_day - 365 + rng.below(365) as i64;
        let (id, name, organization) = if i == FUND {
            (
                "network-fund".to_string(),
                "Network Commons Fund".to_string(),
                true,
            )
        } else if i % 25 == 24 {
            let kind = ORG_NAMES[(i / 25) % ORG_NAMES.len()];
            let name = format!("{} {kind}", LAST_NAMES[(i / 25) % LAST_NAMES.len()]);
            (format!("{}-{i:04}", kind.to_lowercase()), name, true)
        } else {
            let (first, stem) = *rng.pick(FIRST_NAMES);
            let last = rng.pick(LAST_NAMES);
            (format!("{stem}-{i:04}"), format!("{first} {last}"), false)
        };
        let mut text = format!("id = {}\nname = {}\n", toml_str(&id), toml_str(&name));
        let kind = if organization {
            "organization"
        } else {
            "person"
        };
        let email = format!("{id}@ovn.example");
        let _ = writeln!(text, "kind = \"{kind}\"");
        let _ = writeln!(text, "emails = {}", toml_array(&[email.as_str()]));
        let _ = writeln!(text, "joined = {}", date(joined));
        files.push((format!("agents/{id}.toml"), text));
        if !organization {
            persons.push(i);
        }
        agents.push(Agent {
            id,
            skills: [rng.index(SKILLS.len()), rng.index(SKILLS.len())],
            projects: [
                rng.index(projects.len()),
                rng.index(projects.len()),
                rng.index(projects.len()),
            ],
        });
    }

    for (i, pid) in projects.iter().enumerate() {
        let (_, base) = PROJECTS[i % PROJECTS.len()];
        let name = match i / PROJECTS.len() {
            0 => base.to_string(),
            n => format!("{base} {}", n + 1),
        };
        let a = &agents[persons[rng.index(persons.len())]].id;
        let b = &agents[persons[rng.index(persons.len())]].id;
        let stewards = if a == b {
            vec![a.as_str()]
        } else {
            vec![a.as_str(), b.as_str()]
        };
        files.push((
            format!("projects/{pid}.toml"),
            format!(
                "id = {}\nname = {}\nagreement = \"{pid}-ve\"\nstewards = {}\n",
                toml_str(pid),
                toml_str(&name),
                toml_array(&stewards)
            ),
        ));

        // Agreements vary a little so benchmarks exercise every bucket shape.
        let network = rng.range(5, 10);
        let reimburse = rng.range(20, 40);
        let work_rate = rng.range(20, 35);
        let (s1, s2) = (rng.index(SKILLS.len()), rng.index(SKILLS.len()));
        let mut t = format!(
            "id = \"{pid}-ve\"\nname = {}\nkind = \"value-equation\"\nfrom = {}\n\n",
            toml_str(&format!("{name} value equation")),
            date(start_day)
        );
        let _ = writeln!(t, "[rates]\nwork = \"{work_rate}\"");
        if s1 == s2 {
            let _ = writeln!(t, "skill = {{ {} = \"{}\" }}", SKILLS[s1].0, work_rate + 15);
        } else {
            let _ = writeln!(
                t,
                "skill = {{ {} = \"{}\", {} = \"{}\" }}",
                SKILLS[s1].0,
                work_rate + 15,
                SKILLS[s2].0,
                work_rate + 5
            );
        }
        let _ = write!(
            t,
            "\n[[buckets]]\nname = \"network\"\nshare = \"{network}%\"\nto = \"network-fund\"\n"
        );
        let _ = write!(
            t,
            "\n[[buckets]]\nname = \"reimbursement\"\nshare = \"{reimburse}%\"\nclaim = \"debt\"\n"
        );
        if i % 2 == 1 {
            t.push_str("cap = \"1.2\"\n");
        }
        t.push_str("  [[buckets.rules]]\n  kind = \"money\"\n\n");
        t.push_str("  [[buckets.rules]]\n  kind = \"material\"\n");
        t.push_str("\n[[buckets]]\nname = \"equity\"\nshare = \"rest\"\nclaim = \"equity\"\n");
        t.push_str("  [[buckets.rules]]\n  kind = \"work\"\n\n");
        t.push_str("  [[buckets.rules]]\n  kind = \"use\"\n\n");
        t.push_str("  [[buckets.rules]]\n  kind = \"care\"\n  rate = \"20\"\n");
        files.push((format!("agreements/{pid}-ve.toml"), t));
    }

    // Resources cycle through the three kinds of property.
    let count = (args.agents / 10).max(4);
    let mut resources = Vec::with_capacity(count);
    for i in 0..count {
        let (stem, name) = RESOURCES[i % RESOURCES.len()];
        let id = format!("{stem}-{}", i / RESOURCES.len() + 1);
        let mut t = format!("id = {}\nname = {}\n", toml_str(&id), toml_str(name));
        match i % 3 {
            0 => t.push_str("ownership = \"commons\"\n"),
            1 => {
                // Pooled: 2-4 distinct owners with integer shares summing to exactly 100%.
                let n = (rng.range(2, 4) as usize).min(persons.len());
                let mut owners: Vec<usize> = Vec::with_capacity(n);
                while owners.len() < n {
                    let a = persons[rng.index(persons.len())];
                    if !owners.contains(&a) {
                        owners.push(a);
                    }
                }
                t.push_str("ownership = \"pooled\"\nowners = [\n");
                let base = 100 / n;
                for (k, a) in owners.iter().enumerate() {
                    let share = if k == 0 { 100 - base * (n - 1) } else { base };
                    let _ = writeln!(
                        t,
                        "  {{ agent = \"{}\", share = \"{share}%\" }},",
                        agents[*a].id
                    );
                }
                t.push_str("]\n");
            }
            _ => {
                let owner = &agents[persons[rng.index(persons.len())]].id;
                t.push_str("ownership = \"individual\"\nowners = [\n");
                let _ = writeln!(t, "  {{ agent = \"{owner}\", share = \"100%\" }},\n]");
            }
        }
        let steward = &agents[persons[rng.index(persons.len())]].id;
        let _ = writeln!(t, "stewards = [\"{steward}\"]");
        let rate = rng.range(4, 60); // in halves: 2.0 .. 30.0 per hour
        let mut r = String::new();
        push_decimal(&mut r, rate * 5, 1);
        let _ = writeln!(t, "use_rate = \"{r}\"");
        files.push((format!("resources/{id}.toml"), t));
        resources.push(Resource { id });
    }

    Ledger {
        agents,
        persons,
        projects,
        resources,
        files,
    }
}

/// What a correction needs to know about the contribution written just before it.
struct Previous {
    id: [u8; 26],
    agent: usize,
    project: usize,
    kind: &'static str,
    /// The resource of a `use`, which its reversal must name too.
    resource: Option<usize>,
    correction: bool,
    /// What it added in the journal (hundredths of `commodity`), which a correction undoes.
    value: i64,
    commodity: &'static str,
}

/// The journal's view of the contribution written last: who, where, what kind, and how many
/// hundredths of hours (`HRS`) or of the currency (`EUR`) it adds (a correction adds the
/// difference it makes).
struct Posting {
    id: [u8; 26],
    day: i64,
    agent: usize,
    project: usize,
    kind: &'static str,
    value: i64,
    commodity: &'static str,
    description: String,
}

/// Hours in the journal.
const HOURS: &str = "HRS";
/// The ledger's currency (as in the generated `ovn.toml`).
const CURRENCY: &str = "EUR";

/// Generates contributions in date order, one day at a time, enforcing the daily hours limit.
struct Contributions<'a> {
    ledger: &'a Ledger,
    rng: Rng,
    /// Quarter hours logged by each agent on the current day.
    day_quarters: Vec<u8>,
    current_day: i64,
    previous: Option<Previous>,
    /// The contribution written last, for the journal.
    posting: Posting,
}

impl Contributions<'_> {
    /// A person with room for `q` more quarter hours today, preferring a normal working day.
    fn person_with_room(&mut self, q: u8) -> Option<(usize, u8)> {
        for limit in [SOFT_DAY_QUARTERS, HARD_DAY_QUARTERS] {
            for _ in 0..16 {
                let a = *self.rng.pick(&self.ledger.persons);
                if self.day_quarters[a] + q <= limit {
                    return Some((a, q));
                }
            }
        }
        // The day is crowded: shorten the entry to whatever room someone still has.
        for _ in 0..16 {
            let a = *self.rng.pick(&self.ledger.persons);
            let room = HARD_DAY_QUARTERS - self.day_quarters[a];
            if room > 0 {
                return Some((a, room.min(q)));
            }
        }
        None
    }

    fn project_of(&mut self, agent: usize) -> usize {
        *self.rng.pick(&self.ledger.agents[agent].projects)
    }

    /// Writes the record for one contribution on `day` into `text`; returns its path.
    fn next(&mut self, day: i64, text: &mut String) -> String {
        if day != self.current_day {
            self.current_day = day;
            self.day_quarters.iter_mut().for_each(|q| *q = 0);
        }
        let id = new_id(&mut self.rng, day);
        let ledger = self.ledger;
        text.clear();

        // About one record in a thousand reverses the one before it, and a few supersede an
        // amount with a corrected one.
        let roll = self.rng.below(10_000);
        let corrects = |p: &Previous| {
            !p.correction && (roll < 10 || (roll < 40 && matches!(p.kind, "money" | "material")))
        };
        if let Some(prev) = self.previous.take().filter(corrects) {
            // Ids only carry the date, so on the same day draw again until the correction
            // sorts after the record it corrects, as it would with a real clock.
            let mut id = id;
            while id <= prev.id {
                id = new_id(&mut self.rng, day);
            }
            let ids = id_str(&id);
            let _ = write!(
                text,
                "id = \"{ids}\"\nagent = \"{}\"\ndate = {}\nproject = \"{}\"\nkind = \"{}\"\n",
                ledger.agents[prev.agent].id,
                date(day),
                ledger.projects[prev.project],
                prev.kind
            );
            let target = id_str(&prev.id);
            let description = &mut self.posting.description;
            description.clear();
            let value = if roll < 10 {
                let _ = write!(description, "Reverses {target}: logged twice");
                let _ = writeln!(text, "description = \"{description}\"");
                if let Some(r) = prev.resource {
                    let _ = writeln!(text, "resource = \"{}\"", ledger.resources[r].id);
                }
                let _ = writeln!(text, "reverses = \"{target}\"");
                -prev.value
            } else {
                // A superseding record carries the corrected amount; hours stay untouched so
                // the daily limit holds even though the superseded record still counts.
                let c = self.rng.range(500, 50_000);
                let amount = cents(c);
                let _ = write!(description, "Corrects the amount of {target}");
                let _ = writeln!(text, "description = \"{description}\"");
                let _ = writeln!(text, "amount = \"{amount}\"\nsupersedes = \"{target}\"");
                c as i64 - prev.value
            };
            self.posting = Posting {
                id,
                day,
                agent: prev.agent,
                project: prev.project,
                kind: prev.kind,
                value,
                commodity: prev.commodity,
                description: std::mem::take(&mut self.posting.description),
            };
            self.previous = Some(Previous {
                id,
                correction: true,
                ..prev
            });
            return contribution_path(day, ids);
        }

        let roll = self.rng.below(1000);
        let mut kind = match roll {
            0..700 => "work",
            700..800 => "use",
            800..880 => "material",
            880..960 => "money",
            _ => "care",
        };
        let mut hours = None;
        let mut resource = None;
        let agent;
        if kind == "work" || kind == "care" {
            let want = if kind == "work" {
                *self
                    .rng
                    .pick(&[2u8, 4, 4, 6, 8, 8, 10, 12, 12, 14, 16, 16, 20, 24, 28, 32])
            } else {
                *self.rng.pick(&[4u8, 6, 8, 12])
            };
            match self.person_with_room(want) {
                Some((a, q)) => {
                    self.day_quarters[a] += q;
                    agent = a;
                    hours = Some(q);
                }
                // Nobody has room left today: log the use of a resource instead.
                None => {
                    kind = "use";
                    agent = *self.rng.pick(&ledger.persons);
                }
            }
        } else if kind == "use" {
            agent = *self.rng.pick(&ledger.persons);
        } else {
            // Money and material also come from organizations (not the fund itself).
            agent = 1 + self.rng.index(ledger.agents.len() - 1);
        }
        if kind == "use" {
            hours = Some(*self.rng.pick(&[2u8, 4, 6, 8, 12, 16, 24, 32]));
        }
        let project = self.project_of(agent);
        let ids = id_str(&id);
        let _ = write!(
            text,
            "id = \"{ids}\"\nagent = \"{}\"\ndate = {}\nproject = \"{}\"\nkind = \"{kind}\"\n",
            ledger.agents[agent].id,
            date(day),
            ledger.projects[project]
        );
        let q = hours.unwrap_or(4);
        let hundredths = q as i64 * 25;
        let (description, value, commodity): (&'static str, i64, _) = match kind {
            "work" => {
                let (skill, descriptions) = if self.rng.below(5) == 0 {
                    self.rng.pick(SKILLS)
                } else {
                    &SKILLS[*self.rng.pick(&ledger.agents[agent].skills)]
                };
                let description = self.rng.pick(descriptions);
                let h = quarters(q);
                let _ = write!(
                    text,
                    "description = {}\nhours = \"{h}\"\nskill = \"{skill}\"\n",
                    toml_str(description)
                );
                (description, hundredths, HOURS)
            }
            "care" => {
                let description = self.rng.pick(CARE);
                let h = quarters(q);
                let _ = write!(
                    text,
                    "description = {}\nhours = \"{h}\"\n",
                    toml_str(description)
                );
                (description, hundredths, HOURS)
            }
            "use" => {
                let r = self.rng.index(ledger.resources.len());
                resource = Some(r);
                let resource = &ledger.resources[r].id;
                let description = self.rng.pick(USES);
                let h = quarters(q);
                let _ = write!(
                    text,
                    "description = {}\nhours = \"{h}\"\nresource = \"{resource}\"\n",
                    toml_str(description)
                );
                (description, hundredths, HOURS)
            }
            "material" => {
                let (description, unit, quantities, price) = *self.rng.pick(MATERIALS);
                let quantity = *self.rng.pick(quantities);
                let amount = (quantity * price / 100).max(1);
                let mut q = String::new();
                push_decimal(&mut q, quantity, 2);
                let _ = write!(
                    text,
                    "description = {}\namount = \"{}\"\nquantity = \"{q}\"\nunit = \"{unit}\"\n",
                    toml_str(description),
                    cents(amount)
                );
                self.evidence(text, ids);
                (description, amount as i64, CURRENCY)
            }
            _ => {
                let description = self.rng.pick(MONEY);
                // Mostly small sums, sometimes a large one.
                let amount = match self.rng.below(10) {
                    0..6 => self.rng.range(500, 5_000),
                    6..9 => self.rng.range(5_000, 30_000),
                    _ => self.rng.range(30_000, 200_000),
                };
                let _ = write!(
                    text,
                    "description = {}\namount = \"{}\"\n",
                    toml_str(description),
                    cents(amount)
                );
                self.evidence(text, ids);
                (description, amount as i64, CURRENCY)
            }
        };
        let posting = &mut self.posting;
        posting.description.clear();
        posting.description.push_str(description);
        posting.id = id;
        posting.day = day;
        posting.agent = agent;
        posting.project = project;
        posting.kind = kind;
        posting.value = value;
        posting.commodity = commodity;
        self.previous = Some(Previous {
            id,
            agent,
            project,
            kind,
            resource,
            correction: false,
            value,
            commodity,
        });
        contribution_path(day, ids)
    }

    /// A few receipts are linked, as reviewers ask for them on larger expenses.
    fn evidence(&mut self, text: &mut String, id: &str) {
        if self.rng.below(50) == 0 {
            let _ = writeln!(
                text,
                "evidence = [\"https://receipts.ovn.example/{id}.pdf\"]"
            );
        }
    }
}

fn contribution_path(day: i64, id: &str) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("contributions/{y:04}/{m:02}/{d:02}/{id}.toml")
}

// --- The fast-import stream -----------------------------------------------------------------

fn commit_header(w: &mut impl Write, when_day: i64, message: &str) -> std::io::Result<()> {
    let ts = when_day * 86_400;
    writeln!(w, "commit refs/heads/main")?;
    writeln!(w, "author {IDENT} {ts} +0000")?;
    writeln!(w, "committer {IDENT} {ts} +0000")?;
    writeln!(w, "data {}\n{message}", message.len())
}

fn file(w: &mut impl Write, path: &str, text: &str) -> std::io::Result<()> {
    // Inline data avoids a mark table of a million entries in fast-import.
    writeln!(w, "M 100644 inline {path}\ndata {}", text.len())?;
    w.write_all(text.as_bytes())?;
    w.write_all(b"\n")
}

// --- The journal ----------------------------------------------------------------------------

fn journal_header(w: &mut impl Write, args: &Args) -> std::io::Result<()> {
    writeln!(
        w,
        "; The contributions of gen_ledger --contributions {} --seed {} --agents {} --projects {} \
         --years {}:\n; one transaction per contribution, hours in {HOURS}, money and materials in \
         {CURRENCY}.\n; A correction posts the difference it makes (a reversal the negated amount).\n",
        args.contributions, args.seed, args.agents, args.projects, args.years
    )
}

/// Writes hundredths as a signed decimal with two places ("-2.50").
fn hundredths(value: i64) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let v = value.unsigned_abs();
    format!("{sign}{}.{:02}", v / 100, v % 100)
}

/// One balanced transaction for the contribution `p`: its value goes to the account of its
/// project, agent and kind, and the opposite to the project's equity (an elided amount, which
/// both ledger and hledger fill in).
fn transaction(w: &mut impl Write, ledger: &Ledger, p: &Posting) -> std::io::Result<()> {
    let project = &ledger.projects[p.project];
    writeln!(
        w,
        "{} ({}) {}\n    contributions:{project}:{}:{}  {} {}\n    equity:{project}\n",
        date(p.day),
        id_str(&p.id),
        p.description,
        ledger.agents[p.agent].id,
        p.kind,
        hundredths(p.value),
        p.commodity
    )
}

// --- Git ------------------------------------------------------------------------------------

fn git(dir: &Path, args: &[&str]) -> Result<(), String> {
    let status = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .status()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("git {} failed: {status}", args.join(" ")))
    }
}

/// Turns the packs fast-import wrote into loose objects, one file per object, as a ledger
/// written commit by commit (by `ovn` through libgit2, which never packs) holds them before a
/// `git gc`. `git unpack-objects` skips objects the repository already has, so each pack is
/// first moved out of `objects/pack`, then unpacked, then deleted. `gc.auto = 0` keeps git
/// (and `ovn`, which runs `git gc --auto` after its writes) from packing them again.
fn unpack(out: &Path) -> Result<(), String> {
    let git_dir = out.join(".git");
    let pack_dir = git_dir.join("objects/pack");
    let mut packs: Vec<PathBuf> = std::fs::read_dir(&pack_dir)
        .map_err(|e| format!("{}: {e}", pack_dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pack"))
        .collect();
    packs.sort();
    for pack in packs {
        let aside = git_dir.join("unpacking.pack");
        std::fs::rename(&pack, &aside).map_err(|e| format!("{}: {e}", pack.display()))?;
        // The pack's index, reverse index, keep or bitmap files, if any.
        for ext in ["idx", "rev", "keep", "bitmap"] {
            let _ = std::fs::remove_file(pack.with_extension(ext));
        }
        let input = std::fs::File::open(&aside).map_err(|e| format!("{}: {e}", aside.display()))?;
        let status = Command::new("git")
            .arg("-C")
            .arg(out)
            .args(["unpack-objects", "-q"])
            .stdin(input)
            .status()
            .map_err(|e| format!("cannot run git unpack-objects: {e}"))?;
        if !status.success() {
            return Err(format!("git unpack-objects failed: {status}"));
        }
        std::fs::remove_file(&aside).map_err(|e| format!("{}: {e}", aside.display()))?;
    }
    git(out, &["config", "gc.auto", "0"])
}

struct Summary {
    records: u64,
    commits: u64,
}

fn generate(args: &Args) -> Result<Summary, String> {
    let start_day = days_from_civil(LAST_YEAR - args.years + 1, 1, 1);
    let end_day = days_from_civil(LAST_YEAR + 1, 1, 1); // exclusive
    let days = (end_day - start_day) as u64;
    let mut rng = Rng(args.seed);
    let ledger = build_ledger(args, &mut rng, start_day);

    let mut child = Command::new("git")
        .arg("-C")
        .arg(&args.out)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git fast-import: {e}"))?;
    let stdin = child.stdin.take().expect("stdin is piped");
    let mut w = BufWriter::with_capacity(1 << 20, stdin);
    let io = |e: std::io::Error| format!("writing to git fast-import: {e}");

    // `done` makes fast-import reject a truncated stream instead of committing half a ledger.
    writeln!(w, "feature done").map_err(io)?;
    let mut commits = 1;
    if args.commits_per_month {
        commit_header(
            &mut w,
            start_day,
            "Set up the network: agents, projects, resources, agreements",
        )
        .map_err(io)?;
    } else {
        let message = format!(
            "Generate a ledger of {} contributions (seed {})",
            args.contributions, args.seed
        );
        commit_header(&mut w, end_day, &message).map_err(io)?;
    }
    for (path, text) in &ledger.files {
        file(&mut w, path, text).map_err(io)?;
    }
    if args.contributions == 0 {
        file(&mut w, "contributions/.gitkeep", "").map_err(io)?;
    }

    // A separate stream keeps the contributions identical with and without monthly commits.
    let mut stream = Contributions {
        ledger: &ledger,
        rng: Rng(args.seed ^ 0xC0FF_EE00_D15E_A5E5),
        day_quarters: vec![0; ledger.agents.len()],
        current_day: -1,
        previous: None,
        posting: Posting {
            id: [b'0'; 26],
            day: 0,
            agent: 0,
            project: 0,
            kind: "",
            value: 0,
            commodity: HOURS,
            description: String::new(),
        },
    };
    let mut journal = match &args.journal {
        Some(path) => {
            let f = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let mut j = BufWriter::with_capacity(1 << 20, f);
            journal_header(&mut j, args).map_err(|e| format!("writing {}: {e}", path.display()))?;
            Some(j)
        }
        None => None,
    };
    let mut text = String::with_capacity(512);
    let mut month = (0, 0);
    let n = args.contributions;
    for i in 0..n {
        // Spread evenly and in date order, so each month's records are contiguous.
        let day = start_day + (i as u128 * days as u128 / n as u128) as i64;
        if args.commits_per_month {
            let (y, m, _) = civil_from_days(day);
            if (y, m) != month {
                month = (y, m);
                let next = if m == 12 {
                    days_from_civil(y + 1, 1, 1)
                } else {
                    days_from_civil(y, m + 1, 1)
                };
                let message = format!("Log the contributions of {y:04}-{m:02}");
                commit_header(&mut w, next, &message).map_err(io)?;
                commits += 1;
            }
        }
        let path = stream.next(day, &mut text);
        file(&mut w, &path, &text).map_err(io)?;
        if let Some(j) = journal.as_mut() {
            transaction(j, &ledger, &stream.posting)
                .map_err(|e| format!("writing the journal: {e}"))?;
        }
    }
    if let (Some(j), Some(path)) = (journal.as_mut(), &args.journal) {
        j.flush()
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    writeln!(w, "done").map_err(io)?;
    w.flush().map_err(io)?;
    drop(w);
    let status = child
        .wait()
        .map_err(|e| format!("waiting for git fast-import: {e}"))?;
    if !status.success() {
        return Err(format!("git fast-import failed: {status}"));
    }
    Ok(Summary {
        // ovn.toml holds settings, not a record.
        records: ledger.files.len() as u64 - 1 + n,
        commits,
    })
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let started = Instant::now();
    if args.out.exists() {
        let mut entries =
            std::fs::read_dir(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
        if entries.next().is_some() {
            return Err(format!("{} exists and is not empty", args.out.display()));
        }
    }
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    git(&args.out, &["init", "-q", "-b", "main"])?;
    let summary = generate(&args)?;
    let generated = started.elapsed().as_secs_f64();
    if args.loose {
        unpack(&args.out)?;
    }
    let unpacked = started.elapsed().as_secs_f64();
    if args.checkout {
        git(&args.out, &["reset", "--hard", "-q"])?;
    }
    let mut times = format!("{generated:.2} s to generate");
    if args.loose {
        let _ = write!(
            times,
            ", {:.2} s to unpack into loose objects",
            unpacked - generated
        );
    }
    if args.checkout {
        let _ = write!(
            times,
            ", {:.2} s to check out",
            started.elapsed().as_secs_f64() - unpacked
        );
    }
    eprintln!(
        "gen_ledger: {} records ({} contributions) in {} commit{} to {} ({}{}): {times}",
        summary.records,
        args.contributions,
        summary.commits,
        if summary.commits == 1 { "" } else { "s" },
        args.out.display(),
        if args.loose { "loose" } else { "packed" },
        match &args.journal {
            Some(j) => format!(", journal {}", j.display()),
            None => String::new(),
        },
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen_ledger: {e}");
            ExitCode::from(2)
        }
    }
}
