//! The help, the man page and the README name the same options, env vars and exit codes.

use std::fs;

use crate::util::*;

fn help() -> String {
    run(sfrefresh().arg("--help")).stdout
}

/// The main help and each verb's own.
fn all_help() -> String {
    help() + &run(sfrefresh().args(["help", "login"])).stdout
}

/// Every `--long` option the help texts list.
fn options() -> Vec<String> {
    let mut found: Vec<String> = all_help()
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
        "--device",
        "--sfdx-url-file",
        "--jwt-key",
        "--redirect-port",
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
}
