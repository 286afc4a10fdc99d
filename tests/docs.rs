//! The help, the man page and the README name the same options, env vars and exit codes.

use std::fs;

use crate::util::*;

fn help() -> String {
    run(sfrefresh().arg("--help")).stdout
}

/// The verbs' own help texts (`sfrefresh VERB --help`).
const VERBS: [&str; 3] = ["exec", "status", "revoke"];

fn verb_help(verb: &str) -> String {
    let out = run(sfrefresh().args([verb, "--help"]));
    assert_eq!(out.code, 0, "{verb} --help");
    out.stdout
}

/// Every `--long` option the help texts list, the verbs' included.
fn options() -> Vec<String> {
    let all = VERBS.iter().fold(help(), |text, v| text + &verb_help(v));
    let mut found: Vec<String> = all
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(String::from)
        .collect();
    found.sort();
    found.dedup();
    found
}

fn read(name: &str) -> String {
    fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(name)).unwrap()
}

#[test]
fn help_lists_all_options() {
    let opts = options();
    for must in [
        "--client-id",
        "--cacert",
        "--verify-signature",
        "--if-older-than",
        "--no-proxy",
    ] {
        assert!(
            opts.contains(&must.to_string()),
            "{must} missing from --help: {opts:?}"
        );
    }
}

#[test]
fn man_page_and_readme_document_every_option() {
    let man = read("sfrefresh.1").replace("\\-", "-");
    let readme = read("README.md");
    for opt in options() {
        assert!(man.contains(&opt), "{opt} missing from sfrefresh.1");
        assert!(
            readme.contains(&format!("`{opt}")),
            "{opt} missing from README.md"
        );
    }
}

#[test]
fn env_vars_and_exit_codes_are_documented_everywhere() {
    let help = help();
    let man = read("sfrefresh.1").replace("\\-", "-");
    let readme = read("README.md");
    for var in [
        "SF_TOKEN_FILE",
        "SF_CLIENT_ID",
        "SF_CLIENT_SECRET",
        "SF_TOKEN_URL",
        "SF_LOGIN_URL",
        "SSL_CERT_FILE",
        "HTTPS_PROXY",
        "NO_PROXY",
        "SF_REVOKE_URL",
    ] {
        for (name, text) in [
            ("--help", &help),
            ("sfrefresh.1", &man),
            ("README.md", &readme),
        ] {
            assert!(text.contains(var), "{var} missing from {name}");
        }
    }
    for code in 0..=5 {
        assert!(
            readme.contains(&format!("| {code} |")),
            "exit code {code} missing from README.md"
        );
        assert!(
            man.contains(&format!(".B {code}\n")),
            "exit code {code} missing from sfrefresh.1"
        );
        assert!(
            help.contains(&format!("    {code}  ")),
            "exit code {code} missing from --help"
        );
    }
    // exec's own: COMMAND not runnable, not found.
    let exec = verb_help("exec");
    for code in [126, 127] {
        assert!(readme.contains(&format!("| {code} |")), "{code}: README.md");
        assert!(man.contains(&format!(".B {code}\n")), "{code}: sfrefresh.1");
        for (name, text) in [("--help", &help), ("exec --help", &exec)] {
            assert!(text.contains(&format!("    {code}  ")), "{code}: {name}");
        }
    }
}

#[test]
fn each_verb_has_its_help_within_80_columns_ending_with_examples() {
    for verb in VERBS {
        let text = verb_help(verb);
        assert_eq!(text, run(sfrefresh().args(["help", verb])).stdout);
        assert!(
            text.starts_with(&format!("sfrefresh {verb} - ")),
            "{verb}: {text}"
        );
        for line in text.lines() {
            assert!(line.chars().count() <= 80, "{verb}: {line:?}");
        }
        let examples = text.rfind("\nEXAMPLES:\n").expect("an EXAMPLES section");
        assert!(
            text[examples..]
                .lines()
                .skip(2)
                .all(|l| l.starts_with("    ")),
            "{verb}: EXAMPLES must come last"
        );
    }
}

#[test]
fn exec_variables_are_documented_everywhere() {
    let man = read("sfrefresh.1").replace("\\-", "-");
    let readme = read("README.md");
    let exec = verb_help("exec");
    for var in ["SF_ACCESS_TOKEN", "SF_INSTANCE_URL", "SF_API_INSTANCE_URL"] {
        for (name, text) in [
            ("exec --help", &exec),
            ("sfrefresh.1", &man),
            ("README.md", &readme),
        ] {
            assert!(text.contains(var), "{var} missing from {name}");
        }
    }
}
