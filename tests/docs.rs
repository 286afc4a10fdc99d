//! The help, the man page and the README name the same options, env vars and exit codes.

use std::fs;

use crate::util::*;

fn help() -> String {
    run(sfrefresh().arg("--help")).stdout
}

/// The verbs' own help texts (`sfrefresh VERB --help`).
const VERBS: [&str; 4] = ["exec", "status", "revoke", "login"];

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
        "SF_REVOKE_URL",
        "ETCDCTL_USER",
        "ETCDCTL_PASSWORD",
        "ETCDCTL_CACERT",
        "ETCDCTL_CERT",
        "ETCDCTL_KEY",
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

const COMPLETIONS: [&str; 3] = [
    "completions/sfrefresh.bash",
    "completions/_sfrefresh",
    "completions/sfrefresh.fish",
];

/// The `--long` options a completion file offers: `--name` words in bash and zsh,
/// `-l name` in fish; comment lines do not count.
fn completed_options(file: &str) -> Vec<String> {
    let text = read(file);
    let code = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let words = code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'));
    let mut found: Vec<String> = if file.ends_with(".fish") {
        let words: Vec<&str> = words.filter(|w| !w.is_empty()).collect();
        words
            .windows(2)
            .filter(|w| w[0] == "-l")
            .map(|w| format!("--{}", w[1]))
            .collect()
    } else {
        words
            .filter(|w| w.starts_with("--") && w.len() > 2)
            .map(String::from)
            .collect()
    };
    found.sort();
    found.dedup();
    found
}

#[test]
fn completions_offer_exactly_the_options_of_help() {
    let opts = options();
    for file in COMPLETIONS {
        let offered = completed_options(file);
        for opt in &opts {
            assert!(
                offered.contains(opt),
                "{opt} is in --help but not in {file}: regenerate it (docs/flags.md)"
            );
        }
        for opt in &offered {
            assert!(
                opts.contains(opt),
                "{file} offers {opt}, which --help does not list"
            );
        }
    }
}

/// Runs `shell args…` in the source tree; None (and a loud note) when the shell is
/// not installed here (CI installs bash, zsh and fish).
fn shell(shell: &str, args: &[&str]) -> Option<std::process::Output> {
    match std::process::Command::new(shell)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
    {
        Ok(out) => Some(out),
        Err(e) => {
            eprintln!("SKIPPED: {shell} is not installed ({e}): its completion file is unchecked");
            None
        }
    }
}

#[test]
fn completion_files_are_valid_and_complete_options_and_values() {
    for (sh, file) in [
        ("bash", COMPLETIONS[0]),
        ("zsh", COMPLETIONS[1]),
        ("fish", COMPLETIONS[2]),
    ] {
        if let Some(out) = shell(sh, &["-n", file]) {
            assert!(
                out.status.success(),
                "{sh} -n {file}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    let bash = |words: &str| {
        let script = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             _sfrefresh; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            COMPLETIONS[0]
        );
        shell("bash", &["-c", &script]).map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    if let Some(got) = bash("sfrefresh --client-a") {
        assert_eq!(got, "--client-auth\n");
    }
    if let Some(got) = bash("sfrefresh --print ''") {
        assert_eq!(got, "token\njson\nheader\nenv\ncurl\n");
    }
    if let Some(got) = bash("sfrefresh --if-older-than ''") {
        assert_eq!(got, "\n", "a value only the user knows: nothing offered");
    }
    let fish = |line: &str| {
        let script = format!("source {}; complete -C '{line}'", COMPLETIONS[2]);
        shell("fish", &["--no-config", "-c", &script])
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    if let Some(got) = fish("sfrefresh --client-a") {
        assert!(got.starts_with("--client-auth\t"), "{got}");
    }
    if let Some(got) = fish("sfrefresh --print ") {
        assert!(got.contains("token") && got.contains("json"), "{got}");
    }
}

/// The Debian packages of `packaging/tools.sh` (its `*_DEBS=( … )` arrays, a package a
/// word, `#` comments aside).
fn tools_debs() -> Vec<String> {
    let script = read("packaging/tools.sh");
    let mut debs = Vec::new();
    let mut inside = false;
    for line in script.lines() {
        let code = line.split('#').next().unwrap_or("").trim();
        if !inside {
            inside = code.ends_with("_DEBS=(");
            continue;
        }
        if code == ")" {
            inside = false;
            continue;
        }
        debs.extend(code.split_whitespace().map(String::from));
    }
    debs
}

#[test]
fn readme_names_every_package_ci_installs() {
    let debs = tools_debs();
    // The script's arrays hold what a fresh machine needs; an empty parse means the
    // script changed shape and this test no longer checks anything.
    for must in [
        "libc6-dev-arm64-cross",
        "gcc-aarch64-linux-gnu",
        "squid",
        "musl-tools",
    ] {
        assert!(
            debs.iter().any(|d| d == must),
            "{must} not in tools.sh: {debs:?}"
        );
    }
    let development = read("docs/development.md");
    let start = development
        .find("## What CI installs")
        .expect("docs/development.md: What CI installs");
    let section = &development[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    for deb in &debs {
        assert!(
            section.contains(&format!("`{deb}`")),
            "docs/development.md's What CI installs does not name {deb}"
        );
    }
}

/// bash, as a user's TAB would run it: `words` typed, the last one being completed.
fn bash_completes(words: &str) -> Option<String> {
    let script = format!(
        "source {}; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
         _sfrefresh; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        COMPLETIONS[0]
    );
    shell("bash", &["-c", &script]).map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
}

#[test]
fn completions_offer_each_verb_only_its_own_flags() {
    // (typed, offered): a flag is offered after a verb only when that verb takes it,
    // and `help` offers the verbs, not files. "\n" is nothing offered.
    for (typed, offered) in [
        ("sfrefresh status --wa", "\n"),
        ("sfrefresh login --ver", "--verbose\n--version\n"),
        ("sfrefresh exec --files", "\n"),
        ("sfrefresh exec --pri", "\n"),
        ("sfrefresh exec --gr", "--grant\n"),
        (
            "sfrefresh help ''",
            "refresh\nexec\nstatus\nrevoke\nlogin\n",
        ),
        ("sfrefresh help st", "status\n"),
        ("sfrefresh help status ''", "\n"),
        ("sfrefresh --wa", "--watch\n"),
        ("sfrefresh status --ch", "--check\n"),
        ("sfrefresh revoke --ke", "--keep-file\n"),
        ("sfrefresh login --dev", "--device\n--device-url\n"),
        ("sfrefresh --dev", "\n"),
        // A verb counts only first: here `status` is a token file.
        ("sfrefresh t.json status --wa", "--watch\n"),
    ] {
        if let Some(got) = bash_completes(typed) {
            assert_eq!(got, offered, "bash: {typed}");
        }
    }
    let fish = |line: &str| {
        let script = format!("source {}; complete -C '{line}'", COMPLETIONS[2]);
        shell("fish", &["--no-config", "-c", &script])
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    if let Some(got) = fish("sfrefresh status --wa") {
        assert_eq!(got, "", "fish: status --wa");
    }
    if let Some(got) = fish("sfrefresh login --verb") {
        assert!(
            got.starts_with("--verbose\t") && !got.contains("--verify"),
            "{got}"
        );
    }
    if let Some(got) = fish("sfrefresh help ") {
        let verbs: Vec<&str> = got.lines().collect();
        assert_eq!(
            verbs,
            ["exec", "login", "refresh", "revoke", "status"],
            "fish: help"
        );
    }
    // The zsh file says where `make install` puts it.
    let zsh = read(COMPLETIONS[1]);
    assert!(
        zsh.contains("$PREFIX/share/zsh/site-functions/_sfrefresh"),
        "{zsh}"
    );
}

/// The `--long` flags of a help text's OPTIONS section, each with whether it takes a
/// value (`--flag VALUE` in the listing).
fn listed_flags(help: &str) -> Vec<(String, bool)> {
    help.lines()
        .skip_while(|l| *l != "OPTIONS:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        // A flag's own line, not the wrapped text under it.
        .filter(|l| l.len() - l.trim_start().len() <= 8)
        .filter_map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            let at = words.iter().position(|w| w.starts_with("--"))?;
            let takes = words.get(at + 1).is_some_and(|w| {
                w.chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_lowercase())
                    && (w.contains('|') || w.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
            });
            Some((words[at].to_string(), takes))
        })
        .collect()
}

#[test]
fn each_verb_lists_exactly_the_flags_it_takes() {
    // What a verb takes, asked of the binary: a flag it does not take is refused with
    // "is only for". Its help's OPTIONS must list exactly the others.
    let mut all: Vec<(String, bool)> = Vec::new();
    let helps: Vec<(&str, Vec<(String, bool)>)> = ["refresh", "exec", "status", "revoke", "login"]
        .into_iter()
        .map(|v| (v, listed_flags(&run(sfrefresh().args(["help", v])).stdout)))
        .collect();
    for (_, flags) in &helps {
        for f in flags {
            if !all.contains(f) {
                all.push(f.clone());
            }
        }
    }
    assert!(all.len() > 35, "{all:?}");
    let dir = TempDir::new();
    for (verb, listed) in &helps {
        for (flag, takes) in &all {
            let mut cmd = sfrefresh();
            cmd.current_dir(&dir.0).args([verb, flag.as_str()]);
            if *takes {
                cmd.arg("1");
            }
            cmd.arg("t.json");
            if *verb == "exec" {
                cmd.args(["--", "true"]);
            }
            let out = run(&mut cmd);
            let refused = out.stderr.contains(" is only for ");
            let in_help = listed.iter().any(|(f, _)| f == flag);
            assert_eq!(
                refused, !in_help,
                "{verb} {flag}: refused {refused}, in 'help {verb}' {in_help}: {}",
                out.stderr
            );
        }
    }
    // Issue 20, item 9: exec takes the grant options and refuses the fleet's and --print.
    let exec: Vec<String> = helps[1].1.iter().map(|(f, _)| f.clone()).collect();
    for f in [
        "--grant",
        "--jwt-key",
        "--username",
        "--audience",
        "--if-older-than",
    ] {
        assert!(exec.contains(&f.to_string()), "help exec lacks {f}");
    }
    for f in [
        "--print",
        "--files-from",
        "--jobs",
        "--watch",
        "--metrics-file",
        "--log-format",
    ] {
        assert!(!exec.contains(&f.to_string()), "help exec lists {f}");
    }
}

#[test]
fn the_texts_say_what_the_code_does() {
    let help = help();
    let man = read("sfrefresh.1").replace("\\-", "-");
    let readme = read("README.md");
    // Item 11: the endpoint order, the token file's sfrefresh_token_url included.
    let endpoint = help
        .split("\nENDPOINT")
        .nth(1)
        .and_then(|s| s.split("\n\n").next())
        .expect("an ENDPOINT section in --help");
    let mut at = 0;
    for step in [
        "--token-url",
        "SF_TOKEN_URL",
        "--sandbox",
        "--login-url",
        "SF_LOGIN_URL",
        "\"sfrefresh_token_url\"",
        "\"id\"",
        "login.salesforce.com",
    ] {
        let found = endpoint[at..].find(step).map(|i| i + at);
        assert!(
            found.is_some(),
            "{step} missing or out of order in: {endpoint}"
        );
        at = found.unwrap_or(at);
    }
    // Item 14: --timeout's maximum.
    let flat = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    for (name, text) in [
        ("--help", &help),
        ("sfrefresh.1", &man),
        ("README.md", &readme),
    ] {
        assert!(
            flat(text).contains("at most 86400"),
            "{name}: --timeout maximum"
        );
    }
    // Item 8: the proxy is http only; the client id has a third source; the save's
    // room is checked, not reserved.
    assert!(!man.contains("or https://...)"), "sfrefresh.1: --proxy");
    assert!(man.contains("An https:// proxy URL is refused (exit 2)"));
    assert!(
        !man.contains("consumer key (required"),
        "sfrefresh.1: --client-id"
    );
    assert!(man.contains("else the token file's\n.B client_id"));
    assert!(!man.contains("the space a save needs is\nreserved"));
    assert!(man.contains("(ulimit -f)") || man.contains(".RB ( \"ulimit -f\" )"));
    // Item 12: status exits 0 for a file that login made with a grant that mints.
    let status = verb_help("status");
    let zero = status
        .split("\n    0  ")
        .nth(1)
        .and_then(|s| s.split("\n    2  ").next())
        .unwrap_or_default();
    assert!(
        zero.contains("grant that mints"),
        "help status, exit 0: {zero}"
    );
    // The status table in full is in the manual (docs/reference.md).
    let manual = read("docs/reference.md");
    assert!(manual.contains("| 0 | every file readable and able to be refreshed"));
    assert!(man.contains("recorded a grant that mints a new token"));
    // Item 9: exec's refused options are named where exec is described.
    for text in [&man, &readme, &manual] {
        assert!(text.contains("--files-from"), "exec");
        assert!(!text.contains("The refresh options apply, except\n.BR --print .\n"));
        assert!(!text.contains("apply, except `--print`."));
    }
}

#[test]
fn the_ops_recipes_match_the_release() {
    // Item 14: the image tag is this version; the token directory stays private.
    let version = env!("CARGO_PKG_VERSION");
    let cronjob = read("examples/ops/cronjob.yaml");
    assert!(
        cronjob.contains(&format!(
            "image: registry.example.com/sfrefresh:{version}\n"
        )),
        "examples/ops/cronjob.yaml: image tag is not {version}"
    );
    let service = read("examples/ops/sfrefresh.service");
    assert!(!service.contains("join the sfrefresh group"));
    assert!(service.contains("StateDirectoryMode=0700\n") && service.contains("UMask=0077\n"));
}
