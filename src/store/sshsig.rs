//! SSH signatures inside approval records: made and checked with `ssh-keygen -Y` (the program
//! git uses for `gpg.format = ssh`), and the history facts that say which keys count: the
//! agents as they were just before an approval arrived on a branch.
//!
//! Temporary files (message, signature, allowed signers) go under `$GIT_DIR/ovn/`, never in
//! the working tree, and are removed after each run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

use git2::{ObjectType, Oid};

use super::{Store, StoreError};
use crate::core::ledger::{self, RecordType};
use crate::core::record::Agent;
use crate::core::validation::{self, RecordSignature, SIGNATURE_NAMESPACE};
use crate::core::value::Id;

/// The key to sign approvals with, as git's `user.signingkey` names it for SSH.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SigningKey {
    /// A private key file, or a public key file whose private key is in ssh-agent.
    File(PathBuf),
    /// A public key written out (`key::ssh-ed25519 AAAA...` or `ssh-ed25519 AAAA...`), whose
    /// private key is in ssh-agent.
    Literal(String),
}

/// One approval signature to check: the signature `body` over `message`, against the SSH
/// `keys` `principal` had when it counts.
#[derive(Clone, Debug)]
pub struct VerifyJob {
    /// The agent the approval names (`by`).
    pub principal: Id,
    /// Its SSH keys at the base of the change that brought the approval.
    pub keys: Vec<String>,
    /// The signed message ([`validation::approval_message`]).
    pub message: String,
    /// The signature, as records keep it.
    pub body: String,
}

impl VerifyJob {
    /// What a good verification is remembered by.
    fn hash(&self, program: &str) -> String {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        for part in [program, self.principal.as_str()]
            .into_iter()
            .chain(self.keys.iter().map(String::as_str))
            .chain([self.message.as_str(), self.body.as_str()])
        {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        crate::core::value::hex(&h.finalize())
    }
}

/// A file under `$GIT_DIR/ovn/` removed when dropped.
struct TempFile(PathBuf);

/// Writes a temporary file under `dir` (`$GIT_DIR/ovn/`), unique to this process and call.
fn temp_file(dir: &Path, what: &str, bytes: &[u8]) -> Result<TempFile, StoreError> {
    std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, "cannot create directory", e))?;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let path = dir.join(format!("{what}.{}.{n}", std::process::id()));
    std::fs::write(&path, bytes).map_err(|e| StoreError::io(&path, "cannot write", e))?;
    Ok(TempFile(path))
}

/// Runs `ssh-keygen -Y verify` (and, when it fails, `-Y check-novalidate` to tell a foreign
/// key from a broken signature) for one job.
fn verify(dir: &Path, program: &str, job: &VerifyJob) -> Result<RecordSignature, StoreError> {
    let sig = temp_file(
        dir,
        "approval-signature",
        validation::armor(&job.body).as_bytes(),
    )?;
    let run = |args: &[&std::ffi::OsStr]| -> Result<bool, StoreError> {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| StoreError::io(Path::new(program), "cannot run", e))?;
        if let Some(mut stdin) = child.stdin.take() {
            use std::io::Write;
            // A refused signature may close stdin early; the exit status says it all.
            let _ = stdin.write_all(job.message.as_bytes());
        }
        let status = child
            .wait()
            .map_err(|e| StoreError::io(Path::new(program), "cannot run", e))?;
        Ok(status.success())
    };
    let ns = std::ffi::OsStr::new(SIGNATURE_NAMESPACE);
    if !job.keys.is_empty() {
        let keys: Vec<&str> = job.keys.iter().map(String::as_str).collect();
        let allowed = validation::allowed_signers_for(&job.principal, &keys);
        let allowed = temp_file(dir, "allowed-signers", allowed.as_bytes())?;
        let ok = run(&[
            "-Y".as_ref(),
            "verify".as_ref(),
            "-f".as_ref(),
            allowed.0.as_os_str(),
            "-I".as_ref(),
            job.principal.as_str().as_ref(),
            "-n".as_ref(),
            ns,
            "-s".as_ref(),
            sig.0.as_os_str(),
        ])?;
        if ok {
            return Ok(RecordSignature::Good);
        }
    }
    // Why it failed: a sound signature by another key, or none at all.
    let sound = run(&[
        "-Y".as_ref(),
        "check-novalidate".as_ref(),
        "-n".as_ref(),
        ns,
        "-s".as_ref(),
        sig.0.as_os_str(),
    ])?;
    Ok(match (sound, job.keys.is_empty()) {
        (false, _) => RecordSignature::Invalid,
        (true, true) => RecordSignature::NoKey,
        (true, false) => RecordSignature::KeyNotListed,
    })
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl Store {
    fn temp_file(&self, what: &str, bytes: &[u8]) -> Result<TempFile, StoreError> {
        temp_file(&self.repo.path().join("ovn"), what, bytes)
    }

    /// The program git runs for SSH signatures: `gpg.ssh.program`, else `ssh-keygen`.
    pub fn ssh_program(&self) -> String {
        self.repo
            .config()
            .ok()
            .and_then(|c| c.get_string("gpg.ssh.program").ok())
            .filter(|p| !p.trim().is_empty())
            .unwrap_or_else(|| "ssh-keygen".to_owned())
    }

    /// The key git would sign commits with for `gpg.format = ssh`: `user.signingkey`, a
    /// literal public key or a path (`~/` expanded as git does), if set.
    pub fn signing_key(&self) -> Option<SigningKey> {
        let config = self.repo.config().ok()?;
        let text = config.get_string("user.signingkey").ok()?;
        let text = text.trim();
        if let Some(key) = text.strip_prefix("key::") {
            return Some(SigningKey::Literal(key.trim().to_owned()));
        }
        if text.starts_with("ssh-") || validation::is_ssh_key(text) {
            return Some(SigningKey::Literal(text.to_owned()));
        }
        let path = config
            .get_path("user.signingkey")
            .unwrap_or_else(|_| PathBuf::from(text));
        Some(SigningKey::File(path))
    }

    /// Signs `message` for approvals (namespace `ovn-approval`) with `key`: the armored
    /// signature, or what `ssh-keygen` said when it refused.
    pub fn ssh_sign(
        &self,
        key: &SigningKey,
        message: &str,
    ) -> Result<Result<String, String>, StoreError> {
        let msg = self.temp_file("approval-message", message.as_bytes())?;
        let sig_path = PathBuf::from(format!("{}.sig", msg.0.display()));
        let _sig = TempFile(sig_path.clone());
        let program = self.ssh_program();
        let mut cmd = Command::new(&program);
        cmd.args(["-Y", "sign", "-n", SIGNATURE_NAMESPACE]);
        let _literal = match key {
            SigningKey::File(path) => {
                cmd.arg("-f").arg(path);
                None
            }
            SigningKey::Literal(text) => {
                let file = self.temp_file("signing-key", format!("{text}\n").as_bytes())?;
                cmd.arg("-U").arg("-f").arg(&file.0);
                Some(file)
            }
        };
        let out = cmd
            .arg(&msg.0)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| StoreError::io(Path::new(&program), "cannot run", e))?;
        if !out.status.success() {
            let said = String::from_utf8_lossy(&out.stderr).trim().to_owned();
            return Ok(Err(if said.is_empty() {
                format!("{program} failed ({})", out.status)
            } else {
                said
            }));
        }
        match std::fs::read_to_string(&sig_path) {
            Ok(text) => Ok(Ok(text)),
            Err(e) => Ok(Err(format!("{program} wrote no signature: {e}"))),
        }
    }

    /// Checks an approval signature (`body`, as records keep it) over `message` against
    /// `keys`, the SSH keys `principal` had when it counts. Needs `ssh-keygen`.
    pub fn ssh_verify(
        &self,
        principal: &Id,
        keys: &[&str],
        message: &str,
        body: &str,
    ) -> Result<RecordSignature, StoreError> {
        let job = VerifyJob {
            principal: principal.clone(),
            keys: keys.iter().map(|k| (*k).to_owned()).collect(),
            message: message.to_owned(),
            body: body.to_owned(),
        };
        Ok(self.ssh_verify_all(&[job])?.remove(0))
    }

    /// [`Store::ssh_verify`] for many signatures, in parallel. Good ones are remembered in
    /// `$GIT_DIR/ovn/good-signatures` (a hash of program, signer, keys, message and
    /// signature per line), so a ledger's approvals are verified once per clone, not on every
    /// `ovn status`: a signature that verified once always will.
    pub fn ssh_verify_all(&self, jobs: &[VerifyJob]) -> Result<Vec<RecordSignature>, StoreError> {
        use rayon::prelude::*;
        let dir = self.repo.path().join("ovn");
        let program = self.ssh_program();
        let known_file = dir.join("good-signatures");
        let known: std::collections::HashSet<String> = std::fs::read_to_string(&known_file)
            .map(|t| t.lines().map(str::to_owned).collect())
            .unwrap_or_default();
        let hashes: Vec<String> = jobs.iter().map(|j| j.hash(&program)).collect();
        let results: Vec<Result<RecordSignature, StoreError>> = jobs
            .par_iter()
            .zip(&hashes)
            .map(|(job, hash)| {
                if known.contains(hash) {
                    return Ok(RecordSignature::Good);
                }
                verify(&dir, &program, job)
            })
            .collect();
        let results: Vec<RecordSignature> = results.into_iter().collect::<Result<_, _>>()?;
        let mut fresh = String::new();
        for (r, hash) in results.iter().zip(&hashes) {
            if *r == RecordSignature::Good && !known.contains(hash) {
                fresh.push_str(hash);
                fresh.push('\n');
            }
        }
        if !fresh.is_empty() {
            // Remembering is only a shortcut: a failed write costs a verification next time.
            use std::io::Write;
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&known_file)
            {
                let _ = f.write_all(fresh.as_bytes());
            }
        }
        Ok(results)
    }

    /// For every approval file at `rev`, by approval id: the commit whose ledger judges its
    /// signature, the *base* of the change that brought the approval's current content onto
    /// `rev`'s first-parent chain (the first parent of that chain's commit; the root commit
    /// for what it holds itself). For a merge this is the branch before the merge, whatever
    /// the merged branch did; for a squash, the branch before the squash.
    pub fn approval_bases(&self, rev: &str) -> Result<BTreeMap<String, Oid>, StoreError> {
        let head = self.resolve(rev)?.id();
        let folder = RecordType::Approval.folder();
        let mut out = BTreeMap::new();
        for (oid, parent) in self.first_parent_chain(head, None)? {
            let find = |oid: Oid| {
                self.repo
                    .find_commit(oid)
                    .map_err(StoreError::git("cannot read a commit"))
            };
            let here = self.history_subtree(self.history_tree(&find(oid)?)?.as_ref(), folder);
            let Some(here) = here else { continue };
            let before = match parent {
                Some(p) => self.history_subtree(self.history_tree(&find(p)?)?.as_ref(), folder),
                None => None,
            };
            let base = parent.unwrap_or(oid);
            super::treediff::walk_differing(
                &self.repo,
                &here,
                before.as_ref(),
                folder,
                &mut |path, entry, _| {
                    if entry.kind() == Some(ObjectType::Blob)
                        && let Some(stem) = path
                            .rsplit('/')
                            .next()
                            .and_then(|f| f.strip_suffix(".toml"))
                    {
                        out.insert(stem.to_owned(), base);
                    }
                    Ok(())
                },
            )?;
        }
        Ok(out)
    }

    /// A commit's whole message (lossy UTF-8).
    pub fn commit_message(&self, commit: Oid) -> Result<String, StoreError> {
        let c = self
            .repo
            .find_commit(commit)
            .map_err(StoreError::git("cannot read a commit"))?;
        Ok(String::from_utf8_lossy(c.message_bytes()).into_owned())
    }

    /// The agents of the ledger at `commit` (those that parse): whose keys judge approvals
    /// that arrived on top of it.
    pub fn agents_at(&self, commit: Oid) -> Result<Vec<Agent>, StoreError> {
        let files = self.read_folder_at(&commit.to_string(), RecordType::Agent.folder())?;
        Ok(ledger::load(&files).ledger.agents)
    }
}
