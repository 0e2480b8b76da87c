//! `ovn man DIR`: write the manual pages, generated from the clap definitions.
//!
//! The clap tree is the one source of `--help` and of the manual, so the two never disagree;
//! `man/` in the repository holds the same pages (a test regenerates and compares them).
//! `clap_mangen` renders the title, description and options; the rest is put together here,
//! because its defaults do not make a proper manual page: its NAME repeats the name when the
//! about already starts with it, its SYNOPSIS drops value names (`[-C ]`), it lists clap's
//! `help` subcommand as a page that does not exist, it files everything after the options under
//! "EXTRA", and it has no SEE ALSO. Here the SYNOPSIS is written from the arguments themselves
//! (value names, optional values, repetition, only the options the command accepts: `-V` only
//! where clap gives one), the text after the options (`after_help`) is cut into the usual
//! sections by its own headings ("Exit status:" becomes EXIT STATUS, "Examples:" EXAMPLES),
//! and SEE ALSO links the parent, the children and `ovn-ledger(5)`. The ledger format page,
//! `ovn-ledger.5`, is written by hand and shipped inside the binary.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use clap_mangen::roff::{Inline, Roff, bold, italic, roman};

use super::{CliError, EXIT_OK};
use crate::context::Context;

/// The hand-written reference of the ledger format.
const LEDGER_PAGE: &str = include_str!("../../man/ovn-ledger.5");

/// Write every manual page into the manual tree DIR (DIR/man1, DIR/man5; created if missing).
///
/// Writes ovn.1 and one page per subcommand (ovn-check.1, ovn-agent-add.1, ...) into
/// DIR/man1 and the ledger format reference ovn-ledger.5 into DIR/man5, replacing pages of
/// the same name. With DIR = ~/.local/share/man, man(1) finds them at once (man ovn, man
/// ovn-check, man ovn-ledger); /usr/local/share/man installs them for every user.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ovn man ~/.local/share/man       then: man ovn, man ovn-check, man ovn-ledger
  ovn man /tmp/m && man -l /tmp/m/man5/ovn-ledger.5

Exit status: 0 written, 3 a folder or a page cannot be written.")]
pub struct ManArgs {
    /// The root of the manual tree to write the pages into
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// Runs `ovn man`.
pub fn run(
    args: ManArgs,
    cwd: &Path,
    _ctx: &Context,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let root = cwd.join(&args.dir);
    let cannot = |e: std::io::Error| {
        CliError::environment(
            format!("cannot write manual pages into {}: {e}", args.dir.display()),
            None,
        )
    };
    let pages = pages();
    for (name, text) in &pages {
        // The section is the file's extension: ovn.1 goes to man1, ovn-ledger.5 to man5.
        let section = name.rsplit('.').next().unwrap_or("1");
        let dir = root.join(format!("man{section}"));
        std::fs::create_dir_all(&dir).map_err(cannot)?;
        std::fs::write(dir.join(name), text).map_err(cannot)?;
    }
    writeln!(
        out,
        "wrote {} manual pages to {}",
        pages.len(),
        args.dir.display()
    )?;
    Ok(EXIT_OK)
}

/// Every manual page, by file name, in a stable order: `ovn.1`, then each subcommand's page
/// depth first (`ovn-agent.1`, `ovn-agent-add.1`, ...), then `ovn-ledger.5`.
pub fn pages() -> Vec<(String, String)> {
    let mut top = super::command().disable_help_subcommand(true);
    // Built once from the top, so that global options (-C, --no-cache) reach every page.
    top.build();
    let mut pages = Vec::new();
    add_pages(&top, "ovn", None, &mut pages);
    pages.push(("ovn-ledger.5".to_owned(), LEDGER_PAGE.to_owned()));
    pages
}

fn add_pages(
    cmd: &clap::Command,
    page: &str,
    parent: Option<&str>,
    pages: &mut Vec<(String, String)>,
) {
    pages.push((format!("{page}.1"), render(cmd, page, parent)));
    for sub in cmd.get_subcommands() {
        add_pages(
            sub,
            &format!("{page}-{}", sub.get_name()),
            Some(page),
            pages,
        );
    }
}

/// One page: `page` is its name (`ovn-agent-add`), `parent` the page of the command above.
fn render(cmd: &clap::Command, page: &str, parent: Option<&str>) -> String {
    let man = clap_mangen::Man::new(cmd.clone());
    let mut out = Vec::new();
    let mut head = Roff::default();
    // Written here: roff drops an empty argument, so clap_mangen's title, with no date,
    // shifts the source into the date's place and the manual's name into the source's.
    out.extend(
        format!(
            ".TH {} 1 \"\" \"ovn {}\" \"ovn manual\"\n",
            page.replace('-', "\\-"),
            env!("CARGO_PKG_VERSION")
        )
        .bytes(),
    );
    head.control("SH", ["NAME"]);
    head.text([roman(format!("{page} - {}", name_line(cmd)))]);
    head.control("SH", ["SYNOPSIS"]);
    // Left-adjusted: a justified synopsis spreads its words apart.
    head.control("ad", ["l"]);
    head.text(synopsis(cmd));
    head.control("ad", []);
    head.to_writer(&mut out).expect("writing to a Vec");
    man.render_description_section(&mut out)
        .expect("writing to a Vec");
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut out)
            .expect("writing to a Vec");
    }
    let mut tail = Roff::default();
    let subs: Vec<&clap::Command> = cmd.get_subcommands().collect();
    if !subs.is_empty() {
        tail.control("SH", ["COMMANDS"]);
        for sub in &subs {
            tail.control("TP", []);
            tail.text([bold(format!("{page}-{}", sub.get_name())), roman("(1)")]);
            if let Some(about) = sub.get_about() {
                tail.text([roman(about.to_string())]);
            }
        }
    }
    let after = cmd
        .get_after_help()
        .map(|s| s.to_string())
        .unwrap_or_default();
    for (title, body) in sections(&after) {
        tail.control("SH", [title.as_str()]);
        for block in body {
            render_block(&mut tail, &block);
        }
    }
    tail.control("SH", ["SEE ALSO"]);
    let mut refs: Vec<(String, &str)> = Vec::new();
    if let Some(parent) = parent {
        refs.push((parent.to_owned(), "1"));
    }
    refs.extend(
        subs.iter()
            .map(|sub| (format!("{page}-{}", sub.get_name()), "1")),
    );
    refs.push(("ovn-ledger".to_owned(), "5"));
    refs.push(("git".to_owned(), "1"));
    let last = refs.len() - 1;
    for (i, (name, section)) in refs.iter().enumerate() {
        let comma = if i == last { "" } else { "," };
        // Arguments of a request are not escaped by roff: a bare `-` would be a hyphen.
        let name = name.replace('-', "\\-");
        tail.control("BR", [name.as_str(), &format!("({section}){comma}")]);
    }
    tail.to_writer(&mut out).expect("writing to a Vec");
    let text = String::from_utf8(out).expect("roff output is UTF-8");
    // Each part rendered separately starts with the same two-line preamble; once is enough.
    format!("{PREAMBLE}{}", text.replace(PREAMBLE, ""))
}

/// What `roff` puts at the top of every document it writes (the apostrophe string).
const PREAMBLE: &str = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";

/// The NAME line's description: the about, without a leading "ovn: " that would repeat the
/// name ("ovn - ovn: a ledger ...").
fn name_line(cmd: &clap::Command) -> String {
    let about = cmd.get_about().map(|s| s.to_string()).unwrap_or_default();
    let prefix = format!("{}: ", cmd.get_name());
    about
        .strip_prefix(&prefix)
        .map(str::to_owned)
        .unwrap_or(about)
}

/// The SYNOPSIS line: the full command (`ovn agent add`), every option the command accepts
/// with its value name (`[--at REV]`, `[--history [RANGE]]`), the positionals, then COMMAND
/// for a group.
fn synopsis(cmd: &clap::Command) -> Vec<Inline> {
    let name = cmd
        .get_bin_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_owned();
    let mut line = vec![bold(name)];
    let options = cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set() && !a.is_positional());
    for arg in options {
        let flag = match (arg.get_short(), arg.get_long()) {
            (Some(s), Some(l)) => format!("-{s}|--{l}"),
            (Some(s), None) => format!("-{s}"),
            (None, Some(l)) => format!("--{l}"),
            (None, None) => continue,
        };
        let required = arg.is_required_set();
        line.push(roman(if required { " " } else { " [" }));
        line.push(bold(flag));
        line.extend(value(arg));
        if !required {
            line.push(roman("]"));
        }
        if repeats(arg) {
            line.push(roman("..."));
        }
    }
    for arg in cmd.get_positionals().filter(|a| !a.is_hide_set()) {
        let required = arg.is_required_set();
        line.push(roman(if required { " " } else { " [" }));
        line.push(italic(value_name(arg)));
        if !required {
            line.push(roman("]"));
        }
        if repeats(arg) {
            line.push(roman("..."));
        }
    }
    if cmd.has_subcommands() {
        line.push(roman(" "));
        line.push(italic("COMMAND"));
    }
    line
}

/// ` VALUE` or ` [VALUE]` after an option that takes one, nothing after a flag.
fn value(arg: &clap::Arg) -> Vec<Inline> {
    let Some(range) = arg.get_num_args() else {
        return Vec::new();
    };
    if !range.takes_values() {
        return Vec::new();
    }
    let name = value_name(arg);
    if range.min_values() == 0 {
        vec![roman(" ["), italic(name), roman("]")]
    } else {
        vec![roman(" "), italic(name)]
    }
}

fn value_name(arg: &clap::Arg) -> String {
    match arg.get_value_names() {
        Some(names) => names
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        None => arg.get_id().as_str().to_uppercase(),
    }
}

/// Whether the argument may be given more than once (or take several values).
fn repeats(arg: &clap::Arg) -> bool {
    matches!(
        arg.get_action(),
        clap::ArgAction::Append | clap::ArgAction::Count
    ) || arg.get_num_args().is_some_and(|r| r.max_values() > 1)
}

/// A block of the text after the options: plain text, or lines kept as written (tables).
enum Block {
    Text(String),
    Lines(Vec<String>),
}

/// Cuts the text after the options into man sections. A paragraph whose first line is a
/// heading (`Examples:`, `Environment:`) opens the section of that name, its indented lines
/// kept as written; a paragraph starting `Exit status: ...` is the EXIT STATUS section; any
/// other paragraph is a NOTE. Sections come in the order man pages use.
fn sections(text: &str) -> Vec<(String, Vec<Block>)> {
    let mut sections: Vec<(String, Vec<Block>)> = Vec::new();
    let mut push = |title: String, block: Block| match sections.iter_mut().find(|s| s.0 == title) {
        Some(section) => section.1.push(block),
        None => sections.push((title, vec![block])),
    };
    for paragraph in text.split("\n\n").map(str::trim_end) {
        let mut lines = paragraph.lines();
        let Some(first) = lines.next() else { continue };
        let rest: Vec<&str> = lines.collect();
        if let Some(title) = first.strip_suffix(':').filter(|t| !t.starts_with(' ')) {
            let lines = rest
                .iter()
                .map(|l| l.strip_prefix("  ").unwrap_or(l).to_owned())
                .collect();
            push(section_title(title), Block::Lines(lines));
        } else if let Some(status) = first.strip_prefix("Exit status: ") {
            let text = std::iter::once(status)
                .chain(rest)
                .collect::<Vec<_>>()
                .join(" ");
            push("EXIT STATUS".to_owned(), Block::Text(text));
        } else if !first.is_empty() {
            push(
                "NOTES".to_owned(),
                Block::Text(paragraph.replace('\n', " ")),
            );
        }
    }
    const ORDER: [&str; 6] = [
        "EXIT STATUS",
        "ENVIRONMENT",
        "FILES",
        "CACHE",
        "NOTES",
        "EXAMPLES",
    ];
    sections.sort_by_key(|(title, _)| ORDER.iter().position(|o| o == title).unwrap_or(ORDER.len()));
    sections
}

fn section_title(heading: &str) -> String {
    match heading {
        "Example" | "Examples" => "EXAMPLES".to_owned(),
        other => other.to_uppercase(),
    }
}

fn render_block(roff: &mut Roff, block: &Block) {
    match block {
        Block::Text(text) => {
            roff.control("PP", []);
            roff.text([roman(text.as_str())]);
        }
        Block::Lines(lines) => {
            roff.control("PP", []);
            roff.control("nf", []);
            for line in lines {
                roff.text([roman(line.as_str())]);
            }
            roff.control("fi", []);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(name: &str) -> String {
        pages()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, text)| text)
            .unwrap_or_else(|| panic!("no page {name}"))
    }

    #[test]
    fn the_top_page_has_a_proper_name_synopsis_and_sections() {
        let top = page("ovn.1");
        assert!(
            top.contains("ovn \\- a ledger for Open Value Networks"),
            "{top}"
        );
        assert!(top.contains("[\\fB\\-C\\fR \\fIDIR\\fR]"), "{top}");
        assert!(!top.contains("ovn\\-help"), "{top}");
        assert!(top.contains(".SH \"EXIT STATUS\""), "{top}");
        assert!(!top.contains("EXTRA"), "{top}");
        assert!(top.contains(".SH \"SEE ALSO\""), "{top}");
        assert!(top.contains(".BR ovn\\-ledger (5),"), "{top}");
    }

    #[test]
    fn subcommand_pages_name_values_and_offer_no_version_flag() {
        let check = page("ovn-check.1");
        assert!(check.contains("[\\fB\\-\\-at\\fR \\fIREV\\fR]"), "{check}");
        assert!(
            check.contains("[\\fB\\-\\-history\\fR [\\fIRANGE\\fR]]"),
            "{check}"
        );
        assert!(!check.contains("\\-\\-version"), "{check}");
        assert!(check.contains(".BR ovn (1),"), "{check}");
    }

    #[test]
    fn after_help_is_cut_into_sections() {
        let s = sections("Examples:\n  ovn x   does x\n\nA note.\n\nExit status: 0 ok,\n1 not.");
        let titles: Vec<&str> = s.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(titles, ["EXIT STATUS", "NOTES", "EXAMPLES"]);
    }
}
