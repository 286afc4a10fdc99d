//! One refresh at a time per file across processes, and crash safety under SIGKILL.

use std::collections::HashSet;
use std::fs;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::util::*;

/// Salesforce with refresh token rotation: every refresh issues a new token and kills
/// the old one; replaying an old token revokes the whole family; two requests with
/// the same token at once get "already being processed".
#[derive(Default)]
struct Family {
    current: String,
    issued: u32,
    revoked: bool,
    in_flight: HashSet<String>,
    used: Vec<String>,
}

fn rotating_server(first: &str) -> (Server, Arc<Mutex<Family>>) {
    let family = Arc::new(Mutex::new(Family {
        current: first.into(),
        ..Family::default()
    }));
    let state = family.clone();
    let server = Server::with_handler(move |req| {
        let token = req.field("refresh_token").unwrap_or_default();
        {
            let mut f = state.lock().unwrap();
            f.used.push(token.clone());
            if f.in_flight.contains(&token) {
                return Reply::oauth_error(
                    400,
                    "invalid_grant",
                    "token request is already being processed",
                );
            }
            if f.revoked || token != f.current {
                f.revoked = true;
                return Reply::oauth_error(400, "invalid_grant", "expired access/refresh token");
            }
            f.in_flight.insert(token.clone());
        }
        thread::sleep(Duration::from_millis(40));
        let mut f = state.lock().unwrap();
        f.in_flight.remove(&token);
        f.issued += 1;
        f.current = format!("rt-{}", f.issued);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis();
        Reply::json(
            200,
            &format!(
                r#"{{"access_token":"at-{}","refresh_token":"{}","issued_at":"{now}"}}"#,
                f.issued, f.current
            ),
        )
    });
    (server, family)
}

fn spawn_all(n: usize, server: &Server, file: &std::path::Path, extra: &[&str]) -> Vec<Out> {
    let children: Vec<Child> = (0..n)
        .map(|_| {
            refresh_cmd(server, file, extra)
                .args(["--timeout", "60"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap().into())
        .collect()
}

#[test]
fn eight_concurrent_runs_refresh_one_after_another() {
    let (server, family) = rotating_server("5Aep861.refresh-r0");
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let outs = spawn_all(8, &server, &file, &["-q"]);
    for out in &outs {
        assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    }
    let f = family.lock().unwrap();
    assert!(!f.revoked, "a rotated-out token was replayed: {:?}", f.used);
    let expected: Vec<String> = std::iter::once("5Aep861.refresh-r0".to_string())
        .chain((1..8).map(|i| format!("rt-{i}")))
        .collect();
    assert_eq!(
        f.used, expected,
        "each run must use the token the previous one saved"
    );
    let saved: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(saved["refresh_token"], "rt-8");
    assert_eq!(saved["access_token"], "at-8");
    assert_eq!(saved["instance_url"], "https://acme.my.salesforce.com");
    assert_eq!(dir.names(), ["tok.json"]);
}

#[test]
fn concurrent_runs_with_if_older_than_refresh_once() {
    let (server, family) = rotating_server("5Aep861.refresh-r0");
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let outs = spawn_all(
        8,
        &server,
        &file,
        &["--if-older-than", "1h", "--print", "token"],
    );
    for out in &outs {
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(out.stdout, "at-1\n");
    }
    let skipped = outs
        .iter()
        .filter(|o| o.stderr.contains("is fresh"))
        .count();
    assert_eq!(
        skipped,
        7,
        "{:?}",
        outs.iter().map(|o| &o.stderr).collect::<Vec<_>>()
    );
    assert_eq!(family.lock().unwrap().used, ["5Aep861.refresh-r0"]);
    assert_eq!(dir.names(), ["tok.json"]);
}

#[test]
fn sigkill_during_the_request_leaves_the_file_untouched() {
    let server = Server::scripted(vec![
        Reply::token("new").mode(Mode::Delay(Duration::from_secs(20))),
    ]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let mut child = refresh_cmd(&server, &file, &["--timeout", "30"])
        .spawn()
        .unwrap();
    let started = Instant::now();
    while server.requests().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no request arrived"
        );
        thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_untouched(&dir, &file, TOKEN);
}

#[test]
fn sigkill_at_any_moment_leaves_the_old_or_the_new_file_whole() {
    let server = Server::with_handler(|_| {
        Reply::json(
            200,
            r#"{"access_token":"new-access","refresh_token":"new-refresh","issued_at":"1"}"#,
        )
    });
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let mut states = HashSet::new();
    for i in 0..40u64 {
        let mut child = refresh_cmd(&server, &file, &["-q"]).spawn().unwrap();
        thread::sleep(Duration::from_micros(250 * i));
        let _ = child.kill();
        child.wait().unwrap();
        let text = fs::read_to_string(&file).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&text).expect("always a whole JSON file");
        match doc["refresh_token"].as_str() {
            Some("5Aep861.refresh-r0") => assert_eq!(text, TOKEN),
            Some("new-refresh") => assert_eq!(doc["access_token"], "new-access"),
            other => panic!("unexpected refresh token {other:?}"),
        }
        states.insert(doc["refresh_token"].as_str().unwrap().to_string());
        // Put the old file back so later kills can land before, during or after the save.
        fs::write(&file, TOKEN).unwrap();
    }
    // A temp file left by a kill mid-save is cleaned up by the next run that holds the lock.
    let out = run(&mut refresh_cmd(&server, &file, &["-q"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(dir.names(), ["tok.json"]);
    assert!(
        states.contains("5Aep861.refresh-r0"),
        "no kill landed before the save"
    );
}
