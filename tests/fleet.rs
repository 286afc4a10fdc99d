//! Many token files in one run: one line per file, the most serious exit code, kept-alive
//! connections, each file with the single-file guarantees, the metrics file.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::fake_salesforce::FakeSalesforce;
use crate::util::*;

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

/// A token file for `refresh_token`, issued long ago (or now, with `fresh`).
fn token(refresh_token: &str, fresh: bool) -> String {
    let issued = if fresh {
        now_ms().to_string()
    } else {
        "1700000000000".into()
    };
    format!(
        "{{\n  \"access_token\": \"00Dx!AQ.old\",\n  \"refresh_token\": \"{refresh_token}\",\n  \
         \"instance_url\": \"https://acme.my.salesforce.com\",\n  \"issued_at\": \"{issued}\"\n}}\n"
    )
}

/// sfrefresh against `url` for many files (`files` after the options).
fn fleet(url: &str, extra: &[&str], files: &[&Path]) -> Command {
    let mut cmd = sfrefresh();
    cmd.args([
        "--client-id",
        CLIENT_ID,
        "--token-url",
        url,
        "--timeout",
        "5",
    ]);
    cmd.args(extra);
    cmd.args(files);
    cmd
}

fn server(families: &[&str]) -> FakeSalesforce {
    server_over(families, false)
}

/// The fake Salesforce knowing `families`, over TLS when `tls`.
fn server_over(families: &[&str], tls: bool) -> FakeSalesforce {
    let mut b = FakeSalesforce::builder()
        .client_id(CLIENT_ID)
        .instance_url("https://acme.my.salesforce.com")
        .tls(tls);
    for f in families {
        b = b.refresh_token(f);
    }
    b.start()
}

/// One fresh-to-refresh token file per family in `dir`: t00.json, t01.json, ….
fn files_for(dir: &TempDir, families: &[String]) -> Vec<PathBuf> {
    families
        .iter()
        .enumerate()
        .map(|(i, f)| dir.write(&format!("t{i:02}.json"), &token(f, false)))
        .collect()
}

fn refresh_token_of(path: &Path) -> String {
    let v: serde_json::Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    v["refresh_token"].as_str().unwrap().to_string()
}

#[test]
fn mixed_outcomes_one_line_each_the_worst_exit_code_and_nobody_stops() {
    let server = server(&["5Aep861.family-a", "5Aep861.family-b"]);
    let dir = TempDir::new();
    let a = dir.write("a.json", &token("5Aep861.family-a", false));
    let fresh = dir.write("fresh.json", &token("5Aep861.family-b", true));
    let refused = dir.write("refused.json", &token("5Aep861.unknown", false));
    let missing = dir.path("missing.json");
    let locked = dir.write("locked.json", &token("5Aep861.family-b", false));
    let refused_before = fs::read_to_string(&refused).unwrap();
    // Another run holds this file's lock for longer than --timeout.
    let holder = fs::File::open(&locked).unwrap();
    holder.lock().unwrap();
    let files = [&a, &fresh, &refused, &missing, &locked].map(PathBuf::as_path);
    let out = run(&mut fleet(
        &server.token_url(),
        &["--jobs", "1", "--if-older-than", "1h", "--timeout", "1"],
        &files,
    ));
    drop(holder);
    let url = server.token_url();
    let show = |p: &Path| p.display().to_string();
    let lines: Vec<String> = out.stderr.lines().map(String::from).collect();
    assert_eq!(
        lines,
        [
            format!(
                "sfrefresh: {}: refreshed token for https://acme.my.salesforce.com (refresh token rotated)",
                show(&a)
            ),
            format!(
                "sfrefresh: {}: token for https://acme.my.salesforce.com is fresh (issued 0ms ago), not refreshed",
                show(&fresh)
            )
            .replace("0ms", &fresh_age(&out.stderr, &show(&fresh))),
            format!(
                "sfrefresh: {}: error (exit 5): {url} refused the refresh (HTTP 400): \
                 invalid_grant: expired access/refresh token",
                show(&refused)
            ),
            format!("sfrefresh: {}: error (exit 3): does not exist", show(&missing)),
            format!(
                "sfrefresh: {}: error (exit 3): another process has held its lock for more \
                 than the 1s --timeout; nothing was sent",
                show(&locked)
            ),
            "sfrefresh: 5 token files: 1 refreshed, 1 fresh, 3 failed (exit 3)".to_string(),
        ]
    );
    assert_eq!(
        out.code, 3,
        "3 (token file) is more serious than 5 (refused)"
    );
    assert_eq!(out.stdout, "");
    assert_ne!(refresh_token_of(&a), "5Aep861.family-a");
    assert_eq!(fs::read_to_string(&refused).unwrap(), refused_before);
    assert_eq!(refresh_token_of(&locked), "5Aep861.family-b");
    assert_eq!(
        server.refresh_tokens_presented(),
        ["5Aep861.family-a", "5Aep861.unknown"],
        "the fresh, missing and locked files send nothing"
    );
    assert_eq!(
        dir.names(),
        ["a.json", "fresh.json", "locked.json", "refused.json"]
    );
}

/// The age the run printed for the fresh file (it depends on the clock).
fn fresh_age(stderr: &str, shown: &str) -> String {
    let line = stderr
        .lines()
        .find(|l| l.starts_with(&format!("sfrefresh: {shown}: token for")))
        .unwrap_or("");
    line.split("(issued ")
        .nth(1)
        .and_then(|r| r.split(" ago").next())
        .unwrap_or("?")
        .to_string()
}

#[test]
fn without_refusals_the_exit_code_is_the_refusal_and_quiet_keeps_errors_only() {
    let server = server(&["5Aep861.family-a"]);
    let dir = TempDir::new();
    let a = dir.write("a.json", &token("5Aep861.family-a", false));
    let refused = dir.write("refused.json", &token("5Aep861.unknown", false));
    let out = run(&mut fleet(&server.token_url(), &["-q"], &[&a, &refused]));
    assert_eq!(out.code, 5);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stderr);
    assert!(lines[0].starts_with(&format!(
        "sfrefresh: {}: error (exit 5): ",
        refused.display()
    )));
    assert_eq!(
        lines[1],
        "sfrefresh: 2 token files: 1 refreshed, 0 fresh, 1 failed (exit 5)"
    );
    // All well and -q: nothing at all.
    fs::remove_file(&refused).unwrap();
    let out = run(&mut fleet(&server.token_url(), &["-q"], &[&a, &dir.0]));
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
}

#[test]
fn many_files_share_one_kept_alive_tls_connection() {
    // Each request after the first goes out on the same TLS session: wire.rs queues it
    // in rustls and sends it when the answer is awaited.
    let families: Vec<String> = (0..12).map(|i| format!("5Aep861.tls-{i:02}")).collect();
    let names: Vec<&str> = families.iter().map(String::as_str).collect();
    let server = server_over(&names, true);
    let dir = TempDir::new();
    let files = files_for(&dir, &families);
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let ca = cert_path("ca.pem");
    let ca = ca.to_string_lossy();
    let out = run(&mut fleet(
        &server.token_url(),
        &["--jobs", "1", "-q", "--cacert", &ca],
        &paths,
    ));
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert_eq!(
        server.connections(),
        1,
        "one TLS connection for twelve files"
    );
    for (file, family) in files.iter().zip(&families) {
        assert_ne!(&refresh_token_of(file), family, "{}", file.display());
    }
}

#[test]
fn many_files_share_kept_alive_connections() {
    let families: Vec<String> = (0..20).map(|i| format!("5Aep861.family-{i:02}")).collect();
    let names: Vec<&str> = families.iter().map(String::as_str).collect();
    let server = server(&names);
    let dir = TempDir::new();
    let files = files_for(&dir, &families);
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let out = run(&mut fleet(
        &server.token_url(),
        &["--jobs", "1", "-q"],
        &paths,
    ));
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert_eq!(server.connections(), 1, "one connection for twenty files");
    for (file, family) in files.iter().zip(&families) {
        assert_ne!(&refresh_token_of(file), family, "{}", file.display());
    }
    // Four workers: at most four connections, however many files.
    let before = server.connections();
    let out = run(&mut fleet(
        &server.token_url(),
        &["--jobs", "4", "-q"],
        &paths,
    ));
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    let used = server.connections() - before;
    assert!((1..=4).contains(&used), "{used} connections");
    assert!(!server.family_revoked());
}

#[test]
fn an_answer_that_started_is_never_sent_again_in_a_fleet() {
    let server = Server::scripted(vec![
        Reply::token("new-a").mode(Mode::Truncate(10)),
        Reply::token("new-b"),
    ]);
    let dir = TempDir::new();
    let a = dir.write("a.json", TOKEN);
    let b = dir.write("b.json", TOKEN);
    let out = run(&mut fleet(
        &server.url(),
        &["--jobs", "1", "--retries", "3"],
        &[&a, &b],
    ));
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert_eq!(
        server.requests().len(),
        2,
        "one request per file, none resent"
    );
    assert!(
        out.stderr.contains(&format!(
            "sfrefresh: {}: error (exit 4): {} answered HTTP 200 but the body was cut short",
            a.display(),
            server.url()
        )),
        "{}",
        out.stderr
    );
    assert_eq!(fs::read_to_string(&a).unwrap(), TOKEN);
    assert!(fs::read_to_string(&b).unwrap().contains("new-b"));
}

#[test]
fn a_directory_and_a_list_name_the_files_and_leftover_temps_go() {
    let server = server(&["5Aep861.family-a", "5Aep861.family-b", "5Aep861.family-c"]);
    let dir = TempDir::new();
    dir.write("a.json", &token("5Aep861.family-a", false));
    dir.write("b.json", &token("5Aep861.family-b", false));
    dir.write("notes.txt", "not a token");
    dir.write(".a.json.sfrefresh-1-deadbeef.tmp", "{\"half");
    dir.write(".b.json.sfrefresh-rescue-1.json", "{}");
    let out = run(&mut fleet(&server.token_url(), &["-q"], &[&dir.0]));
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert_eq!(
        dir.names(),
        [
            ".b.json.sfrefresh-rescue-1.json",
            "a.json",
            "b.json",
            "notes.txt"
        ]
    );
    assert_eq!(server.refresh_tokens_presented().len(), 2);
    // --files-from - : one path a line, blank lines skipped, each file once.
    let other = TempDir::new();
    let c = other.write("c.json", &token("5Aep861.family-c", false));
    let list = format!(
        "{}\n\n{}\r\n{}\n",
        c.display(),
        dir.path("a.json").display(),
        c.display()
    );
    let mut cmd = fleet(&server.token_url(), &["--files-from", "-"], &[]);
    let out = run_with_stdin(&mut cmd, &list);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 3, "{}", out.stderr);
    assert!(
        out.stderr
            .ends_with("sfrefresh: 2 token files: 2 refreshed, 0 fresh, 0 failed\n")
    );
}

#[test]
fn print_and_stdin_are_one_file_forms() {
    let dir = TempDir::new();
    let a = dir.write("a.json", TOKEN);
    for (extra, word) in [(&["--print", "token"][..], "--print"), (&["-"][..], "'-'")] {
        let out = run(&mut fleet("http://127.0.0.1:9/t", extra, &[&a, &a]));
        assert_eq!(out.code, 2, "{}", out.stderr);
        assert!(out.stderr.contains(word), "{}", out.stderr);
    }
    let empty = TempDir::new();
    let out = run(&mut fleet("http://127.0.0.1:9/t", &[], &[&empty.0]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("no token files"), "{}", out.stderr);
    assert_eq!(fs::read_to_string(&a).unwrap(), TOKEN);
}

/// Parses a Prometheus text file: (name, file label, value) per sample; checks HELP and
/// TYPE come first for each family.
pub fn parse_metrics(text: &str) -> Vec<(String, String, f64)> {
    let mut typed = Vec::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert_eq!(kind, "gauge");
            typed.push(name.to_string());
        } else if line.starts_with("# HELP ") {
            continue;
        } else {
            let (name, rest) = line.split_once("{file=\"").expect(line);
            let (label, value) = rest.rsplit_once("\"} ").expect(line);
            assert!(typed.contains(&name.to_string()), "{name} has no TYPE line");
            assert!(!label.contains('\n'));
            samples.push((
                name.to_string(),
                label.replace("\\\"", "\"").replace("\\\\", "\\"),
                value.parse::<f64>().expect(value),
            ));
        }
    }
    samples
}

#[test]
fn the_metrics_file_has_a_sample_per_file() {
    let server = server(&["5Aep861.family-a"]);
    let dir = TempDir::new();
    let a = dir.write("a.json", &token("5Aep861.family-a", false));
    let missing = dir.path("missing.json");
    let metrics = dir.path("sfrefresh.prom");
    let out = run(&mut fleet(
        &server.token_url(),
        &["--metrics-file", metrics.to_str().unwrap()],
        &[&a, &missing],
    ));
    assert_eq!(out.code, 3, "{}", out.stderr);
    let samples = parse_metrics(&fs::read_to_string(&metrics).unwrap());
    let get = |name: &str, file: &Path| {
        samples
            .iter()
            .find(|(n, f, _)| n == name && f == &file.display().to_string())
            .map(|(_, _, v)| *v)
    };
    let now = now_ms() as f64 / 1000.0;
    let success = get("sfrefresh_last_success_timestamp_seconds", &a).unwrap();
    assert!((now - success).abs() < 60.0, "{success}");
    assert_eq!(get("sfrefresh_last_exit_code", &a), Some(0.0));
    assert_eq!(get("sfrefresh_last_exit_code", &missing), Some(3.0));
    assert_eq!(
        get("sfrefresh_last_success_timestamp_seconds", &missing),
        None
    );
    let issued = get("sfrefresh_token_issued_at_timestamp_seconds", &a).unwrap();
    assert!((now - issued).abs() < 60.0, "{issued}");
    let took = get("sfrefresh_refresh_duration_seconds", &a).unwrap();
    assert!((0.0..5.0).contains(&took), "{took}");
    let mode = fs::metadata(&metrics).unwrap();
    assert!(mode.is_file());
    assert_eq!(
        dir.names(),
        ["a.json", "sfrefresh.prom"],
        "no temp file left beside the metrics"
    );
}

/// Issue 20: a `--metrics-file` that cannot be written is found before anything is sent,
/// as an unsaveable token file is: exit 3, the token file untouched, no request, for a
/// one-shot run and for `--watch` alike.
#[test]
fn an_unwritable_metrics_file_stops_the_run_before_sending() {
    // A refusal: without the check the run would send, then end (5, or --watch gives up).
    let server = Server::with_handler(|_| {
        Reply::oauth_error(400, "invalid_grant", "expired access/refresh token")
    });
    let watch = ["--watch", "--if-older-than", "1h"];
    for (metrics, why) in [
        (
            "nodir/m.prom",
            "cannot create a file in nodir: does not exist",
        ),
        (
            "plain/m.prom",
            "cannot create a file in plain: not a directory",
        ),
        ("m.prom", "it is a directory"),
    ] {
        for extra in [&[][..], &watch[..]] {
            let dir = TempDir::new();
            let file = dir.write("t.json", TOKEN);
            dir.write("plain", "not a directory");
            fs::create_dir(dir.path("m.prom")).unwrap();
            let before = dir.names();
            let mut args = vec!["--metrics-file", metrics];
            args.extend_from_slice(extra);
            let out = run(fleet(&server.url(), &args, &[Path::new("t.json")]).current_dir(&dir.0));
            assert_eq!(
                (out.code, out.stdout.as_str(), out.stderr.as_str()),
                (
                    3,
                    "",
                    format!(
                        "sfrefresh: error: the --metrics-file {metrics} cannot be written: \
                         {why}; nothing was sent\n"
                    )
                    .as_str()
                ),
                "{metrics} {extra:?}"
            );
            assert_eq!(fs::read_to_string(&file).unwrap(), TOKEN);
            assert_eq!(dir.names(), before, "nothing left behind");
        }
    }
    assert_eq!(server.connections(), 0, "nothing was sent");
}

/// Issue 20: a metrics write that fails after the refreshes (the directory went away
/// meanwhile) leaves them saved, says so, and the summary says what failed: exit 3.
#[test]
fn a_metrics_write_that_fails_after_the_refresh_says_the_refresh_is_saved() {
    let dir = TempDir::new();
    let gone = dir.path("m");
    let server = Server::with_handler(move |_| {
        let _ = fs::remove_dir_all(&gone);
        Reply::token("00Dx!AQ.new-access")
    });
    for json in [false, true] {
        fs::create_dir_all(dir.path("m")).unwrap();
        let file = dir.write("t.json", TOKEN);
        let mut args = vec!["--metrics-file", "m/m.prom"];
        if json {
            args.extend(["--log-format", "json"]);
        }
        let out = run(fleet(&server.url(), &args, &[Path::new("t.json")]).current_dir(&dir.0));
        assert_eq!((out.code, out.stdout.as_str()), (3, ""), "{}", out.stderr);
        if json {
            let lines: Vec<serde_json::Value> = out
                .stderr
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            let events: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
            assert_eq!(events, ["refreshed", "metrics", "summary"]);
            assert_eq!(
                lines[1]["message"],
                "cannot write the --metrics-file m/m.prom: no such file or directory; \
                 the refreshed token file is saved all the same"
            );
            let mut summary = lines[2].as_object().unwrap().clone();
            summary.remove("time");
            assert_eq!(
                serde_json::Value::Object(summary),
                serde_json::json!({"event": "summary", "files": 1, "refreshed": 1, "fresh": 0,
                    "failed": 0, "metrics_written": false, "exit": 3})
            );
        } else {
            assert_eq!(
                out.stderr,
                "sfrefresh: t.json: refreshed token for https://acme.my.salesforce.com \
                 (refresh token kept)\n\
                 sfrefresh: cannot write the --metrics-file m/m.prom: no such file or \
                 directory; the refreshed token file is saved all the same\n\
                 sfrefresh: 1 token file: 1 refreshed, 0 fresh, 0 failed; the metrics file \
                 was not written (exit 3)\n"
            );
        }
        let saved: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(saved["access_token"], "00Dx!AQ.new-access");
        assert_eq!(saved["refresh_token"], "5Aep861.refresh-r0");
        assert_eq!(dir.names(), ["t.json"]);
    }
    assert_eq!(server.requests().len(), 2);
}

/// The budgets `make bench` checks (run.py `budgets`), on canned numbers: each passes
/// on good numbers and fails alone on a bad one. The measuring itself is `make bench`.
#[test]
fn the_bench_budgets_are_checked() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/run.py");
    let out = Command::new("python3")
        .arg(script)
        .arg("--self-test")
        .output();
    let Ok(out) = out else {
        assert!(std::env::var_os("CI").is_none(), "python3 is missing");
        eprintln!("SKIPPED: python3 is missing");
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "bench budgets: self-test passed\n"
    );
}
