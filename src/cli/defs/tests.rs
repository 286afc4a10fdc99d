//! The flag table against what is written elsewhere: the completion files must be
//! exactly what `generate.rs` makes of it, and the man page's OPTIONS must describe
//! every flag, with the verbs that take it, and no other.

use std::path::PathBuf;

use super::{FLAGS, Flag, generate};
use crate::cli::Verb;

fn source(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(name)
}

/// The lines where `a` and `b` differ, as `-` (committed) and `+` (generated) pairs.
fn diff(committed: &str, generated: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (committed.lines().collect(), generated.lines().collect());
    let mut out = String::new();
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (a.get(i), b.get(i));
        if x != y {
            out += &format!(
                "line {}:\n- {}\n+ {}\n",
                i + 1,
                x.unwrap_or(&"(none)"),
                y.unwrap_or(&"(none)")
            );
        }
    }
    out
}

#[test]
fn completion_files_are_generated_from_the_table() {
    let bless = std::env::var_os("SFREFRESH_BLESS").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for (name, text) in [
        ("completions/sfrefresh.bash", generate::bash()),
        ("completions/_sfrefresh", generate::zsh()),
        ("completions/sfrefresh.fish", generate::fish()),
    ] {
        let path = source(name);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed == text {
            continue;
        }
        if bless {
            std::fs::write(&path, &text).unwrap();
        } else {
            stale.push(format!("{name}:\n{}", diff(&committed, &text)));
        }
    }
    assert!(
        stale.is_empty(),
        "the completion files differ from what src/cli/defs.rs makes; regenerate them with\n\
         SFREFRESH_BLESS=1 cargo test --locked --lib completion_files\n\n{}",
        stale.join("\n")
    );
}

/// One `.TP` entry of the man page's OPTIONS section: the long flag its heading names
/// first, and the verbs of its `.RB ( "verb, verb" )` line (every verb without one).
#[derive(Debug)]
struct ManEntry {
    flag: String,
    verbs: Vec<String>,
}

fn man_options() -> Vec<ManEntry> {
    let man = std::fs::read_to_string(source("sfrefresh.1")).unwrap();
    let lines: Vec<&str> = man
        .lines()
        .skip_while(|l| *l != ".SH OPTIONS")
        .skip(1)
        .take_while(|l| !l.starts_with(".SH "))
        .collect();
    let mut entries = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if *line != ".TP" {
            continue;
        }
        let heading = lines
            .get(i + 1)
            .map_or(String::new(), |h| h.replace("\\-", "-"));
        let Some(flag) = heading
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .find(|w| w.starts_with("--") && w.len() > 2)
        else {
            continue; // TOKEN_FILE
        };
        let verbs = match lines.get(i + 2).and_then(|l| l.strip_prefix(".RB ( ")) {
            Some(list) => list
                .trim_end_matches(')')
                .replace('"', "")
                .split([',', ' '])
                .filter(|w| !w.is_empty())
                .map(String::from)
                .collect(),
            None => Verb::ALL.iter().map(|(w, _)| w.to_string()).collect(),
        };
        entries.push(ManEntry {
            flag: flag.to_string(),
            verbs,
        });
    }
    entries
}

fn table_verbs(flag: &Flag) -> Vec<String> {
    Verb::ALL
        .iter()
        .filter(|(_, v)| flag.verbs.contains(v))
        .map(|(w, _)| w.to_string())
        .collect()
}

#[test]
fn the_man_page_describes_every_flag_with_its_verbs() {
    let entries = man_options();
    let mut wrong = Vec::new();
    for flag in FLAGS {
        let long = format!("--{}", flag.long);
        let found: Vec<&ManEntry> = entries.iter().filter(|e| e.flag == long).collect();
        match found.as_slice() {
            [entry] if entry.verbs == table_verbs(flag) => {}
            [entry] => wrong.push(format!(
                "{long}: the man page says {:?}, the table {:?}",
                entry.verbs,
                table_verbs(flag)
            )),
            [] => wrong.push(format!("{long}: no .TP entry in the man page's OPTIONS")),
            _ => wrong.push(format!("{long}: {} entries in OPTIONS", found.len())),
        }
    }
    for entry in &entries {
        if !FLAGS.iter().any(|f| format!("--{}", f.long) == entry.flag) {
            wrong.push(format!("{}: in the man page, not in the table", entry.flag));
        }
    }
    assert!(
        wrong.is_empty(),
        "sfrefresh.1 OPTIONS and src/cli/defs.rs disagree (a flag not taken by every verb \
         has a `.RB ( \"verb, verb\" )` line under its heading):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_table_is_consistent() {
    for (i, flag) in FLAGS.iter().enumerate() {
        assert!(!flag.verbs.is_empty(), "--{}", flag.long);
        assert!(
            !flag.doc.is_empty() && !flag.help.is_empty(),
            "--{}",
            flag.long
        );
        assert_eq!(
            flag.takes_value(),
            !flag.value_name.is_empty(),
            "--{}",
            flag.long
        );
        for other in &FLAGS[i + 1..] {
            assert_ne!(flag.id, other.id);
            assert_ne!(flag.long, other.long);
            assert!(flag.short.is_none() || flag.short != other.short);
        }
        for c in flag.conflicts {
            let other = FLAGS.iter().find(|f| f.long == *c);
            assert!(
                other.is_some_and(|o| o.conflicts.contains(&flag.long)),
                "--{} conflicts with --{c} both ways",
                flag.long
            );
        }
        for (verb, _) in flag.help_for {
            assert!(
                flag.verbs.contains(verb),
                "--{}: help for {verb:?}",
                flag.long
            );
        }
    }
}
