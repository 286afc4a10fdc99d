//! One refresh at a time per file across processes, and crash safety under SIGKILL.

use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::process::{Child, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::fake_salesforce::FakeSalesforce;
use crate::util::*;

/// Salesforce with refresh token rotation, holding each refresh 40 ms so that two
/// requests with one token would overlap ("already being processed") and a replayed
/// rotated-out token would revoke the family.
fn rotating_server() -> FakeSalesforce {
    FakeSalesforce::builder()
        .client_id(CLIENT_ID)
        .refresh_token("5Aep861.refresh-r0")
        .instance_url("https://acme.my.salesforce.com")
        .processing_delay(Duration::from_millis(40))
        .start()
}

fn spawn_all(n: usize, server: &FakeSalesforce, file: &Path, extra: &[&str]) -> Vec<Out> {
    let children: Vec<Child> = (0..n)
        .map(|_| {
            refresh_at(&server.token_url(), file, extra)
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
    let server = rotating_server();
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let outs = spawn_all(8, &server, &file, &["-q"]);
    for out in &outs {
        assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    }
    let used = server.refresh_tokens_presented();
    assert!(
        !server.family_revoked(),
        "a rotated-out token was replayed: {used:?}"
    );
    let chain = server.refresh_token_chain();
    assert_eq!(chain.len(), 9, "{chain:?}");
    assert_eq!(chain[0], "5Aep861.refresh-r0");
    assert_eq!(
        used,
        chain[..8],
        "each run must use the token the previous one saved"
    );
    let saved: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(saved["refresh_token"], chain[8].as_str());
    assert_eq!(
        saved["access_token"],
        server.current_access_token().unwrap().as_str()
    );
    assert_eq!(saved["instance_url"], "https://acme.my.salesforce.com");
    assert_eq!(dir.names(), ["tok.json"]);
}

#[test]
fn concurrent_runs_with_if_older_than_refresh_once() {
    let server = rotating_server();
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let outs = spawn_all(
        8,
        &server,
        &file,
        &["--if-older-than", "1h", "--print", "token"],
    );
    let access = server.current_access_token().unwrap();
    for out in &outs {
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(out.stdout, format!("{access}\n"));
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
    assert_eq!(server.refresh_tokens_presented(), ["5Aep861.refresh-r0"]);
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
