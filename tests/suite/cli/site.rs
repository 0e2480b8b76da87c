//! `ovn site DIR` end to end: a self-contained page with every figure, escaped text, commit
//! links, atomic and deterministic output, errors; and, where Chromium is installed (`.ci/run`
//! installs it), the page rendered by a real headless browser.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{Sandbox, base_repo, run};

/// The worked example with its 3000.00 payout recorded, with a memo that needs escaping.
fn with_payout(s: &Sandbox) -> (PathBuf, String) {
    common::repo_with_payout(s, "Invoice <114> & \"spring\"")
}

#[test]
fn a_self_contained_page_with_every_figure() {
    let s = Sandbox::new();
    let (dir, computed_at) = with_payout(&s);
    let head = s.git(&dir, &["rev-parse", "HEAD"]).trim().to_owned();
    let public = s.work().join("public");
    let args = [
        "site",
        public.to_str().unwrap(),
        "--commit-url",
        "https://example.org/ledger/commit/{commit}",
    ];
    let (code, out, err) = run(&s, &dir, &args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!(
            "Wrote {} (computed at {})\n",
            public.join("index.html").display(),
            &head[..12]
        )
    );
    let html = std::fs::read_to_string(public.join("index.html")).unwrap();
    assert!(
        html.starts_with("<!doctype html>\n<html lang=\"en\">"),
        "{html}"
    );
    assert!(html.ends_with("</html>\n"));
    for needle in [
        "<h1>Fablab Commons</h1>",
        // Over time, shares, claims, payouts, paid to date, resources.
        "<td>2026-03</td><td class=\"n\">5</td><td class=\"n\">50</td><td class=\"n\">400.00</td><td class=\"n\">2280.00</td>",
        "<td>Ben Okafor <span class=\"id\">ben</span></td><td class=\"n\">3</td><td class=\"n\">30</td><td class=\"n\">1300.00</td><td class=\"n\">57.02%</td><td><span class=\"track\"><span class=\"bar\" style=\"width:57.02%\"></span></span></td>",
        "<td>drone</td><td>Ben Okafor <span class=\"id\">ben</span></td><td class=\"n\">900.00</td><td class=\"n\">47.87%</td><td class=\"n\">400.00</td><td class=\"n\">400.00</td><td class=\"n\">0.00</td>",
        "<h3>2026-11-30 — 3000.00 EUR for drone: Invoice &lt;114&gt; &amp; &quot;spring&quot;</h3>",
        "<td>Ben Okafor <span class=\"id\">ben</span></td><td>equity</td><td class=\"n\">1101.06</td>",
        "<td>Ben Okafor <span class=\"id\">ben</span></td><td class=\"n\">1</td><td class=\"n\">1501.06</td><td class=\"n\">50.04%</td>",
        "Prusa MK4 <span class=\"muted\">(printer)</span>",
    ] {
        assert!(html.contains(needle), "missing {needle:?} in\n{html}");
    }
    // Each figure links to the commit it was computed at.
    assert!(html.contains(&format!(
        "<a href=\"https://example.org/ledger/commit/{head}\"><code>{}</code></a>",
        &head[..12]
    )));
    assert!(html.contains(&format!(
        "computed at commit <a href=\"https://example.org/ledger/commit/{computed_at}\">"
    )));
    // Self-contained: no script, stylesheet, image, font or frame from anywhere.
    for banned in [
        "<script", "<link", "<img", "<iframe", "src=", "url(", "@import",
    ] {
        assert!(!html.contains(banned), "{banned} in the page");
    }
    // Deterministic, and atomic: no temporary file is left.
    run(&s, &dir, &args);
    assert_eq!(
        std::fs::read_to_string(public.join("index.html")).unwrap(),
        html
    );
    let names: Vec<String> = std::fs::read_dir(&public)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["index.html"]);
    headless_browser(&s, &public.join("index.html"));
}

/// Renders the page in headless Chromium: it loads, shows its text, and the screenshot is not
/// empty; no console errors.
fn headless_browser(s: &Sandbox, page: &Path) {
    let browser = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    let Some(browser) = browser else {
        println!("SKIPPED: no headless Chromium installed (bash .ci/run installs it)");
        return;
    };
    let shot = s.work().join("shot.png");
    let url = format!("file://{}", page.display());
    let common = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--enable-logging=stderr",
        "--v=0",
    ];
    let dom = Command::new(browser)
        .args(common)
        .arg("--dump-dom")
        .arg(&url)
        .env("HOME", s.home())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&dom.stdout);
    assert!(
        text.contains("Fablab Commons") && text.contains("1501.06"),
        "{text}"
    );
    let stderr = String::from_utf8_lossy(&dom.stderr);
    assert!(!stderr.contains("CONSOLE"), "console messages: {stderr}");
    let out = Command::new(browser)
        .args(common)
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1200,1600")
        .arg(&url)
        .env("HOME", s.home())
        .output()
        .unwrap();
    let png = std::fs::read(&shot)
        .unwrap_or_else(|_| panic!("no screenshot: {}", String::from_utf8_lossy(&out.stderr)));
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    // A blank page compresses to a few hundred bytes; tables, text and bars do not.
    assert!(
        png.len() > 20_000,
        "screenshot of {} bytes looks empty",
        png.len()
    );
}

#[test]
fn bad_input() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let file = s.work().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let (code, _, err) = run(&s, &dir, &["site", file.to_str().unwrap()]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("it is not a directory"), "{err}");
    let inside = file.join("public");
    let (code, _, err) = run(&s, &dir, &["site", inside.to_str().unwrap()]);
    assert_eq!(code, 3, "{err}");
    assert!(err.starts_with("error: cannot write "), "{err}");
    let (code, _, err) = run(
        &s,
        &dir,
        &["site", "out", "--commit-url", "https://example.org/commit/"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("has no {commit} placeholder"), "{err}");
    assert!(!dir.join("out").exists());
}
