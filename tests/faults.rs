//! Every fault named in the refresh issue: exit code, message, and a byte-identical file.

use std::fs;
use std::time::{Duration, Instant};

use crate::util::*;

/// Runs against a scripted server and checks the file was not touched.
/// Also gives the token file's path as the error lines name it.
fn fails(replies: Vec<Reply>, extra: &[&str]) -> (Server, Out, String) {
    let server = Server::scripted(replies);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let out = run(&mut refresh_cmd(&server, &file, extra));
    assert_untouched(&dir, &file, TOKEN);
    assert_eq!(out.stdout, "", "nothing goes to stdout on failure");
    (server, out, file.display().to_string())
}

/// Runs against a scripted server whose last reply succeeds; checks the run recovered
/// quietly after exactly `replies.len()` requests.
fn recovers(replies: Vec<Reply>) -> Server {
    let expected = replies.len();
    let server = Server::scripted(replies);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let out = run(&mut refresh_cmd(&server, &file, &["-q"]));
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert_eq!(server.requests().len(), expected);
    server
}

// ---- usage: exit 2, nothing sent ----

fn usage(args: &[&str], env: &[(&str, &str)]) -> Out {
    let server = Server::scripted(vec![]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let mut cmd = sfrefresh();
    cmd.args(["--token-url", &server.url()])
        .args(args)
        .arg(&file);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = run(&mut cmd);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(server.connections(), 0);
    assert_untouched(&dir, &file, TOKEN);
    out
}

#[test]
fn missing_client_id() {
    let out = usage(&[], &[]);
    assert!(out.stderr.starts_with(
        "sfrefresh: error: no client id: pass --client-id or set SF_CLIENT_ID (the Connected App's consumer key)\n"
    ));
}

#[test]
fn bad_flags_and_values() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--client-id", "x", "--bogus"],
            "sfrefresh: error: invalid option '--bogus'\nsfrefresh: hint: run 'sfrefresh --help' for the options\n",
        ),
        (&["--client-id", "x", "--timeout", "soon"], "'--timeout'"),
        (&["--client-id", "x", "--retries", "many"], "'--retries'"),
        (&["--client-id", "x", "--jobs", "0"], "'--jobs'"),
        (
            &["--client-id", "x", "--log-format", "xml"],
            "'--log-format'",
        ),
        (&["--client-id", "x", "--print", "secret"], "'--print'"),
        (
            &["--client-id", "x", "--if-older-than", "yesterday"],
            "'--if-older-than'",
        ),
        (
            &["--client-id", "x", "--client-auth", "basic"],
            "needs a client secret",
        ),
    ];
    for (args, needle) in cases {
        let out = usage(args, &[]);
        assert!(out.stderr.contains(needle), "{args:?}: {}", out.stderr);
    }
}

#[test]
fn unusable_client_secret_file() {
    let dir = TempDir::new();
    let empty = dir.write("empty", " \n");
    let out = usage(
        &[
            "--client-id",
            "x",
            "--client-secret-file",
            empty.to_str().unwrap(),
        ],
        &[],
    );
    assert!(out.stderr.contains(&format!(
        "the client secret file {} is empty",
        empty.display()
    )));
    let out = usage(
        &[
            "--client-id",
            "x",
            "--client-secret-file",
            "/nonexistent/secret",
        ],
        &[],
    );
    assert!(
        out.stderr
            .contains("cannot read the client secret file /nonexistent/secret"),
        "{}",
        out.stderr
    );
}

#[test]
fn bad_token_urls() {
    for (url, needle) in [
        ("ftp://h/t", "must start with https://"),
        ("not a url", "is not a valid URL"),
        ("https://user:pw@h/t", "must not carry credentials"),
    ] {
        let out = usage(&["--client-id", "x", "--token-url", url], &[]);
        assert!(out.stderr.contains(needle), "{url}: {}", out.stderr);
        assert!(!out.stderr.contains("pw@"));
    }
}

// ---- token file: exit 3, nothing sent ----

fn bad_file(content: Option<&str>, expected: &str) {
    let server = Server::scripted(vec![]);
    let dir = TempDir::new();
    let file = dir.path("tok.json");
    if let Some(c) = content {
        fs::write(&file, c).unwrap();
    }
    let out = run(&mut refresh_cmd(&server, &file, &[]));
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        format!(
            "sfrefresh: error: token file {}: {expected}\n",
            file.display()
        )
    );
    assert_eq!(server.connections(), 0);
    if let Some(c) = content {
        assert_untouched(&dir, &file, c);
    }
}

#[test]
fn token_file_problems_name_the_file_and_field() {
    bad_file(None, "does not exist");
    bad_file(Some(""), "is empty");
    bad_file(
        Some("[\"refresh_token\"]"),
        "holds a JSON array, not an object",
    );
    bad_file(
        Some("{\"access_token\":\"a\"}"),
        "has no \"refresh_token\" field",
    );
    bad_file(
        Some("{\"refresh_token\":\"\"}"),
        "\"refresh_token\" is empty",
    );
    bad_file(
        Some("{\"refresh_token\":true}"),
        "\"refresh_token\" is a boolean, not a string",
    );
    bad_file(
        Some("refresh_token=5Aep861"),
        "is not valid JSON (expected value at line 1 column 1)",
    );
    bad_file(
        Some(&format!(
            "{{\"refresh_token\":\"r\",\"pad\":\"{}\"}}",
            "x".repeat(1 << 20)
        )),
        "is larger than 1 MiB, so it is not a token file",
    );
}

#[test]
fn a_directory_stands_for_its_json_files() {
    // (Before many files per run, a directory was exit 3 "not a regular file".)
    let server = Server::scripted(vec![]);
    let dir = TempDir::new();
    dir.write("notes.txt", "not a token");
    let out = run(&mut refresh_cmd(&server, &dir.0, &[]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("no token files"), "{}", out.stderr);
    assert_eq!(server.connections(), 0);
}

// ---- endpoint trouble: exit 4 ----

#[test]
fn connection_refused_is_retried_then_exit_4() {
    let port = free_port();
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let url = format!("http://127.0.0.1:{port}/services/oauth2/token");
    let mut cmd = sfrefresh();
    cmd.args([
        "--client-id",
        "x",
        "--token-url",
        &url,
        "--retries",
        "1",
        "-v",
    ])
    .arg(&file);
    let out = run(&mut cmd);
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(out.stderr.contains("attempt 2 of 2"), "{}", out.stderr);
    assert!(
        out.stderr.ends_with(&format!(
            "sfrefresh: error: {}: cannot reach {url}: connection refused (after 2 attempts)\n",
            file.display()
        )),
        "{}",
        out.stderr
    );
    assert_untouched(&dir, &file, TOKEN);
}

#[test]
fn server_errors_are_retried_until_success() {
    let server = recovers(vec![
        Reply::text(503, "<html>maintenance</html>"),
        Reply::text(500, ""),
        Reply::token("new"),
    ]);
    let reqs = server.requests();
    assert!(
        reqs.iter()
            .all(|r| r.field("refresh_token").as_deref() == Some("5Aep861.refresh-r0"))
    );
}

#[test]
fn server_errors_after_the_retries_are_exit_4_with_endpoint_and_status() {
    let page = Reply::text(503, "<html>\n<b>Down for maintenance</b>\n</html>");
    let (server, out, file) = fails(vec![page.clone(), page.clone(), page], &[]);
    assert_eq!(out.code, 4);
    // Each retry is announced, with what failed and which attempt comes next.
    let url = server.url();
    let page = "<html> <b>Down for maintenance</b> </html>";
    let retry = |n: u32| {
        format!(
            "sfrefresh: {file}: {url} answered HTTP 503: {page}; trying again in WAIT (attempt {n} of 3)\n"
        )
    };
    assert_eq!(
        without_waits(&out.stderr),
        format!(
            "{}{}sfrefresh: error: {file}: {url} answered HTTP 503 (after 3 attempts): {page}\n",
            retry(2),
            retry(3)
        )
    );
}

#[test]
fn retry_after_is_honoured() {
    let started = Instant::now();
    recovers(vec![
        Reply::oauth_error(429, "rate_limit_exceeded", "slow down").header("Retry-After", "1"),
        Reply::token("new"),
    ]);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the retry came before Retry-After"
    );
}

#[test]
fn retry_after_beyond_the_deadline_gives_up_at_once() {
    let (server, out, file) = fails(
        vec![
            Reply::oauth_error(429, "rate_limit_exceeded", "slow down")
                .header("Retry-After", "3600"),
        ],
        &["--timeout", "5"],
    );
    assert_eq!(out.code, 4);
    assert_eq!(server.requests().len(), 1);
    assert_eq!(
        out.stderr,
        format!(
            "sfrefresh: error: {file}: {} answered HTTP 429: rate_limit_exceeded: slow down\n",
            server.url()
        )
    );
}

#[test]
fn concurrent_refresh_answer_is_transient() {
    recovers(vec![
        Reply::oauth_error(
            400,
            "invalid_grant",
            "token request is already being processed",
        ),
        Reply::token("new"),
    ]);
}

#[test]
fn a_dropped_connection_is_retried() {
    recovers(vec![
        Reply::text(200, "").mode(Mode::Close),
        Reply::token("new"),
    ]);
}

#[test]
fn redirects_are_reported_not_followed() {
    let server = Server::scripted(vec![]);
    let location = format!("http://127.0.0.1:{}/evil", server.addr.port());
    let (server, out, file) = fails(
        vec![Reply::text(307, "").header("Location", &location)],
        &[],
    );
    assert_eq!(out.code, 4);
    assert_eq!(
        out.stderr,
        format!(
            "sfrefresh: error: {file}: {} answered HTTP 307, a redirect to {location}\n\
             sfrefresh: hint: redirects are not followed so credentials are never sent elsewhere: \
             point --token-url at the final endpoint\n",
            server.url()
        )
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn unusable_200_answers_are_not_saved() {
    let cases = [
        (
            Reply::text(200, "<html>login</html>"),
            "the body is not JSON (expected value at line 1 column 1)",
        ),
        (
            Reply::json(200, "[\"access_token\"]"),
            "the body is a JSON array, not an object",
        ),
        (
            Reply::json(200, "{\"instance_url\":\"https://x\"}"),
            "the answer has no \"access_token\" field",
        ),
        (
            Reply::json(200, "{\"access_token\":\"a\",\"refresh_token\":\"\"}"),
            "the answer \"refresh_token\" is empty",
        ),
        (
            Reply::json(200, "{\"access_token\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}")
                .mode(Mode::Truncate(20)),
            "the body was cut short (the server closed the connection early)",
        ),
        (
            Reply::json(200, "").mode(Mode::Endless(4 << 20)),
            "the answer is larger than 256 KiB",
        ),
        (
            Reply::json(201, "{\"access_token\":\"a\"}"),
            "a token answer must be HTTP 200, not 201",
        ),
    ];
    for (reply, detail) in cases {
        let (server, out, file) = fails(vec![reply], &[]);
        assert_eq!(out.code, 4, "{detail}");
        let status = if detail.contains("201") { 201 } else { 200 };
        assert_eq!(
            out.stderr,
            format!(
                "sfrefresh: error: {file}: {} answered HTTP {status} but {detail}; nothing was saved\n",
                server.url()
            )
        );
        assert_eq!(
            server.requests().len(),
            1,
            "a 200 is never retried: {detail}"
        );
    }
}

#[test]
fn a_trickling_server_is_cut_off_by_the_timeout() {
    let body = format!("{{\"access_token\":\"{}\"}}", "a".repeat(100));
    let started = Instant::now();
    let (server, out, file) = fails(
        vec![Reply::json(200, &body).mode(Mode::Trickle(Duration::from_millis(500)))],
        &["--timeout", "2", "--retries", "0"],
    );
    let took = started.elapsed();
    assert_eq!(out.code, 4);
    assert_eq!(
        out.stderr,
        format!(
            "sfrefresh: error: {file}: no complete answer from {} within the 2s --timeout\n",
            server.url()
        )
    );
    assert!(took < Duration::from_secs(6), "took {took:?}");
}

#[test]
fn a_silent_server_is_retried_within_the_timeout() {
    let (server, out, file) = fails(
        vec![
            Reply::token("x").mode(Mode::Delay(Duration::from_secs(30))),
            Reply::token("x").mode(Mode::Delay(Duration::from_secs(30))),
        ],
        &["--timeout", "4", "--retries", "1"],
    );
    assert_eq!(out.code, 4);
    assert_eq!(
        server.requests().len(),
        2,
        "the first hung attempt left time for a second"
    );
    assert!(
        out.stderr.ends_with(&format!(
            "sfrefresh: error: {file}: no complete answer from {} within the 4s --timeout \
                 (after 2 attempts)\n",
            server.url()
        )),
        "{}",
        out.stderr
    );
}

// ---- refusals: exit 5, never retried ----

#[test]
fn invalid_grant_shows_error_description_and_a_hint() {
    let (server, out, file) = fails(
        vec![Reply::oauth_error(
            400,
            "invalid_grant",
            "expired access/refresh token",
        )],
        &[],
    );
    assert_eq!(out.code, 5);
    assert_eq!(
        out.stderr,
        format!(
            "sfrefresh: error: {file}: {} refused the refresh (HTTP 400): invalid_grant: expired access/refresh token\n\
             sfrefresh: hint: the refresh token is expired or revoked (or the user is blocked): \
             authorise again to get a new token file\n",
            server.url()
        )
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn other_refusals() {
    for (reply, shown, hint) in [
        (
            Reply::oauth_error(401, "invalid_client", "invalid client credentials"),
            "(HTTP 401): invalid_client: invalid client credentials",
            "check the client secret",
        ),
        (
            Reply::oauth_error(400, "invalid_client_id", "client identifier invalid"),
            "(HTTP 400): invalid_client_id: client identifier invalid",
            "consumer key",
        ),
        (
            Reply::json(400, "{\"error\":\"unsupported_grant_type\"}"),
            "(HTTP 400): unsupported_grant_type\n",
            "refresh_token grant",
        ),
    ] {
        let (server, out, file) = fails(vec![reply], &[]);
        assert_eq!(out.code, 5, "{}", out.stderr);
        assert!(
            out.stderr.contains(&format!(
                "error: {file}: {} refused the refresh {shown}",
                server.url()
            )),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains(hint), "{}", out.stderr);
        assert_eq!(server.requests().len(), 1);
    }
}

#[test]
fn hostile_server_text_is_sanitised_and_cut() {
    let description = format!(
        "\\u001b]0;owned\\u0007\\u001b[2Jclear\\r\\nnext{}",
        "A".repeat(5000)
    );
    let (_, out, _) = fails(
        vec![Reply::oauth_error(400, "invalid_grant", &description)],
        &[],
    );
    assert_eq!(out.code, 5);
    assert!(
        !out.stderr.contains('\x1b') && !out.stderr.contains('\x07') && !out.stderr.contains('\r')
    );
    let first = out.stderr.lines().next().unwrap();
    assert!(
        first.contains("invalid_grant: ]0;owned[2Jclear next"),
        "{first}"
    );
    assert!(first.ends_with("AAA…"), "{first}");
    assert!(first.len() < 600, "{} chars", first.len());
}

#[test]
fn secrets_never_appear_in_error_output() {
    let dir = TempDir::new();
    let secret = dir.write("secret", "SECRET-CLIENT");
    let (_, out, _) = fails(
        vec![Reply::oauth_error(
            400,
            "invalid_grant",
            "expired access/refresh token",
        )],
        &["-v", "--client-secret-file", secret.to_str().unwrap()],
    );
    assert!(
        contains_none(&out.stderr, &["SECRET", "5Aep861", "old-access"]),
        "{}",
        out.stderr
    );
}

// ---- saving ----
