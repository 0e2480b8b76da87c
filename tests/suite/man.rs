//! The man pages in `man/` are generated from the clap definitions (one source for `--help`
//! and the manual). This test regenerates them and fails when `man/` is stale; run it with
//! `OVN_BLESS=1` to rewrite the files.

#![allow(clippy::disallowed_methods)]

use std::path::Path;

fn render(cmd: clap::Command) -> String {
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut out)
        .expect("render man page");
    String::from_utf8(out).expect("man page is UTF-8")
}

/// Every page generated from the command tree: `ovn.1`, `ovn-<sub>.1`, and for a group of
/// subcommands (`ovn agent add`) `ovn-<group>-<sub>.1` too.
fn pages() -> Vec<(String, String)> {
    fn add(prefix: &str, cmd: &clap::Command, pages: &mut Vec<(String, String)>) {
        for sub in cmd.get_subcommands() {
            let name = format!("{prefix}-{}", sub.get_name());
            let page = sub
                .clone()
                .name(name.clone())
                .version(env!("CARGO_PKG_VERSION"));
            pages.push((format!("{name}.1"), render(page)));
            add(&name, sub, pages);
        }
    }
    let cmd = ovn::cli::command();
    let mut pages = vec![("ovn.1".to_owned(), render(cmd.clone()))];
    add("ovn", &cmd, &mut pages);
    pages
}

#[test]
fn man_pages_are_fresh() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let bless = std::env::var("OVN_BLESS").is_ok_and(|v| v == "1");
    let mut stale = Vec::new();
    for (file, text) in pages() {
        let path = dir.join(&file);
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &text).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(file);
        }
    }
    assert!(
        stale.is_empty(),
        "man pages out of date: {stale:?}; run `OVN_BLESS=1 cargo test --test suite man::` and commit man/"
    );
}

#[test]
fn every_subcommand_has_a_page_and_the_ledger_reference_exists() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    for (file, _) in pages() {
        assert!(dir.join(&file).is_file(), "missing man/{file}");
    }
    assert!(
        dir.join("ovn-ledger.5").is_file(),
        "missing man/ovn-ledger.5"
    );
}
