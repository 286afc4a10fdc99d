//! The verbs that use, show and end a token (issue 9): `exec`, the `--print` forms,
//! `status` and `revoke`, end to end against the fake Salesforce (what works) and the
//! scripted `util::Server` (faults). Each test asserts exit code, stdout, stderr, the
//! file's bytes and what the server received.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::fake_salesforce::{FakeSalesforce, REVOKE_PATH};
use crate::util::*;

const SECRET: &str = "s3cret.consumer+secret";

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// A fake org whose Connected App has a secret (so its answers are signed).
fn org() -> FakeSalesforce {
    FakeSalesforce::builder().client_secret(SECRET).start()
}

/// A token file as the fake issued it (a new family), `age` old.
fn issued(fake: &FakeSalesforce, dir: &TempDir, age: Duration) -> PathBuf {
    let mut doc: Value = serde_json::from_str(&fake.issue_token_json()).unwrap();
    doc["issued_at"] = json!((now_ms() - age.as_millis() as u64).to_string());
    dir.write("tok.json", &format!("{doc:#}\n"))
}

/// `sfrefresh VERB` with the fake's client id, secret and token endpoint.
fn verb(name: &str, fake: &FakeSalesforce) -> Command {
    let mut cmd = sfrefresh();
    cmd.arg(name)
        .args(["--client-id", &fake.client_id()])
        .args(["--token-url", &fake.token_url(), "--timeout", "10"])
        .env("SF_CLIENT_SECRET", SECRET);
    cmd
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn minutes(n: u64) -> Duration {
    Duration::from_secs(60 * n)
}

// ---------------------------------------------------------------------------------
// exec

/// The child records, through its own shell, what it was given: its environment, the
/// argv of its process (`/proc/$$/cmdline`: `$$` is the pid sfrefresh had), its open
/// files, and that pid.
const RECORD: &str = r#"
printf %s "$SF_ACCESS_TOKEN" > at
printf %s "${SF_INSTANCE_URL-unset}" > instance
printf %s "${SF_API_INSTANCE_URL-unset}" > api
printf %s "${SF_CLIENT_SECRET-unset}" > secret
printf %s "${SF_CLIENT_ID-unset}" > client_id
tr '\0' ' ' < /proc/$$/cmdline > argv
ls -l /proc/$$/fd > fds
echo $$ > pid
"#;

#[test]
fn exec_puts_the_token_in_the_environment_and_never_in_argv() {
    let fake = FakeSalesforce::builder()
        .client_secret(SECRET)
        .api_instance_url("https://api.salesforce.com")
        .start();
    let dir = TempDir::new();
    let file = issued(&fake, &dir, minutes(45));
    let mut cmd = verb("exec", &fake);
    cmd.arg(&file)
        .args(["--", "sh", "-c", RECORD])
        .current_dir(&dir.0)
        .env("SF_INSTANCE_URL", "https://stale.example")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    let pid = child.id();
    let out: Out = child.wait_with_output().unwrap().into();
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr),
        (
            0,
            "",
            format!(
                "sfrefresh: refreshed token for {} (refresh token rotated)\n",
                fake.base_url()
            )
        )
    );
    let token = fake.current_access_token().unwrap();
    assert_eq!(read(&dir.path("at")), token);
    assert_eq!(read(&dir.path("instance")), fake.base_url());
    assert_eq!(read(&dir.path("api")), "https://api.salesforce.com");
    // The client secret is sfrefresh's, not COMMAND's; the rest is passed on.
    assert_eq!(read(&dir.path("secret")), "unset");
    assert_eq!(read(&dir.path("client_id")), "unset");
    // Unix exec: COMMAND is the process sfrefresh was, and its argv holds no token.
    assert_eq!(read(&dir.path("pid")).trim(), pid.to_string());
    assert_eq!(read(&dir.path("argv")), format!("sh -c {RECORD} "));
    assert!(!read(&dir.path("argv")).contains(&token));
    // The lock was released before: no descriptor of the token file is left open.
    let fds = read(&dir.path("fds"));
    assert!(!fds.contains("tok.json"), "{fds}");
    // The refreshed token was saved before COMMAND ran.
    let saved: Value = serde_json::from_str(&read(&file)).unwrap();
    assert_eq!(saved["access_token"], json!(token));
    assert_eq!(fake.refresh_tokens_presented().len(), 1);
}

#[test]
fn exec_removes_an_inherited_instance_url_the_file_lacks() {
    let server = Server::scripted(vec![]);
    let dir = TempDir::new();
    let issued_at = (now_ms() - 60_000).to_string();
    let file = dir.write(
        "tok.json",
        &format!(
            r#"{{"access_token":"plain-access","refresh_token":"r","issued_at":"{issued_at}"}}"#
        ),
    );
    let mut cmd = sfrefresh();
    cmd.args(["exec", "-q", "--token-url", &server.url()])
        .arg(&file)
        .args(["--", "sh", "-c", RECORD])
        .current_dir(&dir.0)
        .env("SF_INSTANCE_URL", "https://other-org.example")
        .env("SF_API_INSTANCE_URL", "https://api.other.example")
        .env("SF_CLIENT_ID", "kept-for-the-child");
    let out = run(&mut cmd);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert_eq!(read(&dir.path("at")), "plain-access");
    assert_eq!(read(&dir.path("instance")), "unset");
    assert_eq!(read(&dir.path("api")), "unset");
    assert_eq!(read(&dir.path("client_id")), "kept-for-the-child");
    // Fresh (a minute old, under the 30m default): nothing was sent.
    assert_eq!(server.connections(), 0);
}

#[test]
fn exec_passes_the_exit_status_and_death_by_signal_through() {
    let dir = TempDir::new();
    let file = fresh_file(&dir);
    let status = |script: &str| {
        sfrefresh()
            .args(["exec", "-q"])
            .arg(&file)
            .args(["--", "sh", "-c", script])
            .output()
            .unwrap()
    };
    let out = status("echo out; echo err >&2; exit 42");
    assert_eq!(out.status.code(), Some(42));
    assert_eq!(out.stdout, b"out\n");
    assert_eq!(out.stderr, b"err\n");
    let out = status("kill -TERM $$");
    assert_eq!(out.status.signal(), Some(libc::SIGTERM));
    assert_eq!(out.stderr, b"");
    // COMMAND starts with no signal blocked and SIGPIPE not ignored (Rust ignores it in
    // sfrefresh), so `yes | head` ends quietly as it would from a shell.
    let out = run(sfrefresh().args(["exec", "-q"]).arg(&file).args([
        "--",
        "grep",
        "-E",
        "^Sig(Blk|Ign):",
        "/proc/self/status",
    ]));
    let mask = |name: &str| {
        let line = out.stdout.lines().find(|l| l.starts_with(name)).unwrap();
        u64::from_str_radix(line.rsplit('\t').next().unwrap(), 16).unwrap()
    };
    assert_eq!(mask("SigBlk:"), 0, "{}", out.stdout);
    assert_eq!(
        mask("SigIgn:") & (1 << (libc::SIGPIPE - 1)),
        0,
        "{}",
        out.stdout
    );
    let out = status("yes | head -n 1");
    assert_eq!(
        (out.status.code(), &out.stdout[..], &out.stderr[..]),
        (Some(0), &b"y\n"[..], &b""[..])
    );
}

/// A fresh file (issued now): exec runs COMMAND without asking any server.
fn fresh_file(dir: &TempDir) -> PathBuf {
    dir.write(
        "tok.json",
        &format!(
            r#"{{"access_token":"00Dx!AQ.fresh","refresh_token":"5Aep861.r","instance_url":"https://acme.my.salesforce.com","issued_at":"{}"}}"#,
            now_ms()
        ),
    )
}

#[test]
fn exec_signals_reach_the_command() {
    let dir = TempDir::new();
    let file = fresh_file(&dir);
    let script = "trap 'echo got-term; exit 42' TERM; touch ready; while :; do sleep 0.02; done";
    let child = sfrefresh()
        .args(["exec", "-q"])
        .arg(&file)
        .args(["--", "sh", "-c", script])
        .current_dir(&dir.0)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !dir.path("ready").exists() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "COMMAND never started"
        );
        thread::sleep(Duration::from_millis(10));
    }
    // The pid the test spawned is COMMAND's now: the signal goes to it directly.
    // SAFETY: kill(2) with a pid we own.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(42));
    assert_eq!(out.stdout, b"got-term\n");
}

#[test]
fn exec_runs_nothing_when_the_refresh_fails() {
    let server = Server::scripted(vec![Reply::oauth_error(
        400,
        "invalid_grant",
        "expired access/refresh token",
    )]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let out = run(sfrefresh()
        .args([
            "exec",
            "--client-id",
            CLIENT_ID,
            "--token-url",
            &server.url(),
        ])
        .arg(&file)
        .args(["--", "touch", &dir.path("ran").display().to_string()]));
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr),
        (
            5,
            "",
            format!(
                "sfrefresh: error: {}: {} refused the refresh (HTTP 400): invalid_grant: expired \
                 access/refresh token\nsfrefresh: hint: the refresh token is expired or revoked \
                 (or the user is blocked): authorise again to get a new token file\n",
                file.display(),
                server.url()
            )
        )
    );
    assert!(!dir.path("ran").exists());
    assert_untouched(&dir, &file, TOKEN);
    // Unreachable: exit 4, and still nothing runs.
    let out = run(sfrefresh()
        .args(["exec", "--client-id", CLIENT_ID, "--retries", "0"])
        .args(["--token-url", "http://127.0.0.1:9/services/oauth2/token"])
        .arg(&file)
        .args(["--", "touch", &dir.path("ran").display().to_string()]));
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(!dir.path("ran").exists());
}

#[test]
fn exec_a_command_that_cannot_run_is_127_or_126() {
    let dir = TempDir::new();
    let file = fresh_file(&dir);
    let out = run(sfrefresh().args(["exec", "-q"]).arg(&file).args([
        "--",
        "no-such-command-sfrefresh",
        "--help",
    ]));
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            127,
            "",
            "sfrefresh: error: cannot run 'no-such-command-sfrefresh': not found\n\
             sfrefresh: hint: check the command's name, and PATH; the token file is saved\n"
        )
    );
    let script = dir.write("script.sh", "#!/bin/sh\necho hi\n");
    fs::set_permissions(&script, fs::Permissions::from_mode(0o644)).unwrap();
    let out = run(sfrefresh()
        .args(["exec", "-q"])
        .arg(&file)
        .arg("--")
        .arg(&script));
    assert_eq!(
        (out.code, out.stderr),
        (
            126,
            format!(
                "sfrefresh: error: cannot run '{}': permission denied (not an executable \
                 file?)\n",
                script.display()
            )
        )
    );
}

#[test]
fn exec_grammar_everything_after_the_double_dash_is_the_command() {
    let dir = TempDir::new();
    let file = fresh_file(&dir);
    let f = file.display().to_string();
    // COMMAND's options stay its own: -v, --help and -- reach it untouched.
    let out = run(sfrefresh().args([
        "exec",
        "-q",
        &f,
        "--",
        "sh",
        "-c",
        "printf '%s|' \"$@\"",
        "sh",
        "-v",
        "--help",
        "--",
    ]));
    assert_eq!((out.code, out.stdout.as_str()), (0, "-v|--help|--|"));
    // Options may come after TOKEN_FILE, before `--`.
    let out = run(sfrefresh().args(["exec", &f, "-q", "--", "true"]));
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    for (args, message) in [
        (
            vec!["exec", &f, "true"],
            "put '--' before COMMAND, so that its options stay its own: sfrefresh exec \
             [OPTIONS] TOKEN_FILE -- COMMAND [ARGS...]",
        ),
        (
            vec!["exec", &f],
            "no COMMAND: sfrefresh exec [OPTIONS] TOKEN_FILE -- COMMAND [ARGS...]",
        ),
        (
            vec!["exec", &f, "--"],
            "no COMMAND after '--': sfrefresh exec [OPTIONS] TOKEN_FILE -- COMMAND [ARGS...]",
        ),
        (
            vec!["exec", "--print", "token", &f, "--", "true"],
            "--print is only for 'sfrefresh refresh' and 'sfrefresh login', not for \
             'sfrefresh exec'",
        ),
        (
            vec!["exec", "-", "--", "true"],
            "exec needs a token file, not '-': the refreshed token must be saved before \
             COMMAND runs",
        ),
    ] {
        let out = run(sfrefresh().args(&args));
        assert_eq!(
            (out.code, out.stderr),
            (2, format!("sfrefresh: error: {message}\n")),
            "{args:?}"
        );
    }
}

#[test]
fn exec_refreshes_a_token_older_than_30_minutes_by_default() {
    let fake = org();
    let dir = TempDir::new();
    for (age, flag, refreshed, shown) in [
        (minutes(20), None, false, "30m"),
        (minutes(31), None, true, "30m"),
        (minutes(20), Some("10m"), true, "10m"),
        (minutes(31), Some("1h"), false, "1h"),
    ] {
        let file = issued(&fake, &dir, age);
        let before = fake.refresh_tokens_presented().len();
        let mut cmd = verb("exec", &fake);
        cmd.arg("-v");
        if let Some(limit) = flag {
            cmd.args(["--if-older-than", limit]);
        }
        let out = run(cmd.arg(&file).args(["--", "true"]));
        assert_eq!(out.code, 0, "{}", out.stderr);
        let after = fake.refresh_tokens_presented().len();
        assert_eq!(after - before, usize::from(refreshed), "{age:?} {flag:?}");
        let said = if refreshed {
            format!("not younger than --if-older-than {shown}")
        } else {
            "is fresh (issued".to_string()
        };
        assert!(out.stderr.contains(&said), "{said}: {}", out.stderr);
    }
}

// ---------------------------------------------------------------------------------
// --print header, env and curl, used the way the README's recipes use them

#[test]
fn print_forms_feed_curl_and_sh_without_a_token_in_argv() {
    let fake = org();
    let dir = TempDir::new();
    let file = issued(&fake, &dir, minutes(0));
    let token = fake.current_access_token().unwrap();
    let print = |form: &str| {
        let out = run(verb("refresh", &fake)
            .args(["--print", form, "-q", "--if-older-than", "1h"])
            .arg(&file));
        assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{form}");
        out.stdout
    };
    assert_eq!(print("header"), format!("Authorization: Bearer {token}\n"));
    assert_eq!(
        print("curl"),
        format!("header = \"Authorization: Bearer {token}\"\n")
    );
    assert_eq!(
        print("env"),
        format!(
            "SF_ACCESS_TOKEN='{token}'\nSF_INSTANCE_URL='{}'\n",
            fake.base_url()
        )
    );
    // curl reads the header from stdin (-H @-) or a config (-K -); the fake's REST
    // API answers only its current access token.
    for (form, curl_flag) in [("header", "-H"), ("curl", "-K")] {
        let input = print(form);
        let arg = if curl_flag == "-H" { "@-" } else { "-" };
        let out = run_with_stdin(
            Command::new("curl").args(["-fsS", curl_flag, arg, &fake.limits_url()]),
            &input,
        );
        assert_eq!(out.code, 0, "{form}: {}", out.stderr);
        assert!(out.stdout.contains("DailyApiRequests"), "{}", out.stdout);
    }
    // sh takes the env form with eval, and set -a exports it.
    let script = format!(
        "vars=$({} --print env -q --if-older-than 1h --client-id x {}) || exit; \
         set -a; eval \"$vars\"; set +a; sh -c 'printf %s \"$SF_ACCESS_TOKEN $SF_INSTANCE_URL\"'",
        env!("CARGO_BIN_EXE_sfrefresh"),
        file.display()
    );
    let out = run(Command::new("sh").args(["-c", &script]));
    assert_eq!(
        (out.code, out.stdout),
        (0, format!("{token} {}", fake.base_url()))
    );
}

#[test]
fn print_forms_refuse_a_token_outside_vschar() {
    let dir = TempDir::new();
    let issued_at = now_ms().to_string();
    let file = dir.write(
        "tok.json",
        &format!(
            r#"{{"access_token":"tok\u001b]0;x\u0007en","refresh_token":"r","issued_at":"{issued_at}"}}"#
        ),
    );
    let before = read(&file);
    for form in ["header", "env", "curl"] {
        let out = run(sfrefresh()
            .args(["--client-id", "x", "--if-older-than", "1h", "--print", form])
            .arg(&file));
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr),
            (
                3,
                "",
                format!(
                    "sfrefresh: error: the access token has characters outside RFC 6749's \
                     VSCHAR set (control or non-ASCII characters), so it is not printed (the \
                     token file {} is unchanged)\n",
                    file.display()
                )
            ),
            "{form}"
        );
    }
    // exec hands nothing on either, and runs nothing.
    let out = run(sfrefresh().args(["exec", "-q"]).arg(&file).args([
        "--",
        "touch",
        &dir.path("ran").display().to_string(),
    ]));
    assert_eq!(
        (out.code, out.stderr),
        (
            3,
            format!(
                "sfrefresh: error: token file {}: the access token has characters outside RFC \
                 6749's VSCHAR set (control or non-ASCII characters), so it is not passed on\n",
                file.display()
            )
        )
    );
    assert!(!dir.path("ran").exists());
    assert_untouched(&dir, &file, &before);
}

// ---------------------------------------------------------------------------------
// status

/// Epoch milliseconds as `status` shows them with TZ=UTC: `2023-11-14 22:13:20 +0000`.
fn utc(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} +0000",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// `TOKEN` issued `age` ago, exactly at the returned epoch millisecond.
fn token_aged(dir: &TempDir, name: &str, age: Duration) -> (PathBuf, u64) {
    let at = now_ms() - age.as_millis() as u64;
    let text = TOKEN.replace("1700000000000", &at.to_string());
    (dir.write(name, &text), at)
}

fn status() -> Command {
    let mut cmd = sfrefresh();
    cmd.arg("status").env("TZ", "UTC");
    cmd
}

#[test]
fn status_describes_each_file_without_waiting_for_its_lock_or_sending() {
    let dir = TempDir::new();
    // Ages in whole hours and days: `human` shows two units, so a slow machine's extra
    // second never shows.
    let (old, old_at) = token_aged(&dir, "old.json", Duration::from_secs(3 * 86_400));
    let (new, new_at) = token_aged(&dir, "new.json", Duration::from_secs(5 * 3600));
    let before = read(&old);
    // A refresh in progress holds the lock: status does not wait for it.
    let held = fs::File::open(&old).unwrap();
    held.lock().unwrap();
    let started = Instant::now();
    let out = run(status().args(["--if-older-than", "1d"]).arg(&old).arg(&new));
    assert!(started.elapsed() < Duration::from_secs(2));
    let block = |file: &Path, at: u64, age: &str, now: &str| {
        format!(
            "{}\n  instance URL:  https://acme.my.salesforce.com\n  issued at:     {} ({age} \
             ago)\n  access token:  present\n  refresh token: present\n  refreshes at:  \
             https://login.salesforce.com/services/oauth2/token (from the token file's \
             \"id\")\n  refresh now:   {now}\n",
            file.display(),
            utc(at)
        )
    };
    assert_eq!(
        (out.code, out.stderr.as_str(), out.stdout),
        (
            0,
            "",
            block(
                &old,
                old_at,
                "3d",
                "yes: issued 3d ago, not younger than --if-older-than 1d"
            ) + "\n"
                + &block(
                    &new,
                    new_at,
                    "5h",
                    "no: issued 5h ago, younger than --if-older-than 1d"
                )
        )
    );
    drop(held);
    // The endpoint a refresh would use, and its rung, follow the refresh's precedence.
    let out = run(status().arg("--sandbox").arg(&new));
    assert!(
        out.stdout.contains(
            "  refreshes at:  https://test.salesforce.com/services/oauth2/token (from --sandbox)\n"
        ),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("refresh now"), "{}", out.stdout);
    assert_untouched_all(&dir, &[(&old, &before)]);
}

/// `file` still holds `before`, and no temp or rescue file appeared in `dir`.
fn assert_untouched_all(dir: &TempDir, files: &[(&Path, &str)]) {
    for (file, before) in files {
        assert_eq!(read(file), *before, "{} changed", file.display());
    }
    assert!(
        dir.names().iter().all(|n| !n.contains(".sfrefresh-")),
        "{:?}",
        dir.names()
    );
}

#[test]
fn status_json_is_one_object_per_file_and_never_a_token() {
    let dir = TempDir::new();
    let (good, good_at) = token_aged(&dir, "good.json", minutes(90));
    let missing = dir.path("missing.json");
    let bad = dir.write("bad.json", "not json");
    let kept = dir.write(
        "kept.json",
        &format!(
            r#"{{"instance_url":"https://acme.my.salesforce.com","issued_at":"{}"}}"#,
            now_ms()
        ),
    );
    let out = run(status()
        .args(["--json", "--if-older-than", "2h"])
        .args([&good, &missing, &bad, &kept]));
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        format!(
            "sfrefresh: error: token file {}: does not exist\n\
             sfrefresh: error: token file {}: is not valid JSON (expected ident at line 1 \
             column 2)\n\
             sfrefresh: error: token file {}: has no \"refresh_token\" field, so it cannot be \
             refreshed\n",
            missing.display(),
            bad.display(),
            kept.display()
        )
    );
    let lines: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{}", out.stdout);
    let age = lines[0]["age_seconds"].as_u64().unwrap();
    assert!((5400..5460).contains(&age), "{age}");
    assert_eq!(
        lines[0],
        json!({
            "file": good.display().to_string(), "exit_code": 0, "errors": [],
            "instance_url": "https://acme.my.salesforce.com", "api_instance_url": null,
            "issued_at": good_at, "issued_at_local": utc(good_at), "age_seconds": age,
            "access_token": true, "refresh_token": true,
            "endpoint": "https://login.salesforce.com/services/oauth2/token",
            "endpoint_source": "the token file's \"id\"",
            "if_older_than_seconds": 7200, "would_refresh": false,
            "idle_warning": false, "check": null,
        })
    );
    assert_eq!(lines[1]["exit_code"], 3);
    assert_eq!(
        lines[1]["errors"],
        json!([format!("token file {}: does not exist", missing.display())])
    );
    assert_eq!(
        (&lines[1]["access_token"], &lines[1]["endpoint"]),
        (&Value::Null, &Value::Null)
    );
    assert_eq!(lines[2]["exit_code"], 3);
    assert_eq!(
        (
            &lines[3]["exit_code"],
            &lines[3]["refresh_token"],
            &lines[3]["access_token"],
            &lines[3]["would_refresh"]
        ),
        (&json!(3), &json!(false), &json!(false), &json!(true))
    );
    assert!(
        contains_none(
            &(out.stdout + &out.stderr),
            &[
                "00Dx!AQ.old-access",
                "5Aep861.refresh-r0",
                "old-access",
                "refresh-r0"
            ]
        ),
        "a token was shown"
    );
}

#[test]
fn status_warns_when_the_token_went_unused_for_25_days() {
    let dir = TempDir::new();
    let (idle, _) = token_aged(&dir, "idle.json", Duration::from_secs(26 * 86_400));
    let out = run(status().arg(&idle));
    assert_eq!(
        (out.code, out.stderr),
        (
            0,
            format!(
                "sfrefresh: warning: token file {}: last refreshed 26d ago; Salesforce's usual \
                 policy revokes refresh tokens unused for 30 days: refresh it soon, and at least \
                 weekly from now on\n",
                idle.display()
            )
        )
    );
    let out = run(status().arg("--json").arg(&idle));
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["idle_warning"], json!(true));
    let (recent, _) = token_aged(&dir, "recent.json", Duration::from_secs(24 * 86_400));
    let out = run(status().arg(&recent));
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
}

#[test]
fn status_check_proves_the_access_token_works_or_not_and_writes_nothing() {
    let fake = org();
    let dir = TempDir::new();
    let file = issued(&fake, &dir, minutes(1));
    let before = read(&file);
    let identity = fake.identity_url();
    let token = fake.current_access_token().unwrap();
    let out = run(status().arg("--check").arg(&file));
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert!(
        out.stdout.ends_with(&format!(
            "  check:         the access token works (HTTP 200 from {identity}, user \
             fake.user@example.com)\n"
        )),
        "{}",
        out.stdout
    );
    let asked = fake.requests();
    let last = asked.last().unwrap();
    assert_eq!(
        (last.method.as_str(), last.path.as_str(), last.body.len()),
        ("GET", "/id/00Dfake/005fake", 0)
    );
    assert_eq!(
        last.header("authorization").map(String::from),
        Some(format!("Bearer {token}"))
    );
    // The session ends: Salesforce's identity URL answers 403 Bad_OAuth_Token.
    fake.expire_access_token();
    let out = run(status().arg("--check").arg(&file));
    assert_eq!(
        (out.code, out.stderr),
        (
            5,
            format!(
                "sfrefresh: error: {}: {identity} answered HTTP 403: the access token is invalid \
                 (Bad_OAuth_Token)\nsfrefresh: hint: refresh the token file (sfrefresh \
                 TOKEN_FILE); if that is refused too, authorise again\n",
                file.display()
            )
        )
    );
    assert!(
        out.stdout.ends_with(&format!(
            "  check:         the access token is invalid (HTTP 403 from {identity})\n"
        )),
        "{}",
        out.stdout
    );
    let out = run(status().args(["--check", "--json"]).arg(&file));
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        v["check"],
        json!({"url": identity, "result": "invalid", "http_status": 403, "user": null})
    );
    assert_eq!(v["exit_code"], 5);
    // No refresh, no write: the check used the stored token only.
    assert_eq!(read(&file), before);
    assert_eq!(fake.refresh_tokens_presented().len(), 0);
    assert!(!out.stdout.contains(&token) && !out.stderr.contains(&token));
    // Refreshed, it works again; over several files the worst one sets the exit code.
    let out = run(verb("refresh", &fake).arg("-q").arg(&file));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let stale = dir.write("stale.json", &before);
    assert_eq!(run(status().arg("--check").arg(&file)).code, 0);
    assert_eq!(run(status().arg("--check").arg(&file).arg(&stale)).code, 5);
}

#[test]
fn status_check_exit_4_when_it_cannot_tell() {
    let dir = TempDir::new();
    let server = Server::with_handler(|r| match r.path.as_str() {
        "/down" => Reply::text(503, "<html>maintenance</html>"),
        "/userinfo" => Reply::json(200, r#"{"sub":"alice"}"#),
        _ => Reply::text(404, "<html>no such page</html>"),
    });
    let base = format!("http://127.0.0.1:{}", server.addr.port());
    let with_id = |id: &str| {
        let text = TOKEN
            .replace("https://login.salesforce.com/id/00Dx/005x", id)
            .replace("1700000000000", &now_ms().to_string());
        dir.write("tok.json", &text)
    };
    let file = with_id(&format!("{base}/down"));
    let out = run(status().args(["--check", "--retries", "1"]).arg(&file));
    assert_eq!(
        (out.code, without_waits(&out.stderr)),
        (
            4,
            format!(
                "sfrefresh: {0}: {base}/down answered HTTP 503: <html>maintenance</html>; trying \
                 again in WAIT (attempt 2 of 2)\n\
                 sfrefresh: error: {0}: {base}/down answered HTTP 503 (after 2 attempts): \
                 <html>maintenance</html>\n",
                file.display()
            )
        )
    );
    assert!(
        out.stdout
            .ends_with(&format!("  check:         cannot tell ({base}/down)\n")),
        "{}",
        out.stdout
    );
    let file = with_id(&format!("{base}/id/00D/005"));
    let out = run(status().arg("--check").arg(&file));
    assert_eq!(
        (out.code, out.stderr),
        (
            4,
            format!(
                "sfrefresh: error: {}: {base}/id/00D/005 answered HTTP 404: neither 200 (the token \
                 works) nor 401/403 (it does not), so the check cannot tell\nsfrefresh: hint: \
                 check the identity URL: the token file's \"id\" (Salesforce), or \
                 --userinfo-url (the OpenID Connect userinfo endpoint of other servers)\n",
                file.display()
            )
        )
    );
    // Other servers: their userinfo endpoint instead of the file's id.
    let out = run(status()
        .args(["--check", "--userinfo-url", &format!("{base}/userinfo")])
        .arg(&file));
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert!(out.stdout.contains(", user alice)\n"), "{}", out.stdout);
    let requests = server.requests();
    let last = requests.last().unwrap();
    assert_eq!(
        (last.method.as_str(), last.header("authorization")),
        ("GET", Some("Bearer 00Dx!AQ.old-access"))
    );
    // A redirect is not followed (the token would go elsewhere): cannot tell.
    let moved = Server::scripted(vec![
        Reply::text(302, "").header("Location", "https://elsewhere.example/id"),
    ]);
    let file_moved = with_id(&format!("http://127.0.0.1:{}/id", moved.addr.port()));
    let out = run(status().arg("--check").arg(&file_moved));
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(
        out.stderr.starts_with(&format!(
            "sfrefresh: error: {}: http://127.0.0.1:{}/id answered HTTP 302, a redirect to \
             https://elsewhere.example/id\n",
            file_moved.display(),
            moved.addr.port()
        )),
        "{}",
        out.stderr
    );
    // Nobody listening.
    let file = with_id("http://127.0.0.1:9/id/00D/005");
    let out = run(status().args(["--check", "--retries", "0"]).arg(&file));
    assert_eq!(
        (out.code, out.stderr),
        (
            4,
            format!(
                "sfrefresh: error: {}: cannot reach http://127.0.0.1:9/id/00D/005: connection \
                 refused\n",
                file.display()
            )
        )
    );
}

#[test]
fn status_check_needs_an_identity_url_and_an_access_token() {
    let dir = TempDir::new();
    let no_id = dir.write("no-id.json", r#"{"access_token":"a","refresh_token":"r"}"#);
    let out = run(status().arg("--check").arg(&no_id));
    assert_eq!(
        (out.code, out.stderr),
        (
            2,
            format!(
                "sfrefresh: error: cannot check {}: it has no \"id\" (Salesforce's identity \
                 URL); for other servers give their OpenID Connect userinfo endpoint with \
                 --userinfo-url\n",
                no_id.display()
            )
        )
    );
    let plain = dir.write(
        "plain.json",
        r#"{"access_token":"a","refresh_token":"r","id":"http://evil.example/id/1"}"#,
    );
    let out = run(status().arg("--check").arg(&plain));
    assert_eq!(
        (out.code, out.stderr),
        (
            3,
            format!(
                "sfrefresh: error: token file {}: cannot be checked: its \"id\" \
                 'http://evil.example/id/1' is plain http: tokens are only sent over https \
                 (http is allowed for loopback hosts only)\n",
                plain.display()
            )
        )
    );
    let no_access = dir.write(
        "no-access.json",
        r#"{"refresh_token":"r","id":"https://login.salesforce.com/id/00D/005"}"#,
    );
    let out = run(status().arg("--check").arg(&no_access));
    assert_eq!(
        (out.code, out.stderr),
        (
            3,
            format!(
                "sfrefresh: error: token file {}: cannot be checked: the token file has no \
                 \"access_token\" field\n",
                no_access.display()
            )
        )
    );
    for (args, message) in [
        (
            vec![
                "status",
                "--userinfo-url",
                "https://idp.example/me",
                "t.json",
            ],
            "--userinfo-url is only used with --check",
        ),
        (
            vec!["status", "--client-id", "x", "t.json"],
            "--client-id is only for 'sfrefresh refresh', 'sfrefresh exec', 'sfrefresh \
             revoke' and 'sfrefresh login', not for 'sfrefresh status'",
        ),
        (
            vec![
                "status",
                "--check",
                "--userinfo-url",
                "http://idp.example/me",
                "t.json",
            ],
            "the userinfo URL from --userinfo-url 'http://idp.example/me' is plain http: \
             tokens are only sent over https (http is allowed for loopback hosts only)",
        ),
        (
            vec!["status", "-"],
            "status reads token files by name; '-' (stdin) is not supported",
        ),
    ] {
        let out = run(sfrefresh().args(&args));
        assert_eq!(
            (out.code, out.stderr),
            (2, format!("sfrefresh: error: {message}\n")),
            "{args:?}"
        );
    }
}

// ---------------------------------------------------------------------------------
// revoke

#[test]
fn revoke_revokes_the_refresh_token_then_removes_the_file() {
    let fake = org();
    let dir = TempDir::new();
    let file = issued(&fake, &dir, minutes(1));
    let refresh_token = fake.current_refresh_token().unwrap();
    let access_token = fake.current_access_token().unwrap();
    let out = run(verb("revoke", &fake).arg(&file));
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr),
        (
            0,
            "",
            format!(
                "sfrefresh: revoked the refresh token for {}; removed {}\n",
                fake.base_url(),
                file.display()
            )
        )
    );
    assert_eq!(dir.names(), Vec::<String>::new());
    assert!(fake.family_revoked());
    let requests = fake.requests();
    let r = requests.last().unwrap();
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", REVOKE_PATH));
    assert_eq!(
        r.form,
        [
            ("token", refresh_token.as_str()),
            ("token_type_hint", "refresh_token"),
            ("client_id", "3MVG9.fake-client-id"),
            ("client_secret", SECRET),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );
    // On Salesforce the access tokens die with the refresh token.
    let probe = dir.write(
        "probe.json",
        &json!({"access_token": access_token, "refresh_token": "x", "id": fake.identity_url()})
            .to_string(),
    );
    assert_eq!(run(status().arg("--check").arg(&probe)).code, 5);
}

/// Issue 20: through a symlink, revoke removes the file the link points to and leaves
/// the link (README); the message names what was removed, and the link left behind.
#[test]
fn revoke_through_a_symlink_names_the_file_it_removed() {
    for (link, target) in [
        ("rvlink.json", "tok.json"),
        ("sub/rvlink.json", "../tok.json"),
    ] {
        let fake = org();
        let dir = TempDir::new();
        let file = issued(&fake, &dir, minutes(1));
        let real = fs::canonicalize(&file).unwrap();
        fs::create_dir(dir.path("sub")).unwrap();
        let link = dir.path(link);
        std::os::unix::fs::symlink(target, &link).unwrap();
        let out = run(verb("revoke", &fake).arg(&link));
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr),
            (
                0,
                "",
                format!(
                    "sfrefresh: revoked the refresh token for {}; removed {}, which the \
                     symlink {} pointed to; the link is left, dangling\n",
                    fake.base_url(),
                    real.display(),
                    link.display()
                )
            )
        );
        assert!(fake.family_revoked());
        assert!(!file.exists(), "the target is removed");
        assert_eq!(fs::read_link(&link).unwrap(), Path::new(target));
    }
}

#[test]
fn revoke_keep_file_saves_it_without_its_tokens() {
    let fake = org();
    let dir = TempDir::new();
    let file = issued(&fake, &dir, minutes(1));
    fs::set_permissions(&file, fs::Permissions::from_mode(0o640)).unwrap();
    let mut expected: Value = serde_json::from_str(&read(&file)).unwrap();
    let object = expected.as_object_mut().unwrap();
    object.shift_remove("access_token");
    object.shift_remove("refresh_token");
    let out = run(verb("revoke", &fake).arg("--keep-file").arg(&file));
    assert_eq!(
        (out.code, out.stderr),
        (
            0,
            format!(
                "sfrefresh: revoked the refresh token for {}; {} is kept without access_token \
                 and refresh_token\n",
                fake.base_url(),
                file.display()
            )
        )
    );
    assert_eq!(read(&file), format!("{expected:#}\n"));
    assert_eq!(
        fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o640
    );
    assert_eq!(dir.names(), ["tok.json"]);
    assert!(fake.family_revoked());
    // What is left cannot be refreshed or revoked again, and says so.
    let out = run(verb("revoke", &fake).arg(&file));
    assert_eq!(
        (out.code, out.stderr),
        (
            3,
            format!(
                "sfrefresh: error: token file {}: has no \"refresh_token\" field, so there is \
                 nothing to revoke\n",
                file.display()
            )
        )
    );
}

#[test]
fn revoke_of_a_token_already_invalid_succeeds_and_says_so() {
    let fake = org();
    let dir = TempDir::new();
    let file = issued(&fake, &dir, minutes(1));
    fake.revoke_family();
    let out = run(verb("revoke", &fake).args(["-q"]).arg(&file));
    assert_eq!(
        (out.code, out.stderr),
        (
            0,
            format!(
                "sfrefresh: warning: {} says the refresh token was already invalid (HTTP 400: \
                 invalid_token): there was nothing left to revoke\n",
                fake.revoke_url()
            )
        )
    );
    assert_eq!(dir.names(), Vec::<String>::new());
}

/// `sfrefresh revoke` against a scripted server's revocation URL.
fn revoke_at(server: &Server, file: &Path, extra: &[&str]) -> Command {
    let mut cmd = sfrefresh();
    cmd.args(["revoke", "--client-id", CLIENT_ID, "--timeout", "10"])
        .args(["--token-url", &server.url()])
        .args(extra)
        .arg(file);
    cmd
}

#[test]
fn revoke_failures_leave_the_file_byte_identical() {
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let cases = [
        (
            Reply::oauth_error(401, "invalid_client", "invalid client credentials"),
            5,
            "answered HTTP 401: the revocation was refused: invalid_client: invalid client \
             credentials; {file} was not changed\nsfrefresh: hint: revoking takes the same client \
             authentication as refreshing: check --client-id, --client-secret-file (or \
             SF_CLIENT_SECRET) and --client-auth",
        ),
        (
            Reply::text(404, "<html>URL No Longer Exists</html>"),
            4,
            "answered HTTP 404: this is not a revocation endpoint; {file} was not changed\n\
             sfrefresh: hint: give the server's RFC 7009 revocation endpoint with --revoke-url \
             (or SF_REVOKE_URL)",
        ),
        (
            Reply::json(400, r#"{"error":"unsupported_token_type"}"#),
            5,
            "answered HTTP 400: the revocation was refused: unsupported_token_type; {file} was \
             not changed\nsfrefresh: hint: revoking takes the same client authentication as \
             refreshing: check --client-id, --client-secret-file (or SF_CLIENT_SECRET) and \
             --client-auth",
        ),
    ];
    for (reply, code, message) in cases {
        let server = Server::scripted(vec![reply]);
        let out = run(&mut revoke_at(&server, &file, &[]));
        let url = server.url().replace("/token", "/revoke");
        let message = message.replace("{file}", &file.display().to_string());
        assert_eq!(
            (out.code, out.stderr),
            (
                code,
                format!("sfrefresh: error: {}: {url} {message}\n", file.display())
            )
        );
        assert_untouched(&dir, &file, TOKEN);
    }
    // Transient answers are retried (revoking twice is harmless), then exit 4.
    let server = Server::scripted(vec![Reply::text(503, "down"); 2]);
    let out = run(&mut revoke_at(&server, &file, &["--retries", "1"]));
    let url = server.url().replace("/token", "/revoke");
    assert_eq!(
        (out.code, without_waits(&out.stderr)),
        (
            4,
            format!(
                "sfrefresh: {0}: {url} answered HTTP 503: down; trying again in WAIT (attempt 2 \
                 of 2)\nsfrefresh: error: {0}: {url} answered HTTP 503 (after 2 attempts): down\n",
                file.display()
            )
        )
    );
    assert_eq!(server.requests().len(), 2);
    assert_untouched(&dir, &file, TOKEN);
    let out = run(sfrefresh()
        .args(["revoke", "--client-id", CLIENT_ID, "--retries", "0"])
        .args(["--token-url", "http://127.0.0.1:9/services/oauth2/token"])
        .arg(&file));
    assert_eq!(
        (out.code, out.stderr),
        (
            4,
            format!(
                "sfrefresh: error: {}: cannot reach http://127.0.0.1:9/services/oauth2/revoke: \
                 connection refused\n",
                file.display()
            )
        )
    );
    assert_untouched(&dir, &file, TOKEN);
}

#[test]
fn revoke_retries_a_transient_failure_then_succeeds() {
    let server = Server::scripted(vec![Reply::text(503, "down"), Reply::json(200, "")]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let out = run(&mut revoke_at(&server, &file, &["-q"]));
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| r.body == requests[0].body));
    assert_eq!(dir.names(), Vec::<String>::new());
}

#[test]
fn revoke_finds_its_endpoint_beside_the_token_endpoint_or_is_told() {
    let server = Server::with_handler(|_| Reply::json(200, ""));
    let base = format!("http://127.0.0.1:{}", server.addr.port());
    let dir = TempDir::new();
    let attempt = |token_url: &str, extra: &[&str], env: Option<&str>| {
        let file = dir.write("tok.json", TOKEN);
        let mut cmd = sfrefresh();
        cmd.args([
            "revoke",
            "-q",
            "--client-id",
            CLIENT_ID,
            "--token-url",
            token_url,
        ])
        .args(extra)
        .arg(&file);
        if let Some(url) = env {
            cmd.env("SF_REVOKE_URL", url);
        }
        let out = run(&mut cmd);
        (
            out.code,
            out.stderr,
            server.requests().last().map(|r| r.path.clone()),
        )
    };
    let ok = |path: &str| (0, String::new(), Some(path.to_string()));
    assert_eq!(
        attempt(&format!("{base}/services/oauth2/token"), &[], None),
        ok("/services/oauth2/revoke")
    );
    assert_eq!(
        attempt(&format!("{base}/oauth/v2/token"), &[], None),
        ok("/oauth/v2/revoke")
    );
    assert_eq!(
        attempt(
            &format!("{base}/o/token/"),
            &["--revoke-url", &format!("{base}/o/revoke_token/")],
            None
        ),
        ok("/o/revoke_token/")
    );
    assert_eq!(
        attempt(&format!("{base}/t"), &[], Some(&format!("{base}/from-env"))),
        ok("/from-env")
    );
    let before = server.requests().len();
    let (code, stderr, _) = attempt(&format!("{base}/o/token/"), &[], None);
    assert_eq!(
        (code, stderr),
        (
            2,
            format!(
                "sfrefresh: error: cannot tell the revocation endpoint from the token endpoint \
                 {base}/o/token/: give it with --revoke-url (or SF_REVOKE_URL)\n"
            )
        )
    );
    let (code, stderr, _) = attempt(
        &format!("{base}/t"),
        &["--revoke-url", "http://idp.example/revoke"],
        None,
    );
    assert_eq!(
        (code, stderr.as_str()),
        (
            2,
            "sfrefresh: error: the revocation URL from --revoke-url 'http://idp.example/revoke' \
             is plain http: tokens are only sent over https (http is allowed for loopback \
             hosts only)\n"
        )
    );
    assert_eq!(
        server.requests().len(),
        before,
        "nothing sent after a usage error"
    );
}

#[test]
fn revoke_authenticates_the_client_as_a_refresh_does() {
    let server = Server::scripted(vec![Reply::json(200, "")]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let mut cmd = revoke_at(&server, &file, &["--client-auth", "basic", "-q"]);
    let out = run(cmd.env("SF_CLIENT_SECRET", "s3:cr t"));
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    let r = &server.requests()[0];
    assert_eq!(
        r.body,
        "token=5Aep861.refresh-r0&token_type_hint=refresh_token"
    );
    assert_eq!(
        r.header("authorization"),
        Some("Basic M01WRzkuY2xpZW50LWlkOnMzJTNBY3IrdA==")
    );
    assert_eq!(
        r.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
}

#[test]
fn revoke_removes_the_file_under_its_lock() {
    // The revocation takes a moment; a refresh started meanwhile waits for the lock
    // and then finds the file gone: it never sends the revoked token.
    let server = Server::with_handler(|r| {
        if r.path.ends_with("/revoke") {
            Reply::json(200, "").mode(Mode::Delay(Duration::from_millis(600)))
        } else {
            Reply::token("never")
        }
    });
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let revoking = revoke_at(&server, &file, &["-q"]).spawn().unwrap();
    let started = Instant::now();
    while server.requests().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(10));
        thread::sleep(Duration::from_millis(5));
    }
    let out = run(&mut refresh_cmd(&server, &file, &[]));
    assert_eq!(
        (out.code, out.stderr),
        (
            3,
            format!(
                "sfrefresh: error: token file {}: does not exist\n",
                file.display()
            )
        )
    );
    assert_eq!(revoking.wait_with_output().unwrap().status.code(), Some(0));
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/services/oauth2/revoke"]);
}

#[test]
fn revoke_takes_no_refresh_only_flags() {
    for (flag, value, message) in [
        (
            "--if-older-than",
            Some("1h"),
            "--if-older-than is only for 'sfrefresh refresh', 'sfrefresh exec' and \
             'sfrefresh status', not for 'sfrefresh revoke'",
        ),
        (
            "--print",
            Some("token"),
            "--print is only for 'sfrefresh refresh' and 'sfrefresh login', not for \
             'sfrefresh revoke'",
        ),
        (
            "--verify-signature",
            None,
            "--verify-signature is only for 'sfrefresh refresh' and 'sfrefresh exec', not \
             for 'sfrefresh revoke'",
        ),
        (
            "--check",
            None,
            "--check is only for 'sfrefresh status', not for 'sfrefresh revoke'",
        ),
    ] {
        let mut cmd = sfrefresh();
        cmd.args(["revoke", flag]).args(value).arg("t.json");
        let out = run(&mut cmd);
        assert_eq!(
            (out.code, out.stderr),
            (2, format!("sfrefresh: error: {message}\n")),
            "{flag}"
        );
    }
    // And the refresh takes none of revoke's.
    let out = run(sfrefresh().args(["--keep-file", "t.json"]));
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            2,
            "sfrefresh: error: --keep-file is only for 'sfrefresh revoke', not for 'sfrefresh \
             refresh'\n"
        )
    );
    let out = run(sfrefresh().args(["revoke", "-"]));
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            2,
            "sfrefresh: error: revoke needs a token file, not '-': it removes or rewrites the \
             file\n"
        )
    );
}

#[test]
fn status_check_and_revoke_go_through_the_proxy_as_a_refresh_does() {
    let fake = org();
    let proxy = ConnectProxy::start();
    let dir = TempDir::new();
    let file = issued(&fake, &dir, minutes(1));
    let target = format!("127.0.0.1:{}", fake.addr().port());
    let out = run(status()
        .args(["--check", "--proxy", &proxy.url()])
        .arg(&file));
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert_eq!(proxy.targets(), [target.as_str()]);
    // From the environment too, and NO_PROXY still wins.
    let out = run(verb("revoke", &fake)
        .env("http_proxy", proxy.url())
        .env("NO_PROXY", "example.com")
        .arg(&file));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(proxy.targets(), [target.as_str(), target.as_str()]);
    assert!(fake.family_revoked());
}

#[test]
fn status_says_when_stdout_cannot_be_written() {
    let dir = TempDir::new();
    let (file, _) = token_aged(&dir, "tok.json", minutes(1));
    let full = fs::File::create("/dev/full").unwrap();
    let out: Out = status()
        .arg(&file)
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
        .into();
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            3,
            "sfrefresh: error: the status could not be written to stdout: no space left on \
             device\n"
        )
    );
}

#[test]
fn exec_refuses_an_instance_url_with_a_nul_character() {
    let dir = TempDir::new();
    let file = dir.write(
        "tok.json",
        &format!(
            r#"{{"access_token":"a","refresh_token":"r","instance_url":"https://a\u0000b","issued_at":"{}"}}"#,
            now_ms()
        ),
    );
    let out = run(sfrefresh().args(["exec", "-q"]).arg(&file).args([
        "--",
        "touch",
        &dir.path("ran").display().to_string(),
    ]));
    assert_eq!(
        (out.code, out.stderr),
        (
            3,
            format!(
                "sfrefresh: error: token file {}: \"instance_url\" holds a NUL character, so it \
                 cannot be passed in the environment\n",
                file.display()
            )
        )
    );
    assert!(!dir.path("ran").exists());
}

#[test]
fn revoke_says_when_the_file_cannot_go_after_the_token_is_revoked() {
    // The server revokes, and meanwhile something puts a directory where the file was:
    // neither the removal nor --keep-file's rename can then succeed.
    for keep in [false, true] {
        let dir = TempDir::new();
        let file = dir.write("tok.json", TOKEN);
        let path = file.clone();
        let server = Server::with_handler(move |_| {
            fs::remove_file(&path).unwrap();
            fs::create_dir(&path).unwrap();
            fs::write(path.join("x"), "").unwrap();
            Reply::json(200, "")
        });
        let extra: &[&str] = if keep { &["--keep-file"] } else { &[] };
        let out = run(&mut revoke_at(&server, &file, extra));
        let problem = if keep {
            "cannot be saved: is a directory; the file was not changed"
        } else {
            "cannot remove it: is a directory"
        };
        assert_eq!(
            (out.code, out.stderr),
            (
                3,
                format!(
                    "sfrefresh: error: token file {}: {problem}; the refresh token was revoked \
                     all the same, so the file holds only dead tokens: remove it by hand\n",
                    file.display()
                )
            )
        );
    }
}

#[test]
fn status_takes_a_minted_file_without_a_refresh_token_as_healthy() {
    let dir = TempDir::new();
    let minted = dir.write(
        "minted.json",
        r#"{"access_token":"00Dx!AQ.minted","instance_url":"https://acme.my.salesforce.com","client_id":"3MVG9.client-id","sfrefresh_grant":"jwt-bearer","sfrefresh_username":"ci@acme.com"}"#,
    );
    let out = run(status().arg(&minted));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("  refresh token: absent\n"),
        "{}",
        out.stdout
    );
    // Without the recorded grant, the same file cannot be refreshed: exit 3.
    let plain = dir.write(
        "plain.json",
        r#"{"access_token":"00Dx!AQ.minted","instance_url":"https://acme.my.salesforce.com"}"#,
    );
    assert_eq!(run(status().arg(&plain)).code, 3);
}

/// Issue 20: a mistyped verb, `help` with a wrong word, `-q` with `-v`, and a flag on
/// a verb that does not take it are usage errors (exit 2) saying exactly what is wrong,
/// and nothing is sent.
#[test]
fn verb_and_flag_mistakes_are_usage_errors_that_name_the_fix() {
    let server = Server::scripted(vec![Reply::token("new")]);
    let dir = TempDir::new();
    let file = dir.write("t.json", TOKEN);
    let f = file.to_str().unwrap().to_string();
    let url = server.url();
    for (args, message) in [
        (
            vec!["help", "nosuch"],
            "unknown verb 'nosuch' for 'sfrefresh help': the verbs are refresh, exec, status, \
             revoke, login",
        ),
        (
            vec!["help", "stauts"],
            "unknown verb 'stauts' for 'sfrefresh help': did you mean 'status'?",
        ),
        (
            vec!["help", "status", "extra"],
            "unexpected argument 'extra': 'sfrefresh help' takes one VERB",
        ),
        (
            vec!["stauts", &f, "--token-url", &url],
            "'stauts' is neither a verb nor an existing file: did you mean 'status'? (a \
             token file of that name is written ./stauts)",
        ),
        (
            vec!["revok", &f, "--token-url", &url],
            "'revok' is neither a verb nor an existing file: did you mean 'revoke'? (a \
             token file of that name is written ./revok)",
        ),
        (
            vec!["-q", "-v", &f, "--token-url", &url],
            "--quiet and --verbose cannot be used together",
        ),
        (
            vec!["status", "--verbose", "--quiet", &f],
            "--quiet and --verbose cannot be used together",
        ),
        (
            vec!["exec", "-q", &f, "-v", "--", "true"],
            "--quiet and --verbose cannot be used together",
        ),
        (
            vec!["status", "--client-secret-file", "s", &f],
            "--client-secret-file is only for 'sfrefresh refresh', 'sfrefresh exec', \
             'sfrefresh revoke' and 'sfrefresh login', not for 'sfrefresh status'",
        ),
        (
            vec!["exec", "--watch", &f, "--", "true"],
            "--watch is only for 'sfrefresh refresh', not for 'sfrefresh exec'",
        ),
        (
            vec!["status", "--grant", "jwt-bearer", &f],
            "--grant is only for 'sfrefresh refresh', 'sfrefresh exec' and 'sfrefresh \
             login', not for 'sfrefresh status'",
        ),
    ] {
        let out = run(sfrefresh().current_dir(&dir.0).args(&args));
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr),
            (2, "", format!("sfrefresh: error: {message}\n")),
            "{args:?}"
        );
    }
    assert!(server.requests().is_empty());
    assert_eq!(fs::read_to_string(&file).unwrap(), TOKEN);
    // `help` and `help VERB` still print the help.
    for args in [&["help"][..], &["help", "status"], &["help", "help"]] {
        let out = run(sfrefresh().args(args));
        assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{args:?}");
        assert!(out.stdout.starts_with("sfrefresh "), "{args:?}");
    }
}

/// A first argument close to a verb stays a token file when it is written as a path or
/// names an existing file: only a word that can be nothing else is taken for a typo.
#[test]
fn a_file_named_like_a_mistyped_verb_stays_a_file() {
    let server = Server::scripted(vec![Reply::token("new"), Reply::token("newer")]);
    let dir = TempDir::new();
    dir.write("stauts", TOKEN);
    for name in ["stauts", "./stauts"] {
        let out = run(sfrefresh()
            .current_dir(&dir.0)
            .args([name, "-q", "--client-id", CLIENT_ID, "--token-url"])
            .arg(server.url()));
        assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{name}");
    }
    assert_eq!(server.requests().len(), 2);
    // `./stauts` that does not exist is a missing token file (exit 3), not a verb.
    fs::remove_file(dir.path("stauts")).unwrap();
    let out = run(sfrefresh().current_dir(&dir.0).args(["./stauts", "-q"]));
    assert_eq!(out.code, 3, "{}", out.stderr);
}

/// Many files end with the most serious of their codes in the one order of
/// `error::SEVERITY`, as a batch of refreshes does: a token file that cannot be used
/// (3) outranks a check that cannot tell (4) and a refused token (5), whichever comes
/// first.
#[test]
fn status_of_many_files_exits_with_the_most_serious_code() {
    let dir = TempDir::new();
    let server = Server::with_handler(|r| match r.path.as_str() {
        "/down" => Reply::text(503, "<html>maintenance</html>"),
        _ => Reply::text(403, "Bad_OAuth_Token"),
    });
    let base = format!("http://127.0.0.1:{}", server.addr.port());
    let with_id = |name: &str, id: &str| {
        let text = TOKEN
            .replace("https://login.salesforce.com/id/00Dx/005x", id)
            .replace("1700000000000", &now_ms().to_string());
        dir.write(name, &text)
    };
    let down = with_id("down.json", &format!("{base}/down"));
    let refused = with_id("refused.json", &format!("{base}/id/00D/005"));
    let broken = dir.write("broken.json", "{ not json");
    let cases: [(&[&Path], i32); 4] = [
        (&[&down, &refused], 5),
        (&[&refused, &down], 5),
        (&[&down, &broken], 3),
        (&[&broken, &refused, &down], 3),
    ];
    for (files, code) in cases {
        let out = run(status().args(["--check", "--retries", "0"]).args(files));
        assert_eq!(out.code, code, "{files:?}: {}", out.stderr);
        let errors = out
            .stderr
            .lines()
            .filter(|l| l.starts_with("sfrefresh: error: "));
        assert_eq!(errors.count(), files.len(), "{files:?}: {}", out.stderr);
    }
}
