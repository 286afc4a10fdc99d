//! `--watch`: SIGTERM during a request and during a wait, the jittered schedule, a refused
//! file that does not stop the others, the end when nothing can be refreshed, and memory
//! that stays flat over thousands of cycles.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::fake_salesforce::FakeSalesforce;
use crate::util::*;

/// A running `sfrefresh --watch` whose stderr lines are collected as they come.
struct Watcher {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<thread::JoinHandle<()>>,
}

impl Watcher {
    fn start(url: &str, extra: &[&str], files: &[&Path]) -> Watcher {
        let mut cmd = sfrefresh();
        cmd.args(["--client-id", CLIENT_ID, "--token-url", url, "--watch"]);
        cmd.args(extra).args(files);
        cmd.stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let reader = thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push(line);
            }
        });
        Watcher {
            child,
            lines,
            reader: Some(reader),
        }
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits (at most 10 s) until `ready` holds.
    fn wait_for(&self, what: &str, ready: impl Fn(&Watcher) -> bool) {
        let started = Instant::now();
        while !ready(self) {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "waited 10 s for {what}; stderr so far: {:#?}",
                self.lines()
            );
            thread::sleep(Duration::from_millis(5));
        }
    }

    fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }

    /// The exit code, waiting at most `limit`.
    fn exit_within(&mut self, limit: Duration) -> i32 {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                if let Some(r) = self.reader.take() {
                    let _ = r.join();
                }
                return status.code().unwrap_or(-1);
            }
            if started.elapsed() > limit {
                let _ = self.child.kill();
                panic!("still running after {limit:?}: {:#?}", self.lines());
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    fn rss_kib(&self) -> u64 {
        let status = fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn server(families: &[&str], delay: Duration) -> FakeSalesforce {
    let mut b = FakeSalesforce::builder()
        .client_id(CLIENT_ID)
        .instance_url("https://acme.my.salesforce.com")
        .processing_delay(delay);
    for f in families {
        b = b.refresh_token(f);
    }
    b.start()
}

fn token(refresh_token: &str) -> String {
    format!(
        "{{\n  \"access_token\": \"00Dx!AQ.old\",\n  \"refresh_token\": \"{refresh_token}\",\n  \
         \"issued_at\": \"1700000000000\"\n}}\n"
    )
}

fn refresh_token_of(path: &Path) -> String {
    let v: serde_json::Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    v["refresh_token"].as_str().unwrap().to_string()
}

#[test]
fn sigterm_during_a_request_ends_after_the_save() {
    let server = server(&["5Aep861.family-a"], Duration::from_millis(700));
    let dir = TempDir::new();
    let a = dir.write("a.json", &token("5Aep861.family-a"));
    let mut w = Watcher::start(&server.token_url(), &["--if-older-than", "1h"], &[&a]);
    w.wait_for("the request", |_| {
        !server.refresh_tokens_presented().is_empty()
    });
    w.signal("TERM");
    assert_eq!(w.exit_within(Duration::from_secs(10)), 0);
    let lines = w.lines();
    assert_eq!(
        lines,
        [
            format!(
                "sfrefresh: {}: refreshed token for https://acme.my.salesforce.com (refresh token rotated)",
                a.display()
            ),
            "sfrefresh: stopping on SIGTERM".to_string(),
        ]
    );
    assert_eq!(
        refresh_token_of(&a),
        server.current_refresh_token().unwrap(),
        "the rotated token was saved before the exit"
    );
    assert_eq!(dir.names(), ["a.json"]);
}

#[test]
fn sigint_during_a_wait_ends_at_once() {
    let server = server(&["5Aep861.family-a"], Duration::ZERO);
    let dir = TempDir::new();
    let a = dir.write("a.json", &token("5Aep861.family-a"));
    let mut w = Watcher::start(&server.token_url(), &["--if-older-than", "1h"], &[&a]);
    w.wait_for("the wait", |w| {
        w.lines().iter().any(|l| l.contains(": next: "))
    });
    let asked = Instant::now();
    w.signal("INT");
    assert_eq!(w.exit_within(Duration::from_secs(5)), 0);
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "{:?}",
        asked.elapsed()
    );
    let lines = w.lines();
    assert!(
        lines[1].starts_with(&format!("sfrefresh: next: {} in ", a.display())),
        "{lines:#?}"
    );
    assert_eq!(lines.last().unwrap(), "sfrefresh: stopping on SIGINT");
    assert_eq!(server.refresh_tokens_presented().len(), 1);
}

#[test]
fn a_refused_file_waits_for_a_change_and_the_others_go_on() {
    let server = server(&["5Aep861.family-a"], Duration::ZERO);
    let dir = TempDir::new();
    let a = dir.write("a.json", &token("5Aep861.family-a"));
    let refused = dir.write("refused.json", &token("5Aep861.unknown"));
    let mut w = Watcher::start(
        &server.token_url(),
        &["--if-older-than", "1s", "--log-format", "json"],
        &[&a, &refused],
    );
    w.wait_for("three refreshes of a.json", |_| {
        server.refresh_tokens_presented().len() >= 4
    });
    w.signal("TERM");
    assert_eq!(w.exit_within(Duration::from_secs(10)), 0);
    let presented = server.refresh_tokens_presented();
    assert_eq!(
        presented.iter().filter(|t| *t == "5Aep861.unknown").count(),
        1,
        "a refused token is not sent again: {presented:?}"
    );
    assert!(!server.family_revoked());
    assert_eq!(
        refresh_token_of(&a),
        server.current_refresh_token().unwrap()
    );
    let events: Vec<serde_json::Value> = w
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    let of = |kind: &str| events.iter().filter(|e| e["event"] == kind).count();
    assert!(of("refreshed") >= 3, "{events:#?}");
    assert_eq!(of("error"), 1);
    assert_eq!(of("parked"), 1);
    assert_eq!(of("stop"), 1);
    let error = events.iter().find(|e| e["event"] == "error").unwrap();
    assert_eq!(error["exit"], 5);
    assert_eq!(error["file"], refused.display().to_string());
    assert!(
        events
            .iter()
            .all(|e| e["time"].as_str().unwrap().ends_with('Z'))
    );
}

#[test]
fn when_no_file_can_be_refreshed_the_watch_ends_with_the_worst_code() {
    let server = server(&["5Aep861.family-a"], Duration::ZERO);
    let dir = TempDir::new();
    let refused = dir.write("refused.json", &token("5Aep861.unknown"));
    let missing = dir.path("missing.json");
    let mut w = Watcher::start(
        &server.token_url(),
        &["--if-older-than", "1h"],
        &[&refused, &missing],
    );
    assert_eq!(w.exit_within(Duration::from_secs(10)), 3);
    let lines = w.lines();
    assert_eq!(
        lines.last().unwrap(),
        "sfrefresh: no token file can be refreshed any more (exit 3)"
    );
    assert_eq!(lines.len(), 5, "{lines:#?}");
}

#[test]
fn the_schedule_is_jittered() {
    let families: Vec<String> = (0..6).map(|i| format!("5Aep861.family-{i}")).collect();
    let names: Vec<&str> = families.iter().map(String::as_str).collect();
    let server = server(&names, Duration::ZERO);
    let dir = TempDir::new();
    let files: Vec<_> = families
        .iter()
        .enumerate()
        .map(|(i, f)| dir.write(&format!("t{i}.json"), &token(f)))
        .collect();
    let paths: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    // Due every 2 s, plus up to 0.2 s of jitter each.
    let mut w = Watcher::start(
        &server.token_url(),
        &["--if-older-than", "2s", "-q"],
        &paths,
    );
    w.wait_for("two rounds", |_| {
        server.refresh_tokens_presented().len() >= 12
    });
    w.signal("TERM");
    assert_eq!(w.exit_within(Duration::from_secs(10)), 0);
    let times: Vec<Duration> = server
        .requests()
        .iter()
        .filter(|r| r.path == crate::fake_salesforce::TOKEN_PATH)
        .map(|r| r.at)
        .collect();
    let (first, second) = times.split_at(6);
    let spread = |round: &[Duration]| {
        round
            .iter()
            .max()
            .unwrap()
            .saturating_sub(*round.iter().min().unwrap())
    };
    let gap = second
        .iter()
        .min()
        .unwrap()
        .saturating_sub(*first.iter().max().unwrap());
    assert!(
        gap >= Duration::from_millis(1800),
        "second round too early: {times:?}"
    );
    assert!(
        spread(&second[..6.min(second.len())]) > spread(first) + Duration::from_millis(5),
        "the second round must spread out: {times:?}"
    );
    assert!(
        spread(&second[..6.min(second.len())]) <= Duration::from_millis(400),
        "{times:?}"
    );
}

/// How many times the fake server has rotated `5Aep861.fake-refresh-0`'s family, read
/// from the file (cheap, unlike copying the server's request log).
fn rotations(path: &Path) -> u64 {
    fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v["refresh_token"].as_str().map(String::from))
        .and_then(|t| t.rsplit('-').next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

#[test]
fn memory_stays_flat_over_thousands_of_cycles() {
    let server = FakeSalesforce::builder().client_id(CLIENT_ID).start();
    // On tmpfs when there is one: fsync is then free, so the cycle count does not hang
    // on how busy the disk is.
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        let d = TempDir(shm.join(format!("sfrefresh-watch-{}", std::process::id())));
        fs::create_dir_all(&d.0).unwrap();
        d
    } else {
        TempDir::new()
    };
    let a = dir.write(
        "a.json",
        &token(crate::fake_salesforce::DEFAULT_REFRESH_TOKEN),
    );
    // Due at once, every time: one cycle (lock, POST, save, schedule) after another.
    let mut w = Watcher::start(&server.token_url(), &["--if-older-than", "0s", "-q"], &[&a]);
    let wait = |n: u64| {
        let started = Instant::now();
        while rotations(&a) < n {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "slow: {}",
                rotations(&a)
            );
            thread::sleep(Duration::from_millis(20));
        }
    };
    wait(300);
    let early = w.rss_kib();
    wait(5300);
    let late = w.rss_kib();
    w.signal("TERM");
    assert_eq!(w.exit_within(Duration::from_secs(10)), 0);
    assert!(
        late <= early + 512,
        "RSS grew from {early} KiB to {late} KiB over 5000 cycles"
    );
    assert!(!server.family_revoked());
    assert_eq!(
        refresh_token_of(&a),
        server.current_refresh_token().unwrap()
    );
    assert!(
        server.connections() <= 2,
        "one kept-alive connection: {}",
        server.connections()
    );
}
