//! `ovn init`: a new ledger in a new or existing repository, in one commit, or nothing at all.
//!
//! Everything it creates (the repository, folders, files) is remembered as it goes, and
//! removed again on any failure: a half-made ledger would be worse than none, since the next
//! `ovn init` refuses to overwrite it. It refuses first, before writing anything, where a
//! ledger exists, inside a bare repository, or over record folders that hold files.

use std::path::{Path, PathBuf};

use git2::{Oid, Repository, RepositoryInitOptions};

use super::write::{Identity, Written};
use super::{Store, StoreError};
use crate::context::Context;
use crate::core::ledger::{KEEP_FILE, NETWORK_FILE, RecordType};
use crate::core::record::Network;
use crate::core::value::currency_minor_units;
use crate::core::write;

/// What `ovn init` is asked to create.
#[derive(Clone, Debug)]
pub struct NewLedger {
    /// Network name.
    pub name: String,
    /// Currency code.
    pub currency: String,
    /// Decimal places, when not the currency's usual ones.
    pub minor_units: Option<u32>,
}

/// What `ovn init` did.
#[derive(Clone, Debug)]
pub struct InitOutcome {
    /// The ledger root.
    pub root: PathBuf,
    /// Whether a new git repository was created for it.
    pub created_repository: bool,
    /// The ledger's path inside the repository (`""` at the top).
    pub prefix: String,
    /// The commit that added it.
    pub commit: Oid,
    /// The validated branch written to `ovn.toml`.
    pub branch: String,
    /// The files created, ledger-relative.
    pub files: Vec<String>,
}

/// Creates a ledger at `dir` and commits it. Refuses (changing nothing) where a ledger exists,
/// inside a bare repository, or over record folders that already hold files; on any failure
/// everything it created is removed again.
pub fn init(dir: &Path, new: &NewLedger, ctx: &Context) -> Result<InitOutcome, StoreError> {
    // Resolve symlinks in the part that exists; the rest is created below.
    let dir = std::path::absolute(dir).map_err(|e| StoreError::io(dir, "cannot resolve", e))?;
    let existing = dir
        .ancestors()
        .find(|d| d.exists())
        .unwrap_or(Path::new("/"))
        .to_path_buf();
    let canonical = existing
        .canonicalize()
        .map_err(|e| StoreError::io(&existing, "cannot open", e))?;
    let dir = canonical.join(dir.strip_prefix(&existing).unwrap_or(Path::new("")));
    let existing = canonical;

    if let Some(found) = dir
        .ancestors()
        .map(|d| d.join(NETWORK_FILE))
        .find(|p| p.is_file())
    {
        return Err(StoreError::AlreadyALedger { path: found });
    }
    for kind in RecordType::ALL {
        let folder = dir.join(kind.folder());
        if std::fs::read_dir(&folder).is_ok_and(|mut entries| entries.next().is_some()) {
            return Err(StoreError::NotEmpty { path: folder });
        }
    }

    let found = Repository::discover(&existing).ok();
    if let Some(repo) = &found
        && repo.is_bare()
    {
        return Err(StoreError::BareRepository {
            path: repo.path().to_path_buf(),
        });
    }
    let identity = match &found {
        Some(repo) => Identity::resolve(repo, ctx)?,
        None => Identity::from_config(git2::Config::open_default().ok(), ctx)?,
    };

    let mut written = Written::default();
    let result = create(&dir, new, found, &identity, &mut written);
    if result.is_err() {
        written.undo();
    }
    result
}

fn create(
    dir: &Path,
    new: &NewLedger,
    found: Option<Repository>,
    identity: &Identity,
    written: &mut Written,
) -> Result<InitOutcome, StoreError> {
    written.create_dirs(dir)?;
    let created_repository = found.is_none();
    let repo = match found {
        Some(repo) => repo,
        None => {
            let mut options = RepositoryInitOptions::new();
            options.initial_head(Network::DEFAULT_BRANCH);
            let repo = Repository::init_opts(dir, &options)
                .map_err(StoreError::git("cannot create a git repository"))?;
            written.created_repository(dir.join(".git"));
            repo
        }
    };
    let branch = current_branch(&repo).unwrap_or_else(|| Network::DEFAULT_BRANCH.to_owned());
    let network = Network {
        format: Network::FORMAT,
        name: new.name.clone(),
        minor_units: new
            .minor_units
            .unwrap_or_else(|| currency_minor_units(&new.currency)),
        minor_units_explicit: new.minor_units.is_some(),
        currency: new.currency.clone(),
        validated_branch: branch.clone(),
        leftover: None,
        validation: Default::default(),
        base_uri: None,
        payment_account: None,
    };
    let mut files = vec![(
        NETWORK_FILE.to_owned(),
        write::network(&network).into_bytes(),
    )];
    // `rates/` is optional: a ledger in one currency never needs it.
    for kind in RecordType::ALL
        .into_iter()
        .filter(|k| *k != RecordType::Rate)
    {
        files.push((format!("{}/{KEEP_FILE}", kind.folder()), Vec::new()));
    }
    let workdir = repo
        .workdir()
        .ok_or_else(|| StoreError::BareRepository {
            path: repo.path().to_path_buf(),
        })?
        .canonicalize()
        .map_err(|e| StoreError::io(dir, "cannot open the working tree", e))?;
    let prefix = dir
        .strip_prefix(&workdir)
        .map_err(|_| StoreError::NotARepository {
            path: dir.to_path_buf(),
        })?
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    let store = Store {
        repo,
        root: Some(dir.to_path_buf()),
        prefix: prefix.clone(),
        cache: true,
        cache_writes: true,
        fill_window: None,
        failpoint: None,
    };
    let message = format!("init: ledger {:?} ({})", new.name, new.currency);
    let commit = store.commit_new_files_tracked(&files, &message, identity, written)?;
    Ok(InitOutcome {
        root: dir.to_path_buf(),
        created_repository,
        prefix,
        commit,
        branch,
        files: files.into_iter().map(|(p, _)| p).collect(),
    })
}

/// The branch HEAD points at, even before its first commit.
fn current_branch(repo: &Repository) -> Option<String> {
    let head = repo.find_reference("HEAD").ok()?;
    let target = head.symbolic_target().ok()??;
    target.strip_prefix("refs/heads/").map(str::to_owned)
}
