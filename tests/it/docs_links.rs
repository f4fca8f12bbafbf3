//! The user's guide and the product contract point only at files that exist (issue 14):
//! every relative Markdown link, and every `code span` naming a path in the repository
//! (under one of its top-level folders), in README.md and docs/*.md resolves to a file or
//! folder of the checkout.

use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The Markdown files checked: README.md and every docs/*.md.
fn documents() -> Vec<PathBuf> {
    let mut v = vec![Path::new(ROOT).join("README.md")];
    for e in std::fs::read_dir(Path::new(ROOT).join("docs")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "md") {
            v.push(p);
        }
    }
    v.sort();
    v
}

/// The targets of `](target)` links that are not URLs or in-page anchors.
fn links(text: &str) -> Vec<String> {
    let mut out = vec![];
    let mut rest = text;
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        let Some(end) = rest.find(')') else { break };
        let t = rest[..end].split_whitespace().next().unwrap_or("");
        let t = t.split('#').next().unwrap_or("");
        if !t.is_empty() && !t.contains("://") && !t.starts_with("mailto:") {
            out.push(t.to_string());
        }
    }
    out
}

/// `code spans` that name a path under one of the repository's top-level folders
/// (`src/web/raw.rs`, `scripts/test.sh`), without placeholders or globs.
fn code_paths(text: &str, top: &[String]) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|s| {
            let s = s.trim().trim_start_matches("./");
            let first = s.split('/').next()?;
            let pathy = s.contains('/')
                && top.iter().any(|t| t == first)
                && !s.contains(char::is_whitespace)
                && !s.contains(['{', '<', '*', '$', '…'])
                && !s.contains("...");
            // `src/x.rs:12` names a line of a file.
            pathy.then(|| s.split(':').next().unwrap_or(s).to_string())
        })
        .collect()
}

#[test]
fn every_relative_link_and_repository_path_in_the_docs_exists() {
    let top: Vec<String> = std::fs::read_dir(ROOT)
        .unwrap()
        .filter_map(|e| {
            let e = e.ok()?;
            let name = e.file_name().to_string_lossy().into_owned();
            // `archive/` is the user's archive folder (only its README is in the
            // repository): the docs' `archive/...` paths name files of an archive.
            (e.path().is_dir()
                && !name.starts_with('.')
                && !["target", "archive"].contains(&name.as_str()))
            .then_some(name)
        })
        .collect();
    assert!(top.iter().any(|t| t == "src"), "{top:?}");
    let mut missing = vec![];
    let mut checked = 0;
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).unwrap();
        let here = doc.parent().unwrap();
        for l in links(&text) {
            checked += 1;
            if !here.join(&l).exists() {
                missing.push(format!("{}: link {l}", doc.display()));
            }
        }
        for p in code_paths(&text, &top) {
            checked += 1;
            if !Path::new(ROOT).join(&p).exists() && !here.join(&p).exists() {
                missing.push(format!("{}: path `{p}`", doc.display()));
            }
        }
    }
    assert!(
        checked > 10,
        "only {checked} references found: is the scan broken?"
    );
    assert!(
        missing.is_empty(),
        "references to files not in the repository:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_scanner_finds_links_and_paths() {
    let top = vec!["src".to_string(), "docs".to_string()];
    let t = "see [cli](docs/cli.md#x), [web](https://x.org/a) and [top](#top); \
             `src/web/raw.rs:12`, `src/{a}.rs`, `/raw/{id}`, `samizdat init`";
    assert_eq!(links(t), ["docs/cli.md"]);
    assert_eq!(code_paths(t, &top), ["src/web/raw.rs"]);
}

/// The `samizdat.toml` sections docs/config.md documents.
const SECTIONS: &[&str] = &[
    "http",
    "platforms",
    "watch",
    "storage",
    "log",
    "timestamp",
    "serve",
    "warcinfo",
];

/// Config keys named in string literals of the source (error and warning messages), as
/// `[section] key` or `section.key`: (section, key).
fn keys_in_messages(src: &str) -> Vec<(String, String)> {
    let word = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect()
    };
    let mut out = vec![];
    for line in src.lines() {
        let t = line.trim_start();
        if t.starts_with("//") {
            continue;
        }
        for lit in line.split('"').skip(1).step_by(2) {
            for sect in SECTIONS {
                // `platforms.NAME` names a platform, not a key; `log.key` and `log.vkey`
                // are the archive's key files.
                let dotted = (*sect != "platforms").then(|| format!("{sect}."));
                for pat in std::iter::once(format!("[{sect}] ")).chain(dotted) {
                    let mut rest = lit;
                    while let Some(i) = rest.find(&pat) {
                        let before = rest[..i].chars().next_back();
                        rest = &rest[i + pat.len()..];
                        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
                        {
                            continue;
                        }
                        let k = word(rest);
                        let file = pat.ends_with('.') && ["key", "vkey"].contains(&k.as_str());
                        if !k.is_empty() && !k.ends_with('_') && !file {
                            out.push((sect.to_string(), k));
                        }
                    }
                }
            }
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_config_key_a_message_names_is_in_docs_config_md() {
    let doc = std::fs::read_to_string(Path::new(ROOT).join("docs/config.md")).unwrap();
    let mut files = vec![];
    rust_files(&Path::new(ROOT).join("src"), &mut files);
    let mut seen = std::collections::BTreeSet::new();
    for f in files {
        for k in keys_in_messages(&std::fs::read_to_string(&f).unwrap()) {
            seen.insert(k);
        }
    }
    assert!(seen.len() > 10, "only {seen:?}: is the scan broken?");
    let missing: Vec<String> = seen
        .iter()
        // `[platforms.NAME]` keys and `http.hosts` (a table) are documented by name below.
        .filter(|(s, k)| {
            let in_table = doc.contains(&format!("| `{k}` |"));
            let section =
                doc.contains(&format!("`[{s}]`")) || doc.contains(&format!("`[{s}.{k}]`"));
            !(section && (in_table || doc.contains(&format!("`[{s}.{k}]`"))))
        })
        .map(|(s, k)| format!("[{s}] {k}"))
        .collect();
    assert!(
        missing.is_empty(),
        "config keys named by messages but not in docs/config.md: {missing:?}"
    );
}

#[test]
fn the_key_scanner_reads_both_forms() {
    let src = r#"bad(format!("http.hosts.{host:?}: x; [serve] allow_private_addresses = true"))
    let x = "thehttp.concurrency [serve] max_";"#;
    assert_eq!(
        keys_in_messages(src),
        [
            ("http".to_string(), "hosts".to_string()),
            ("serve".to_string(), "allow_private_addresses".to_string())
        ]
    );
}
