//! Issue 7: no token is lost or leaked, whatever the server, the proxy or the disk does.
//! Each test names the fault and checks the exit code, the message, the file bytes and
//! what the server (or proxy) received.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::util::*;

/// A 200 whose head ureq cannot parse, after the status line arrived.
fn raw_200(head_lines: &str) -> Reply {
    let body = r#"{"access_token":"new","refresh_token":"5Aep861.rotated"}"#;
    Reply::text(200, "").mode(Mode::Raw(
        format!(
            "HTTP/1.1 200 OK\r\n{head_lines}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    ))
}

// ---- 1. an answer that arrived is never replayed ----

#[test]
fn an_unparseable_head_after_a_status_line_is_not_retried() {
    let many: String = (0..200).map(|i| format!("X-H{i}: v\r\n")).collect();
    for (what, lines) in [
        ("space before colon", "Bad-Header : x\r\n".to_string()),
        ("obs-fold", "X-Folded: a\r\n  continued\r\n".to_string()),
        ("NUL in a value", "X-Nul: a\0b\r\n".to_string()),
        ("too many headers", many),
    ] {
        let server = Server::scripted(vec![raw_200(&lines), Reply::token("never")]);
        let dir = TempDir::new();
        let file = dir.write("tok.json", TOKEN);
        let out = run(&mut refresh_cmd(&server, &file, &["--retries", "2"]));
        assert_eq!(out.code, 4, "{what}: {}", out.stderr);
        assert_eq!(
            server.requests().len(),
            1,
            "{what}: the request was replayed"
        );
        let first = out.stderr.lines().next().unwrap_or_default().to_string();
        assert!(
            first.starts_with(&format!(
                "sfrefresh: error: {}: {} answered, but the answer could not be read (",
                file.display(),
                server.url()
            )),
            "{what}: {}",
            out.stderr
        );
        assert!(
            first.ends_with(
                "; nothing was saved, and a server that rotates refresh tokens may already \
                 have consumed the refresh token"
            ),
            "{what}: {first}"
        );
        assert!(!out.stderr.contains("HTTP 0"), "{what}: {}", out.stderr);
        assert!(
            out.stderr
                .contains("sfrefresh: hint: do not simply run it again")
        );
        assert_untouched(&dir, &file, TOKEN);
    }
}

#[test]
fn a_head_cut_off_after_the_status_line_is_not_retried() {
    let cut = Reply::text(200, "").mode(Mode::Raw(b"HTTP/1.1 200 OK\r\nContent-Ty".to_vec()));
    let server = Server::scripted(vec![cut, Reply::token("never")]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let out = run(&mut refresh_cmd(&server, &file, &[]));
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert_eq!(server.requests().len(), 1);
    assert!(
        out.stderr
            .contains("answered, but the answer could not be read"),
        "{}",
        out.stderr
    );
    assert_untouched(&dir, &file, TOKEN);
}

#[test]
fn a_transient_answer_with_a_broken_head_is_still_not_retried_but_a_silent_close_is() {
    // Nothing arrived: safe to send again.
    let server = Server::scripted(vec![
        Reply::text(200, "").mode(Mode::Close),
        Reply::token("new"),
    ]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let out = run(&mut refresh_cmd(&server, &file, &["-q"]));
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert_eq!(server.requests().len(), 2);
}

// ---- 2. a 200 that cannot be kept leaves a rescue file ----

#[test]
fn a_bad_200_that_carries_a_refresh_token_is_rescued() {
    let answer = r#"{"refresh_token":"5Aep861.rotated","instance_url":"https://x"}"#;
    let server = Server::scripted(vec![Reply::json(200, answer)]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let out = run(&mut refresh_cmd(&server, &file, &[]));
    assert_eq!(out.code, 4, "{}", out.stderr);
    let rescue = rescue_file(&dir);
    assert_eq!(fs::read_to_string(&rescue).unwrap(), format!("{answer}\n"));
    assert_eq!(
        out.stderr,
        format!(
            "sfrefresh: the server's answer (which may hold the only copy of a new refresh \
             token) was saved to {} (mode 0600); keep it until the token file works again\n\
             sfrefresh: error: {}: {} answered HTTP 200 but the answer has no \"access_token\" \
             field; nothing was saved\n",
            rescue.display(),
            file.display(),
            server.url()
        )
    );
    assert!(!out.stderr.contains("5Aep861"));
    assert_eq!(fs::read_to_string(&file).unwrap(), TOKEN);
}

/// Runs a refresh whose answer is delayed; while the server waits, `meanwhile` breaks
/// the disk under the running sfrefresh.
fn break_during_request(
    file: &std::path::Path,
    extra_env: &[(&str, &std::path::Path)],
    meanwhile: impl FnOnce(),
) -> (Server, Out) {
    let answer = r#"{"access_token":"new","refresh_token":"5Aep861.rotated"}"#;
    let server = Server::scripted(vec![
        Reply::json(200, answer).mode(Mode::Delay(Duration::from_millis(700))),
    ]);
    let mut cmd = refresh_cmd(&server, file, &[]);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    let started = Instant::now();
    while server.requests().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "no request arrived"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    meanwhile();
    (server, child.wait_with_output().unwrap().into())
}

#[test]
fn a_save_that_fails_after_the_answer_leaves_a_rescue_file_beside_the_token_file() {
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    // Replace the token file by a non-empty directory: the final rename must fail.
    let (server, out) = break_during_request(&file, &[], || {
        fs::rename(&file, dir.path("tok.json.moved")).unwrap();
        fs::create_dir(&file).unwrap();
        fs::write(file.join("x"), "x").unwrap();
    });
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(server.requests().len(), 1);
    let rescue = rescue_file(&dir);
    assert_eq!(
        fs::read_to_string(&rescue).unwrap(),
        "{\"access_token\":\"new\",\"refresh_token\":\"5Aep861.rotated\"}\n"
    );
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stderr);
    assert!(
        lines[0].contains(&rescue.display().to_string()),
        "{}",
        out.stderr
    );
    assert!(
        lines[1].starts_with(&format!(
            "sfrefresh: error: token file {}: cannot be saved:",
            file.display()
        )),
        "{}",
        out.stderr
    );
    assert!(
        lines[1].ends_with(
            "; the file was not changed; the server rotated the refresh token and the new one \
             could not be kept in the file, so use the rescue file or authorise again"
        ),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("5Aep861"));
}

#[test]
fn the_rescue_falls_back_to_xdg_runtime_dir() {
    let dir = TempDir::new();
    let runtime = TempDir::new();
    fs::create_dir(dir.path("d")).unwrap();
    let sub = dir.path("d");
    let file = sub.join("tok.json");
    fs::write(&file, TOKEN).unwrap();
    // A token file inside d/, then d/ itself replaced by a file: neither the save nor
    // a rescue beside it can work any more.
    let answer = r#"{"access_token":"new","refresh_token":"5Aep861.rotated"}"#;
    let (_, out) = break_during_request(&file, &[("XDG_RUNTIME_DIR", &runtime.0)], || {
        fs::rename(&sub, dir.path("d.moved")).unwrap();
        fs::write(&sub, "not a directory").unwrap();
    });
    assert_eq!(out.code, 3, "{}", out.stderr);
    let names = runtime.names();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].starts_with("sfrefresh-rescue-tok.json-") && names[0].ends_with(".json"));
    let rescue = runtime.path(&names[0]);
    assert_eq!(fs::read_to_string(&rescue).unwrap(), format!("{answer}\n"));
    assert_eq!(
        fs::metadata(&rescue).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(
        out.stderr.contains(&rescue.display().to_string()),
        "{}",
        out.stderr
    );
}

// ---- 3. the pre-send check proves the save will work ----

/// Runs `cmd` under `sh -c` with a file-size limit (ulimit -f, in 512-byte blocks).
fn with_file_limit(cmd: std::process::Command, blocks: u32) -> Out {
    let mut sh = std::process::Command::new("sh");
    sh.env_clear().args([
        "-c",
        &format!(
            "trap '' XFSZ; ulimit -f {blocks}; exec {}",
            quoted_argv(&cmd)
        ),
    ]);
    run(&mut sh)
}

/// `cmd`'s program and arguments, single-quoted for `sh -c`.
fn quoted_argv(cmd: &std::process::Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| format!("'{}'", a.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn no_room_for_the_new_file_stops_before_sending() {
    // As root, permissions cannot make a save fail, but a file-size limit can.
    let server = Server::scripted(vec![Reply::token("never")]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let out = with_file_limit(refresh_cmd(&server, &file, &[]), 0);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        format!(
            "sfrefresh: error: token file {}: cannot be saved: the file-size limit (ulimit -f) \
             is smaller than the 65 KiB a save needs; nothing was sent\n",
            file.display()
        )
    );
    assert_eq!(server.connections(), 0);
    assert_untouched(&dir, &file, TOKEN);
}

#[test]
fn a_fifo_socket_or_device_is_refused_at_once() {
    let server = Server::scripted(vec![]);
    let dir = TempDir::new();
    let fifo = dir.path("fifo.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let socket = dir.path("sock.json");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    for path in [
        fifo.as_path(),
        socket.as_path(),
        std::path::Path::new("/dev/null"),
    ] {
        let started = Instant::now();
        let out = run(&mut refresh_cmd(&server, path, &["--timeout", "30"]));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{path:?} blocked"
        );
        assert_eq!(out.code, 3, "{path:?}: {}", out.stderr);
        assert_eq!(
            out.stderr,
            format!(
                "sfrefresh: error: token file {}: is not a regular file\n",
                path.display()
            )
        );
    }
    assert_eq!(server.connections(), 0);
}

#[test]
fn a_240_byte_file_name_is_refreshed() {
    let server = Server::scripted(vec![Reply::token("new")]);
    let dir = TempDir::new();
    let name = format!("{}.json", "t".repeat(235));
    assert_eq!(name.len(), 240);
    let file = dir.write(&name, TOKEN);
    let out = run(&mut refresh_cmd(&server, &file, &["-q"]));
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert!(
        fs::read_to_string(&file)
            .unwrap()
            .contains("\"access_token\": \"new\"")
    );
    assert_eq!(dir.names(), vec![name]);
}

#[test]
fn a_sticky_directory_whose_file_belongs_to_another_user_stops_before_sending() {
    let server = Server::scripted(vec![Reply::token("never")]);
    let dir = TempDir::new();
    fs::set_permissions(&dir.0, fs::Permissions::from_mode(0o1777)).unwrap();
    let file = dir.write("tok.json", TOKEN);
    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
    std::os::unix::fs::chown(&file, Some(65534), Some(65534)).unwrap();
    // Run as a third user (neither the file's owner nor the directory's).
    let cmd = refresh_cmd(&server, &file, &[]);
    let mut su = std::process::Command::new("setpriv");
    su.env_clear()
        .args(["--reuid=65533", "--regid=65533", "--clear-groups", "--"])
        .arg(cmd.get_program())
        .args(cmd.get_args());
    let out = run(&mut su);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        format!(
            "sfrefresh: error: token file {}: cannot be saved: its directory {} is sticky and \
             the file belongs to another user (uid 65534), so it cannot be replaced; nothing \
             was sent\n",
            file.display(),
            dir.0.display()
        )
    );
    assert_eq!(server.connections(), 0);
    assert_untouched(&dir, &file, TOKEN);
}

/// A compact token file of about `kib` KiB, mostly small numbers (which pretty printing
/// inflates the most).
fn big_token(kib: usize) -> String {
    let numbers = vec!["1"; kib * 512].join(",");
    format!(r#"{{"access_token":"old","refresh_token":"5Aep861.r0","bulk":[{numbers}]}}"#)
}

#[test]
fn a_large_compact_file_is_saved_so_that_it_can_be_read_again() {
    let server = Server::scripted(vec![Reply::token("new"), Reply::token("newer")]);
    let dir = TempDir::new();
    let text = big_token(900);
    assert!(text.len() > 900 * 1024 && text.len() < 1024 * 1024);
    let file = dir.write("tok.json", &text);
    let out = run(&mut refresh_cmd(&server, &file, &["-q"]));
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    let saved = fs::read(&file).unwrap();
    assert!(saved.len() <= 1024 * 1024, "{} bytes written", saved.len());
    // The next run reads what this one wrote.
    let out = run(&mut refresh_cmd(&server, &file, &["-q"]));
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    let doc: serde_json::Value = serde_json::from_slice(&fs::read(&file).unwrap()).unwrap();
    assert_eq!(doc["access_token"], "newer");
    assert_eq!(doc["bulk"].as_array().unwrap().len(), 900 * 512);
}

#[test]
fn a_file_too_large_to_grow_is_refused_before_sending() {
    let server = Server::scripted(vec![Reply::token("never")]);
    let dir = TempDir::new();
    let text = big_token(1000);
    assert!(text.len() < 1024 * 1024);
    let file = dir.write("tok.json", &text);
    let out = run(&mut refresh_cmd(&server, &file, &[]));
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.starts_with(&format!(
            "sfrefresh: error: token file {}: is too large to refresh safely:",
            file.display()
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.ends_with("; nothing was sent\n"),
        "{}",
        out.stderr
    );
    assert_eq!(server.connections(), 0);
}

// ---- 4. output never kills the process or carries a secret ----

#[test]
fn a_broken_stderr_does_not_abort_a_successful_refresh() {
    let server = Server::scripted(vec![Reply::token("new")]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut cmd = refresh_cmd(&server, &file, &["-v"]);
    cmd.stderr(Stdio::from(writer)).stdout(Stdio::null());
    let status = cmd.status().unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(
        fs::read_to_string(&file)
            .unwrap()
            .contains("\"access_token\": \"new\"")
    );
}

#[test]
fn a_closed_stderr_does_not_abort_an_error_either() {
    let dir = TempDir::new();
    let file = dir.write("tok.json", "not json");
    // The program and its arguments as util::sfrefresh() builds them (an emulator
    // first when the suite runs a binary of another architecture).
    let status = std::process::Command::new("sh")
        .env_clear()
        .arg("-c")
        .arg(format!(
            "exec 2>&-; exec {} --client-id x '{}'",
            quoted_argv(&sfrefresh()),
            file.display()
        ))
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(3));
}

#[test]
fn a_failed_print_is_exit_3_and_names_the_saved_file() {
    let server = Server::scripted(vec![Reply::token("new")]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let mut cmd = refresh_cmd(&server, &file, &["--print", "token", "-q"]);
    cmd.stdout(Stdio::from(full)).stderr(Stdio::piped());
    let out: Out = cmd.output().unwrap().into();
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        format!(
            "sfrefresh: error: the output could not be written to stdout: no space left on \
             device (the token file {} is saved)\n",
            file.display()
        )
    );
    assert!(
        fs::read_to_string(&file)
            .unwrap()
            .contains("\"access_token\": \"new\"")
    );
}

#[test]
fn print_token_refuses_control_characters_but_saves_the_file() {
    let server = Server::scripted(vec![Reply::json(
        200,
        r#"{"access_token":"bad\u001b[2Jtoken"}"#,
    )]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let out = run(&mut refresh_cmd(&server, &file, &["--print", "token"]));
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        format!(
            "sfrefresh: error: the access token has characters outside RFC 6749's VSCHAR set \
             (control or non-ASCII characters), so it is not printed (the token file {} is \
             saved)\n",
            file.display()
        )
    );
    assert!(!out.stderr.contains('\x1b'));
    let saved: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(saved["access_token"], "bad\u{1b}[2Jtoken");
}

#[test]
fn server_text_never_echoes_a_secret_in_any_spelling() {
    let dir = TempDir::new();
    let secret = dir.write("secret", "s3cr/t+val=ue");
    // An error page that echoes the request: refresh token and secret, raw and encoded.
    let page = "<html>bad request: refresh_token=5Aep861.refresh-r0&client_secret=s3cr%2Ft%2Bval%3Due \
                raw 5Aep861.refresh-r0 s3cr/t+val=ue old 00Dx!AQ.old-access</html>";
    let server = Server::scripted(vec![Reply::text(400, page)]);
    let file = dir.write("tok.json", TOKEN);
    let out = run(&mut refresh_cmd(
        &server,
        &file,
        &["--client-secret-file", secret.to_str().unwrap()],
    ));
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(
        contains_none(&out.stderr, &["5Aep861", "s3cr", "old-access", "val%3D"]),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("[redacted]"), "{}", out.stderr);
}

// ---- 5. proxies ----

#[test]
fn a_proxy_407_is_not_retried_and_names_the_proxy() {
    let proxy = ConnectProxy::with_auth("Basic never");
    let server = Server::tls("server", vec![]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let proxy_url = format!("http://user:p%23a@127.0.0.1:{}", proxy.addr.port());
    let out = run(&mut refresh_cmd(
        &server,
        &file,
        &[
            "--cacert",
            cert_path("ca.pem").to_str().unwrap(),
            "--proxy",
            &proxy_url,
            "--retries",
            "2",
        ],
    ));
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        format!(
            "sfrefresh: error: {}: proxy authentication failed at http://***@127.0.0.1:{} (HTTP 407)\n\
             sfrefresh: hint: check the proxy user and password (http://user:password@host:port; \
             percent-encode special characters); it was not retried so a wrong password cannot \
             lock the account\n",
            file.display(),
            proxy.addr.port()
        )
    );
    assert_eq!(proxy.seen().len(), 1, "a 407 must not be retried");
    assert_eq!(server.connections(), 0);
    assert_untouched(&dir, &file, TOKEN);
}

#[test]
fn an_unreachable_proxy_is_named_not_the_endpoint() {
    let port = free_port();
    let server = Server::tls("server", vec![]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let ca = cert_path("ca.pem");
    let mut cmd = refresh_cmd(
        &server,
        &file,
        &["--cacert", ca.to_str().unwrap(), "--retries", "1"],
    );
    let out = run(cmd.env("https_proxy", format!("http://u:pw@127.0.0.1:{port}")));
    assert_eq!(out.code, 4, "{}", out.stderr);
    let file = file.display();
    assert_eq!(
        without_waits(&out.stderr),
        format!(
            "sfrefresh: {file}: cannot reach the proxy http://***@127.0.0.1:{port}: connection \
             refused; trying again in WAIT (attempt 2 of 2)\n\
             sfrefresh: error: {file}: cannot reach the proxy http://***@127.0.0.1:{port}: \
             connection refused (after 2 attempts)\n\
             sfrefresh: hint: check the proxy address, or bypass it with --no-proxy or NO_PROXY\n"
        )
    );
    assert_eq!(server.connections(), 0);
}

#[test]
fn a_proxy_password_with_special_characters_is_never_printed() {
    let expected = format!("Basic {}", base64_of("me:p#a/s?s@x"));
    let proxy = ConnectProxy::with_auth(&expected);
    let server = Server::tls("server", vec![Reply::token("new"), Reply::token("newer")]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    for proxy_url in [
        format!("http://me:p#a/s?s@x@127.0.0.1:{}", proxy.addr.port()),
        format!(
            "http://me:p%23a%2Fs%3Fs%40x@127.0.0.1:{}",
            proxy.addr.port()
        ),
    ] {
        let out = run(&mut refresh_cmd(
            &server,
            &file,
            &[
                "--cacert",
                cert_path("ca.pem").to_str().unwrap(),
                "--proxy",
                &proxy_url,
                "-v",
            ],
        ));
        assert!(
            contains_none(&out.stderr, &["p#a", "p%23", "s?s", "%3Fs", "a/s"]),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr
                .contains(&format!("http://***@127.0.0.1:{}", proxy.addr.port()))
        );
        if out.code == 0 {
            continue;
        }
        panic!("{}", out.stderr);
    }
    // The right credentials reached the proxy, decoded the same both ways.
    assert!(
        proxy
            .seen()
            .iter()
            .all(|(_, auth)| auth.as_deref() == Some(expected.as_str()))
    );
}

fn base64_of(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[test]
fn stdin_that_never_ends_is_cut_off_by_the_timeout() {
    let server = Server::scripted(vec![]);
    let mut cmd = sfrefresh();
    cmd.args([
        "--client-id",
        CLIENT_ID,
        "--token-url",
        &server.url(),
        "--timeout",
        "1",
        "-",
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn().unwrap();
    // Hold the pipe open without writing a whole token: the writer never closes.
    let mut stdin = child.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, b"{\"refresh_token\":").unwrap();
    let out: Out = child.wait_with_output().unwrap().into();
    drop(stdin);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        "sfrefresh: error: token file - (stdin): no complete token arrived within the 1s --timeout\n"
    );
    assert_eq!(server.connections(), 0);
}
