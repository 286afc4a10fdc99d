//! Unit tests of option resolution: defaults, env fallbacks, precedence, and each usage error.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use super::*;
use crate::cli::{Command, parse};
use crate::error::Kind;

fn parse_env(args: &[&str], env: &[(&str, &str)]) -> Result<Command, Error> {
    let env: Vec<(String, OsString)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), OsString::from(v)))
        .collect();
    parse(args.iter().copied(), &move |name| {
        env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    })
}

fn args(args: &[&str], env: &[(&str, &str)]) -> RefreshArgs {
    match parse_env(args, env) {
        Ok(Command::Refresh(a)) | Ok(Command::Batch(a, _)) => *a,
        Ok(_) => panic!("expected a refresh"),
        Err(e) => panic!("expected a refresh, got {e}"),
    }
}

/// The batch a refresh command line runs in, if any.
fn fleet(args: &[&str], env: &[(&str, &str)]) -> Option<FleetArgs> {
    match parse_env(args, env) {
        Ok(Command::Batch(_, many)) => Some(many),
        Ok(Command::Refresh(_)) => None,
        Ok(_) => panic!("expected a refresh"),
        Err(e) => panic!("expected a refresh, got {e}"),
    }
}

fn usage_error(args: &[&str], env: &[(&str, &str)]) -> String {
    match parse_env(args, env) {
        Err(e) if e.kind() == Kind::Usage => e.to_string(),
        Err(e) => panic!("expected a usage error, got {e}"),
        Ok(_) => panic!("expected a usage error"),
    }
}

#[test]
fn defaults() {
    let a = args(&["--client-id", "abc", "tok.json"], &[]);
    assert_eq!(a.target, Location::File("tok.json".into()));
    let c = &a.common;
    assert_eq!(c.client_id.as_ref().unwrap().value, "abc");
    assert_eq!(c.credentials, Credentials::IdOnly);
    assert_eq!(c.endpoints, EndpointOpts::default());
    assert!(matches!(c.proxy, ProxySetting::Env(ref e) if *e == ProxyEnv::default()));
    assert_eq!(c.timeout, Duration::from_secs(30));
    assert_eq!(c.retries, 2);
    assert_eq!(a.if_older_than, None);
    assert_eq!(a.print, None);
    assert!(!a.verify_signature);
}

#[test]
fn equals_form_and_all_flags() {
    let dir = std::env::temp_dir().join(format!("sfrefresh-resolve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let secret = dir.join("s");
    std::fs::write(&secret, " s3cret\n").unwrap();
    let a = args(
        &[
            "--client-id=id",
            &format!("--client-secret-file={}", secret.display()),
            "--client-auth=basic",
            "--token-url=http://127.0.0.1:1/t",
            "--timeout=2.5",
            "--retries=0",
            "--if-older-than=1h30m",
            "--print=json",
            "-v",
            "-",
        ],
        &[],
    );
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(a.target, Location::Stdio);
    assert_eq!(
        a.common.credentials,
        Credentials::Basic(Secret::new("s3cret"))
    );
    assert_eq!(
        a.common.endpoints.token_url.unwrap().value,
        "http://127.0.0.1:1/t"
    );
    assert_eq!(a.common.timeout, Duration::from_millis(2500));
    assert_eq!(a.common.retries, 0);
    assert_eq!(a.if_older_than, Some(Duration::from_secs(5400)));
    assert_eq!(a.print, Some(Print::Json));
}

#[test]
fn env_fills_in_and_flags_win() {
    let env = [
        ("SF_TOKEN_FILE", "env.json"),
        ("SF_CLIENT_ID", "envid"),
        ("SF_CLIENT_SECRET", "  s3cret\n"),
        ("SF_TOKEN_URL", "https://env.example/t"),
    ];
    let a = args(&[], &env);
    assert_eq!(a.target, Location::File("env.json".into()));
    assert_eq!(
        a.common.client_id.unwrap(),
        Sourced {
            value: "envid".into(),
            source: "SF_CLIENT_ID"
        }
    );
    assert_eq!(
        a.common.credentials,
        Credentials::Post(Secret::new("s3cret"))
    );
    assert_eq!(a.common.endpoints.token_url.unwrap().source, "SF_TOKEN_URL");

    let a = args(
        &[
            "--client-id",
            "flagid",
            "--token-url",
            "https://flag.example/t",
            "flag.json",
        ],
        &env,
    );
    assert_eq!(a.target, Location::File("flag.json".into()));
    assert_eq!(a.common.client_id.unwrap().value, "flagid");
    let url = a.common.endpoints.token_url.unwrap();
    assert_eq!(
        (url.value.as_str(), url.source),
        ("https://flag.example/t", "--token-url")
    );
}

#[test]
fn empty_env_counts_as_unset() {
    let a = args(
        &["--client-id", "x", "t.json"],
        &[("SF_CLIENT_SECRET", ""), ("SF_TOKEN_URL", "")],
    );
    assert_eq!(a.common.credentials, Credentials::IdOnly);
    assert_eq!(a.common.endpoints.token_url, None);
}

#[test]
fn no_client_id_is_left_for_the_token_file() {
    let a = args(&["t.json"], &[]);
    assert_eq!(a.common.client_id, None);
}

#[test]
fn proxy_settings() {
    let env = [
        ("HTTPS_PROXY", "http://upper:1"),
        ("https_proxy", "http://lower:1"),
        ("ALL_PROXY", "http://all:1"),
        ("HTTP_PROXY", "http://plain:1"),
        ("NO_PROXY", "internal"),
    ];
    let a = args(&["--client-id", "x", "t"], &env);
    let ProxySetting::Env(e) = a.common.proxy else {
        panic!()
    };
    assert_eq!(
        e.https,
        Some(Sourced {
            value: "http://lower:1".into(),
            source: "https_proxy"
        })
    );
    assert_eq!(e.http.unwrap().source, "HTTP_PROXY");
    assert_eq!(e.all.unwrap().source, "ALL_PROXY");
    assert_eq!(e.no_proxy.as_deref(), Some("internal"));
    let a = args(&["--client-id", "x", "--proxy", "http://p:3128", "t"], &env);
    assert!(matches!(a.common.proxy, ProxySetting::Flag(ref p) if p.shown() == "http://p:3128"));
    let a = args(&["--client-id", "x", "--no-proxy", "t"], &env);
    assert!(matches!(a.common.proxy, ProxySetting::Off));
    assert!(
        usage_error(
            &["--client-id", "x", "--no-proxy", "--proxy", "http://p", "t"],
            &[]
        )
        .contains("together")
    );
}

#[test]
fn help_and_version_win() {
    assert!(matches!(
        parse_env(&["--help"], &[]),
        Ok(Command::Help(None))
    ));
    assert!(matches!(
        parse_env(&["-h", "--client-id", "x"], &[]),
        Ok(Command::Help(None))
    ));
    assert!(matches!(parse_env(&["-V"], &[]), Ok(Command::Version)));
}

#[test]
fn usage_errors_name_the_flag() {
    assert!(usage_error(&["--client-id", "x"], &[]).contains("TOKEN_FILE"));
    assert!(usage_error(&["--client-id", "x", "--bogus", "a"], &[]).contains("--bogus"));
    for (flag, value) in [
        ("--timeout", "0"),
        ("--timeout", "nan"),
        ("--retries", "-1"),
        ("--print", "all"),
        ("--client-auth", "jwt"),
        ("--if-older-than", "5y"),
    ] {
        assert!(
            usage_error(&["--client-id", "x", flag, value, "a"], &[]).contains(flag),
            "{flag} {value}"
        );
    }
    assert!(usage_error(&["--client-id", "", "a"], &[]).contains("empty"));
    assert!(usage_error(&["--client-id"], &[]).contains("--client-id"));
    assert!(
        usage_error(&["--client-id", "x", "--client-auth", "basic", "a"], &[]).contains("secret")
    );
    assert!(usage_error(&["--client-id", "x", "--print", "token", "-"], &[]).contains("'-'"));
    assert!(usage_error(&["--client-id", "x", "--verify-signature", "t"], &[]).contains("secret"));
    // There is no flag that carries the secret itself, and the message says why.
    let m = usage_error(&["--client-id", "x", "--client-secret", "s", "a"], &[]);
    assert!(m.contains("--client-secret-file"), "{m}");
}

#[test]
fn exec_refreshes_tokens_older_than_30_minutes_unless_told() {
    let exec = |args: &[&str]| match parse_env(args, &[("SF_TOKEN_FILE", "env.json")]) {
        Ok(Command::Exec(a)) => *a,
        Ok(_) => panic!("expected exec"),
        Err(e) => panic!("expected exec, got {e}"),
    };
    let a = exec(&["exec", "--", "cmd", "arg"]);
    assert_eq!(a.refresh.target, Location::File("env.json".into()));
    assert_eq!(a.refresh.if_older_than, Some(Duration::from_secs(1800)));
    assert_eq!(a.command, ["cmd", "arg"].map(OsString::from).to_vec());
    let a = exec(&["exec", "--if-older-than", "0s", "t.json", "--", "cmd"]);
    assert_eq!(a.refresh.if_older_than, Some(Duration::ZERO));
    assert_eq!(a.refresh.print, None);
}

#[test]
fn status_takes_several_files_and_checks_its_urls() {
    let status = |args: &[&str], env: &[(&str, &str)]| match parse_env(args, env) {
        Ok(Command::Status(a)) => *a,
        Ok(_) => panic!("expected status"),
        Err(e) => panic!("expected status, got {e}"),
    };
    let a = status(&["status", "a.json", "b.json", "--json"], &[]);
    assert_eq!(
        a.files,
        ["a.json", "b.json"]
            .map(|f| Location::File(f.into()))
            .to_vec()
    );
    assert!(a.json && !a.check && a.userinfo_url.is_none());
    let a = status(&["status"], &[("SF_TOKEN_FILE", "env.json")]);
    assert_eq!(a.files, vec![Location::File("env.json".into())]);
    let a = status(
        &["status", "--check", "--userinfo-url", "https://idp/me", "t"],
        &[],
    );
    assert_eq!(a.userinfo_url.as_deref(), Some("https://idp/me"));
    assert!(usage_error(&["status"], &[]).contains("TOKEN_FILE"));
}

#[test]
fn revoke_url_from_flag_or_env() {
    let revoke = |args: &[&str], env: &[(&str, &str)]| match parse_env(args, env) {
        Ok(Command::Revoke(a)) => *a,
        Ok(_) => panic!("expected revoke"),
        Err(e) => panic!("expected revoke, got {e}"),
    };
    let a = revoke(&["revoke", "t.json"], &[]);
    assert_eq!((a.revoke_url, a.keep_file), (None, false));
    let env = [("SF_REVOKE_URL", "https://env/revoke")];
    let a = revoke(&["revoke", "--keep-file", "t.json"], &env);
    assert!(a.keep_file);
    assert_eq!(
        a.revoke_url,
        Some(Sourced {
            value: "https://env/revoke".into(),
            source: "SF_REVOKE_URL"
        })
    );
    let a = revoke(&["revoke", "--revoke-url", "https://flag/r", "t"], &env);
    assert_eq!(a.revoke_url.unwrap().source, "--revoke-url");
    assert!(usage_error(&["revoke", "a", "b"], &[]).contains("'b'"));
    assert!(
        usage_error(&["revoke", "t"], &[("SF_REVOKE_URL", "ftp://x/r")]).contains("SF_REVOKE_URL")
    );
}

#[test]
fn each_flag_only_where_it_means_something() {
    use crate::cli::Verb;
    // Every verb-specific flag, and the verbs it belongs to.
    let table: &[(&[&str], &[&str])] = &[
        (
            &["--client-id", "x"],
            &["refresh", "exec", "revoke", "login"],
        ),
        (
            &["--client-auth", "post"],
            &["refresh", "exec", "revoke", "login"],
        ),
        (&["--verify-signature"], &["refresh", "exec"]),
        (&["--if-older-than", "1h"], &["refresh", "exec", "status"]),
        (&["--print", "token"], &["refresh", "login"]),
        (&["--json"], &["status"]),
        (&["--check"], &["status"]),
        (&["--revoke-url", "https://r/revoke"], &["revoke"]),
        (&["--keep-file"], &["revoke"]),
        (&["--jobs", "2"], &["refresh"]),
        (&["--metrics-file", "m.prom"], &["refresh"]),
        (&["--log-format", "text"], &["refresh"]),
    ];
    for (flag, verbs) in table {
        for (word, _) in Verb::ALL {
            let mut args = vec![*word];
            args.extend_from_slice(flag);
            args.extend(["t.json", "--", "cmd"]);
            if *word != "exec" {
                args.truncate(args.len() - 2);
            }
            let env = [("SF_CLIENT_SECRET", "s")];
            match parse_env(&args, &env) {
                Err(e) if e.kind() == Kind::Usage && e.to_string().contains(" is only for ") => {
                    let message = e.to_string();
                    assert!(!verbs.contains(word), "{args:?}: {message}");
                    assert!(message.starts_with(flag[0]), "{message}");
                    assert!(message.ends_with(&format!("not for 'sfrefresh {word}'")));
                }
                other => assert!(
                    verbs.contains(word),
                    "{args:?} should be refused, got {:?}",
                    other.err()
                ),
            }
        }
    }
}

#[test]
fn many_files_go_through_the_fleet() {
    assert_eq!(fleet(&["--client-id", "x", "a"], &[]), None);
    // --jobs alone changes nothing for one file.
    assert_eq!(fleet(&["--client-id", "x", "-j", "8", "a"], &[]), None);
    let f = fleet(&["--client-id", "x", "a", "b"], &[]).unwrap();
    assert_eq!(f.paths, [PathBuf::from("a"), PathBuf::from("b")]);
    assert_eq!(f.jobs, DEFAULT_JOBS);
    assert!(!f.watch && !f.json && f.metrics_file.is_none());
    let f = fleet(
        &[
            "--client-id",
            "x",
            "--files-from",
            "-",
            "--jobs=16",
            "--metrics-file",
            "m.prom",
            "--log-format",
            "json",
        ],
        &[],
    )
    .unwrap();
    assert_eq!(f.files_from, Some(PathBuf::from("-")));
    assert_eq!((f.jobs, f.json), (16, true));
    assert_eq!(f.metrics_file, Some(PathBuf::from("m.prom")));
    // A directory is its *.json files; SF_TOKEN_FILE serves --watch.
    let dir = std::env::temp_dir();
    assert!(fleet(&["--client-id", "x", dir.to_str().unwrap()], &[]).is_some());
    let w = fleet(
        &["--client-id", "x", "--watch", "--if-older-than", "1h"],
        &[("SF_TOKEN_FILE", "t.json")],
    );
    assert_eq!(w.unwrap().paths, [PathBuf::from("t.json")]);
}

#[test]
fn fleet_usage_errors() {
    let x = ["--client-id", "x"];
    let with = |more: &[&str]| usage_error(&[&x[..], more].concat(), &[]);
    assert!(with(&["--jobs", "0", "a", "b"]).contains("--jobs"));
    assert!(with(&["--jobs", "65", "a", "b"]).contains("--jobs"));
    assert!(with(&["--log-format", "xml", "a"]).contains("--log-format"));
    assert!(with(&["a", "-"]).contains("'-'"));
    assert!(with(&["--print", "token", "a", "b"]).contains("--print"));
    assert!(with(&["--watch", "a"]).contains("--if-older-than"));
}
