//! TLS trust, endpoint precedence, proxies and the signature check, all on loopback.

use serde_json::json;
use std::fs;

use crate::util::*;

fn cacert() -> String {
    cert_path("ca.pem").to_string_lossy().into_owned()
}

// ---- TLS ----

#[test]
fn trusted_through_cacert_by_ip_and_by_name() {
    for host in ["127.0.0.1", "localhost"] {
        let server = Server::tls("server", vec![Reply::token("tls-access")]);
        let dir = TempDir::new();
        let file = dir.write("tok.json", TOKEN);
        let out = run(&mut refresh_at(
            &server.url_for(host),
            &file,
            &["--cacert", &cacert(), "--print", "token"],
        ));
        assert_eq!(
            (out.code, out.stdout.as_str()),
            (0, "tls-access\n"),
            "{host}: {}",
            out.stderr
        );
        assert_eq!(server.requests().len(), 1);
    }
}

#[test]
fn a_tls_1_2_server_gets_each_request_after_a_full_and_a_resumed_handshake() {
    // The test server closes every connection after one answer, so the second file
    // takes a second connection, which resumes the first one's session: in TLS 1.2
    // the client then has the last word, and its Finished leaves with the request.
    let server = Server::tls12("server", vec![Reply::token("a"), Reply::token("b")]);
    let dir = TempDir::new();
    let one = dir.write("one.json", TOKEN);
    let two = dir.write("two.json", TOKEN);
    let mut cmd = refresh_at(&server.url(), &one, &["--cacert", &cacert(), "--jobs", "1"]);
    let out = run(cmd.arg(&two));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mut tokens: Vec<String> = [&one, &two]
        .iter()
        .map(|f| fs::read_to_string(f).unwrap())
        .map(|t| {
            t.lines()
                .find(|l| l.contains("access_token"))
                .unwrap()
                .to_string()
        })
        .collect();
    tokens.sort();
    assert_eq!(
        tokens,
        ["  \"access_token\": \"a\",", "  \"access_token\": \"b\","]
    );
    assert_eq!(server.requests().len(), 2);
    assert_eq!(server.connections(), 2);
}

#[test]
fn trusted_through_ssl_cert_file() {
    let server = Server::tls("server", vec![Reply::token("tls-access")]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let mut cmd = refresh_at(&server.url(), &file, &["-q"]);
    cmd.env("SSL_CERT_FILE", cacert());
    let out = run(&mut cmd);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
}

fn tls_failure(cert: &str, extra: &[&str]) -> Out {
    let server = Server::tls(cert, vec![Reply::token("never")]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let out = run(&mut refresh_at(&server.url(), &file, extra));
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(
        out.stderr.starts_with(&format!(
            "sfrefresh: error: {}: TLS failure talking to {}: ",
            file.display(),
            server.url()
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("sfrefresh: hint: this is a TLS trust problem"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--cacert"), "{}", out.stderr);
    assert_eq!(
        server.requests().len(),
        0,
        "no request may pass an untrusted handshake"
    );
    assert_untouched(&dir, &file, TOKEN);
    out
}

#[test]
fn untrusted_certificates_are_rejected() {
    // The built-in Mozilla roots do not know the test CA.
    let out = tls_failure("server", &[]);
    assert!(
        out.stderr
            .contains(": the server's certificate is not signed by a trusted CA\n"),
        "{}",
        out.stderr
    );
    // A self-signed certificate is not trusted by the test CA either.
    let out = tls_failure("untrusted", &["--cacert", &cacert()]);
    assert!(out.stderr.contains("self-signed"), "{}", out.stderr);
}

#[test]
fn wrong_host_certificates_are_rejected() {
    let out = tls_failure("wronghost", &["--cacert", &cacert()]);
    assert!(
        out.stderr
            .contains("the server's certificate does not match the host name"),
        "{}",
        out.stderr
    );
}

#[test]
fn cacert_problems_are_usage_errors_naming_the_path() {
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let server = Server::tls("server", vec![]);
    let key = cert_path("server.key").to_string_lossy().into_owned();
    let other = TempDir::new();
    let garbage = other.write(
        "garbage.pem",
        "-----BEGIN CERTIFICATE-----\n@@@\n-----END CERTIFICATE-----\n",
    );
    for (path, problem) in [
        (
            "/nonexistent/ca.pem".to_string(),
            "cannot read the CA file /nonexistent/ca.pem (from --cacert)",
        ),
        (key.clone(), "holds no PEM certificates"),
        (
            garbage.to_string_lossy().into_owned(),
            "is not a valid PEM file",
        ),
    ] {
        let out = run(&mut refresh_at(&server.url(), &file, &["--cacert", &path]));
        assert_eq!(out.code, 2, "{}", out.stderr);
        assert!(
            out.stderr.contains(problem) && out.stderr.contains(&path),
            "{}",
            out.stderr
        );
    }
    let mut cmd = refresh_at(&server.url(), &file, &[]);
    cmd.env("SSL_CERT_FILE", &key);
    let out = run(&mut cmd);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("(from SSL_CERT_FILE) holds no PEM certificates"),
        "{}",
        out.stderr
    );
    assert_eq!(server.connections(), 0);
    assert_untouched(&dir, &file, TOKEN);
}

#[test]
fn plain_http_to_a_network_host_is_refused_before_connecting() {
    // If sfrefresh tried to connect anyway, it would go through this loopback proxy.
    let proxy = ConnectProxy::start();
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let mut cmd = refresh_at(
        "http://token.example.invalid/services/oauth2/token",
        &file,
        &[],
    );
    cmd.env("HTTP_PROXY", proxy.url())
        .env("ALL_PROXY", proxy.url());
    let out = run(&mut cmd);
    assert_eq!(out.code, 2);
    assert!(out.stderr.starts_with(
        "sfrefresh: error: the token URL from --token-url 'http://token.example.invalid/services/oauth2/token' \
         is plain http: tokens are only sent over https (http is allowed for loopback hosts only)\n"
    ), "{}", out.stderr);
    assert!(proxy.seen().is_empty());
    assert_untouched(&dir, &file, TOKEN);
}

// ---- which endpoint ----

/// Runs with `args`/`env` and a token file whose `id` is `id`; returns verbose stderr.
fn endpoint_run(id: &str, args: &[&str], env: &[(&str, String)]) -> Out {
    let dir = TempDir::new();
    let file = dir.write(
        "tok.json",
        &TOKEN.replace("https://login.salesforce.com/id/00Dx/005x", id),
    );
    let mut cmd = sfrefresh();
    cmd.args([
        "--client-id",
        CLIENT_ID,
        "-v",
        "--retries",
        "0",
        "--timeout",
        "10",
    ])
    .args(args)
    .arg(&file);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(&mut cmd)
}

#[test]
fn endpoint_precedence_rung_by_rung() {
    let a = Server::scripted(vec![Reply::token("a")]);
    let b = Server::scripted(vec![Reply::token("b")]);
    let c = Server::scripted(vec![Reply::token("c")]);
    let d = Server::scripted(vec![Reply::token("d")]);
    let proxy = ConnectProxy::start();
    let login_c = format!("http://127.0.0.1:{}/ignored/path", c.addr.port());
    let id_d = format!("http://127.0.0.1:{}/id/00Dx/005x", d.addr.port());
    let everything = [
        ("SF_TOKEN_URL", b.url()),
        ("SF_LOGIN_URL", login_c.clone()),
        ("HTTPS_PROXY", proxy.url()),
    ];

    // 1. --token-url beats everything.
    let out = endpoint_run(
        &id_d,
        &[
            "--token-url",
            &a.url(),
            "--sandbox",
            "--login-url",
            &login_c,
        ],
        &everything,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains(&format!("token endpoint {} (from --token-url)", a.url()))
    );
    // 2. SF_TOKEN_URL beats --sandbox, the login URL and the id.
    let out = endpoint_run(&id_d, &["--sandbox"], &everything);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains(&format!("token endpoint {} (from SF_TOKEN_URL)", b.url()))
    );
    // 3. --sandbox beats the login URL and the id (reached through the proxy, which refuses).
    let out = endpoint_run(&id_d, &["--sandbox"], &everything[1..]);
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "token endpoint https://test.salesforce.com/services/oauth2/token (from --sandbox)"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(proxy.targets(), ["test.salesforce.com:443"]);
    // 4. --login-url (and SF_LOGIN_URL) beat the id; the path is replaced by the token path.
    let c_url = format!("http://127.0.0.1:{}/services/oauth2/token", c.addr.port());
    let out = endpoint_run(&id_d, &[], &everything[1..]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains(&format!("token endpoint {c_url} (from SF_LOGIN_URL)")),
        "{}",
        out.stderr
    );
    assert_eq!(c.requests()[0].path, "/services/oauth2/token");
    // 5. The origin of the file's id.
    let out = endpoint_run(&id_d, &[], &everything[2..]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains(&format!(
        "token endpoint {} (from the token file's \"id\")",
        d.url()
    )));
    // 6. Production, when the id is no source (plain http to a network host).
    let out = endpoint_run("http://evil.example/id/00Dx/005x", &[], &everything[2..]);
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "token endpoint https://login.salesforce.com/services/oauth2/token (from default)"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(
        proxy.targets(),
        ["test.salesforce.com:443", "login.salesforce.com:443"]
    );
    for s in [&a, &b, &c, &d] {
        assert_eq!(s.requests().len(), 1);
    }
}

#[test]
fn a_my_domain_id_is_used_as_is_over_https() {
    let proxy = ConnectProxy::start();
    let out = endpoint_run(
        "https://acme--dev.sandbox.my.salesforce.com/id/00Dx/005x",
        &[],
        &[("HTTPS_PROXY", proxy.url())],
    );
    assert_eq!(out.code, 4);
    assert_eq!(proxy.targets(), ["acme--dev.sandbox.my.salesforce.com:443"]);
}

// ---- proxies ----

#[test]
fn https_proxy_tunnels_and_no_proxy_bypasses() {
    let server = Server::tls(
        "server",
        vec![
            Reply::token("via-proxy"),
            Reply::token("direct"),
            Reply::token("flag"),
        ],
    );
    let proxy = ConnectProxy::start();
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let url = server.url_for("localhost");
    let base = ["--cacert", &cacert(), "--print", "token", "-q"];

    let mut cmd = refresh_at(&url, &file, &base);
    cmd.env("HTTPS_PROXY", proxy.url());
    let out = run(&mut cmd);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "via-proxy\n"),
        "{}",
        out.stderr
    );
    assert_eq!(
        proxy.targets(),
        [format!("localhost:{}", server.addr.port())]
    );

    for no_proxy in ["localhost", "*", "example.com,.localhost"] {
        let mut cmd = refresh_at(
            &url,
            &file,
            &[
                "--cacert",
                &cacert(),
                "-q",
                "--timeout",
                "3",
                "--retries",
                "0",
            ],
        );
        cmd.env("HTTPS_PROXY", proxy.url())
            .env("NO_PROXY", no_proxy);
        let _ = run(&mut cmd);
        assert_eq!(
            proxy.targets().len(),
            1,
            "NO_PROXY={no_proxy} must bypass the proxy"
        );
    }
    assert_eq!(server.requests().len(), 4);

    // --proxy beats the environment; --no-proxy ignores it.
    let other = ConnectProxy::start();
    let server = Server::tls("server", vec![Reply::token("a"), Reply::token("b")]);
    let url = server.url_for("localhost");
    let mut cmd = refresh_at(
        &url,
        &file,
        &["--cacert", &cacert(), "-q", "--proxy", &other.url()],
    );
    cmd.env("HTTPS_PROXY", proxy.url());
    assert_eq!(run(&mut cmd).code, 0);
    assert_eq!(other.targets().len(), 1);
    let mut cmd = refresh_at(&url, &file, &["--cacert", &cacert(), "-q", "--no-proxy"]);
    cmd.env("HTTPS_PROXY", proxy.url())
        .env("ALL_PROXY", proxy.url());
    assert_eq!(run(&mut cmd).code, 0);
    assert_eq!((proxy.targets().len(), other.targets().len()), (1, 1));
}

#[test]
fn all_proxy_is_the_fallback_and_credentials_are_never_printed() {
    let server = Server::tls("server", vec![Reply::token("a")]);
    let proxy = ConnectProxy::start();
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let with_creds = format!("http://ops:pr0xy-pw@127.0.0.1:{}", proxy.addr.port());
    let mut cmd = refresh_at(&server.url(), &file, &["--cacert", &cacert(), "-v"]);
    cmd.env("ALL_PROXY", &with_creds);
    let out = run(&mut cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "connecting through proxy http://***@127.0.0.1:{} (from ALL_PROXY)",
            proxy.addr.port()
        )),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("pr0xy-pw"));
    // base64("ops:pr0xy-pw")
    assert_eq!(proxy.seen()[0].1.as_deref(), Some("Basic b3BzOnByMHh5LXB3"));
}

#[test]
fn a_bad_proxy_is_a_usage_error() {
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let out = run(&mut refresh_at(
        "https://127.0.0.1:9/t",
        &file,
        &["--proxy", "socks5://u:secretpw@h:1"],
    ));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("the proxy socks5://***@h:1 (from --proxy) is not supported"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("secretpw"));
}

// ---- signature ----

const SIGNED_ID: &str = "https://login.salesforce.com/id/00Dx/005x";
const SIGNED_AT: &str = "1708058728442";
/// Base64(HMAC-SHA256("s3cret", SIGNED_ID + SIGNED_AT)), computed with openssl.
const GOOD_SIGNATURE: &str = "LvoG4PIH0w1qc0+8ytXbORruDZesQr37PzcSzp1+EmE=";

/// Base64(HMAC-SHA256("s3cret", TOKEN's id + issued_at)): the stored signature that
/// `--verify-signature` checks before sending.
const STORED_SIGNATURE: &str = "9pK91lmPX96aCan1JsRltr/a3GtXp1EXej/e/oMLhw8=";

fn signed_token() -> String {
    TOKEN.replace("b2xk", STORED_SIGNATURE)
}

fn signed(signature: &str) -> Reply {
    Reply::json(
        200,
        &format!(
            r#"{{"access_token":"signed-access","id":"{SIGNED_ID}","issued_at":"{SIGNED_AT}","signature":"{signature}"}}"#
        ),
    )
}

#[test]
fn a_valid_signature_is_accepted() {
    let server = Server::scripted(vec![signed(GOOD_SIGNATURE)]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", &signed_token());
    let mut cmd = refresh_cmd(&server, &file, &["--verify-signature", "-v"]);
    cmd.env("SF_CLIENT_SECRET", "s3cret");
    let out = run(&mut cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("signature verified"));
    let saved: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(saved["signature"], GOOD_SIGNATURE);
}

#[test]
fn a_tampered_signature_is_rejected_nothing_saved_and_the_answer_rescued() {
    let tampered = GOOD_SIGNATURE.replace("Lvo", "Lvp");
    let (server, dir) = (Server::scripted(vec![signed(&tampered)]), TempDir::new());
    let token = signed_token();
    let file = dir.write("tok.json", &token);
    let mut cmd = refresh_cmd(&server, &file, &["--verify-signature"]);
    cmd.env("SF_CLIENT_SECRET", "s3cret");
    let out = run(&mut cmd);
    assert_eq!(out.code, 4);
    let rescue = rescue_file(&dir);
    assert_eq!(
        out.stderr,
        format!(
            "sfrefresh: the server's answer (which may hold the only copy of a new refresh token) \
             was saved to {} (mode 0600); keep it until the token file works again\n\
             sfrefresh: error: {}: signature mismatch in the answer from {}: the answer may have been tampered with\n\
             sfrefresh: hint: check that the client secret belongs to this Connected App or External \
             Client App; nothing was saved\n",
            rescue.display(),
            file.display(),
            server.url()
        )
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), token);
    assert_eq!(
        fs::read_to_string(&rescue).unwrap(),
        format!(
            "{{\"access_token\":\"signed-access\",\"id\":\"{SIGNED_ID}\",\"issued_at\":\"{SIGNED_AT}\",\"signature\":\"{tampered}\"}}\n"
        )
    );
    assert_eq!(server.requests().len(), 1, "a mismatch is not retried");
}

#[test]
fn a_stored_signature_that_does_not_match_the_secret_stops_before_sending() {
    let server = Server::scripted(vec![]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", &signed_token());
    let mut cmd = refresh_cmd(&server, &file, &["--verify-signature"]);
    cmd.env("SF_CLIENT_SECRET", "not-the-secret");
    let out = run(&mut cmd);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        format!(
            "sfrefresh: error: --verify-signature: the signature stored in {} does not match \
             the client secret: the secret belongs to another app, or the file was altered; \
             nothing was sent\n",
            file.display()
        )
    );
    assert_eq!(server.connections(), 0);
    assert_untouched(&dir, &file, &signed_token());
}

/// Issue 20: with nothing to check, `-v` names exactly what the token file and the
/// answer lack (one, two or three fields), or which field is not a string.
#[test]
fn verify_signature_says_exactly_which_fields_are_missing() {
    let answer = |fields: &[(&str, serde_json::Value)]| {
        let mut doc = serde_json::json!({"access_token": "signed-access"});
        for (k, v) in fields {
            doc[*k] = v.clone();
        }
        Reply::json(200, &doc.to_string())
    };
    let (id, at) = (json!(SIGNED_ID), json!(SIGNED_AT));
    for (drop, change, reply, stored, answered) in [
        (
            &["signature"][..],
            None,
            answer(&[("id", id.clone()), ("issued_at", at.clone())]),
            "the token file has no signature to check the secret with",
            "the answer has no signature to verify",
        ),
        (
            &["issued_at", "signature"][..],
            None,
            answer(&[("issued_at", at.clone())]),
            "the token file has no issued_at or signature to check the secret with",
            "the answer has no id or signature to verify",
        ),
        (
            &["id", "issued_at", "signature"][..],
            None,
            answer(&[]),
            "the token file has no id, issued_at or signature to check the secret with",
            "the answer has no id, issued_at or signature to verify",
        ),
        (
            &[][..],
            Some(("issued_at", json!(1700000000000u64))),
            answer(&[
                ("id", json!(5)),
                ("issued_at", json!(17)),
                ("signature", json!("c2ln")),
            ]),
            "the token file's issued_at is not a string, so the secret cannot be checked",
            "the answer's id and issued_at are not strings, so it cannot be verified",
        ),
        (
            &["id"][..],
            Some(("issued_at", json!(1700000000000u64))),
            answer(&[("id", id.clone()), ("issued_at", json!(17))]),
            "the token file has no id and its issued_at is not a string, so the secret cannot \
             be checked",
            "the answer has no signature and its issued_at is not a string, so it cannot be \
             verified",
        ),
    ] {
        let mut doc: serde_json::Value = serde_json::from_str(TOKEN).unwrap();
        let object = doc.as_object_mut().unwrap();
        for field in drop {
            object.remove(*field);
        }
        if let Some((k, v)) = change {
            object.insert(k.into(), v);
        }
        let server = Server::scripted(vec![reply]);
        let dir = TempDir::new();
        let file = dir.write("tok.json", &format!("{doc:#}\n"));
        let mut cmd = refresh_cmd(&server, &file, &["--verify-signature", "-v"]);
        cmd.env("SF_CLIENT_SECRET", "s3cret");
        let out = run(&mut cmd);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let said: Vec<&str> = out
            .stderr
            .lines()
            .filter(|l| {
                ["the token file", "the answer"]
                    .iter()
                    .any(|s| l.contains(s))
            })
            .collect();
        assert_eq!(
            said,
            [
                format!("sfrefresh: {stored}"),
                format!("sfrefresh: {answered}")
            ],
            "{drop:?}\n{}",
            out.stderr
        );
        assert_eq!(server.requests().len(), 1);
    }
}

#[test]
fn verify_signature_without_a_secret_is_a_usage_error() {
    let server = Server::scripted(vec![]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let out = run(&mut refresh_cmd(&server, &file, &["--verify-signature"]));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("--verify-signature needs the client secret"),
        "{}",
        out.stderr
    );
    assert_eq!(server.connections(), 0);
}
