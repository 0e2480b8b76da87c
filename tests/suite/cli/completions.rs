//! `ovn completions SHELL` end to end: a script for every supported shell, outside any
//! ledger, that names the subcommands; bash loads it without an error.

use crate::common::{Sandbox, run};

#[test]
fn every_shell_gets_a_script_naming_the_subcommands() {
    let s = Sandbox::new();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let (code, stdout, stderr) = run(&s, &s.work(), &["completions", shell]);
        assert_eq!(code, 0, "{shell}: {stderr}");
        for word in ["payout", "review", "completions", "no-cache"] {
            assert!(stdout.contains(word), "{shell}: no {word} in the script");
        }
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let s = Sandbox::new();
    let (code, stdout, stderr) = run(&s, &s.work(), &["completions", "tcsh"]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert!(stderr.contains("bash"), "{stderr}");
}

#[test]
fn bash_loads_the_script_and_completes_a_subcommand() {
    let Ok(bash) = std::process::Command::new("bash").arg("--version").output() else {
        eprintln!("SKIPPED: bash is not installed");
        return;
    };
    assert!(bash.status.success());
    let s = Sandbox::new();
    let (code, script, _) = run(&s, &s.work(), &["completions", "bash"]);
    assert_eq!(code, 0);
    let path = s.work().join("ovn.bash");
    std::fs::write(&path, script).unwrap();
    let probe = format!(
        "source '{}' && COMP_WORDS=(ovn pay) && COMP_CWORD=1 && _ovn ovn pay ovn && echo \"${{COMPREPLY[@]}}\"",
        path.display()
    );
    let out = std::process::Command::new("bash")
        .args(["--norc", "-c", &probe])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("payout"), "{stdout}");
}
