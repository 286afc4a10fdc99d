//! Issue 8: every message a new user reads is right: it blames the right thing, names
//! the flag, file, URL or proxy involved, and says what to do.

use std::fs;
use std::time::{Duration, Instant};

use crate::util::*;

fn usage_out(args: &[&str]) -> Out {
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let out = run(sfrefresh().args(args).arg(&file));
    assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
    assert_untouched(&dir, &file, TOKEN);
    out
}

#[test]
fn unknown_flags_suggest_the_nearest_real_one_without_a_generic_hint() {
    for (typed, meant) in [
        ("--client_id", "--client-id"),
        ("--timout", "--timeout"),
        ("--if_older_than", "--if-older-than"),
        ("--verbos", "--verbose"),
    ] {
        let out = usage_out(&[typed, "x"]);
        assert_eq!(
            out.stderr,
            format!("sfrefresh: error: invalid option '{typed}': did you mean '{meant}'?\n")
        );
    }
}

#[test]
fn there_is_no_client_secret_flag_and_the_message_says_why() {
    let out = usage_out(&["--client-id", "x", "--client-secret", "s3cret"]);
    assert_eq!(
        out.stderr,
        "sfrefresh: error: there is no '--client-secret' option: a secret on the command line \
         can be read by every user of the machine (ps, /proc); use --client-secret-file PATH \
         or the SF_CLIENT_SECRET environment variable\n"
    );
    assert!(!out.stderr.contains("s3cret"));
}

#[test]
fn a_flag_far_from_any_real_one_gets_the_help_hint() {
    let out = usage_out(&["--frobnicate"]);
    assert_eq!(
        out.stderr,
        "sfrefresh: error: invalid option '--frobnicate'\n\
         sfrefresh: hint: run 'sfrefresh --help' for the options\n"
    );
}

#[test]
fn a_page_or_404_405_from_the_token_url_is_a_wrong_endpoint_not_a_refusal() {
    for (reply, shown) in [
        (
            Reply::text(404, "<h1>Not Found</h1>"),
            "HTTP 404: <h1>Not Found</h1>",
        ),
        (Reply::text(405, ""), "HTTP 405"),
        (
            Reply::text(400, "<html><body>Bad Request</body></html>"),
            "HTTP 400: <html><body>Bad Request</body></html>",
        ),
        (Reply::json(404, r#"{"error":"not_found"}"#), "HTTP 404"),
    ] {
        let server = Server::scripted(vec![reply]);
        let dir = TempDir::new();
        let file = dir.write("tok.json", TOKEN);
        let out = run(&mut refresh_cmd(&server, &file, &[]));
        assert_eq!(out.code, 4, "{}", out.stderr);
        assert_eq!(
            out.stderr,
            format!(
                "sfrefresh: error: {}: {} is not a token endpoint: it answered {shown}\n\
                 sfrefresh: hint: this URL is not an OAuth token endpoint: check --token-url, \
                 --login-url (or SF_TOKEN_URL / SF_LOGIN_URL) and the token file's \"id\"\n",
                file.display(),
                server.url()
            )
        );
        assert_eq!(server.requests().len(), 1);
        assert_untouched(&dir, &file, TOKEN);
    }
}

#[test]
fn each_invalid_grant_description_gets_its_own_hint() {
    for (description, hint) in [
        (
            "expired access/refresh token",
            "the refresh token is expired or revoked (or the user is blocked): authorise again \
             to get a new token file",
        ),
        (
            "ip restricted or invalid login hours",
            "the org refuses this box's address: relax the IP restrictions in the app's OAuth \
             policies, or add the box's egress IP to the org's trusted ranges",
        ),
        (
            "inactive user",
            "the Salesforce user is frozen or deactivated: ask the Salesforce administrator",
        ),
        (
            "user hasn't approved this consumer",
            "the user has not approved this app: pre-authorise the user in the app's policies \
             (admin approved users) or approve it once with an interactive login",
        ),
        (
            "authentication failure",
            "Salesforce refused to authenticate this user: authorise again, and check the \
             user's login history for the reason",
        ),
        (
            "something nobody has seen",
            "the server did not accept the grant: if it keeps happening, authorise again",
        ),
    ] {
        let server = Server::scripted(vec![Reply::oauth_error(400, "invalid_grant", description)]);
        let dir = TempDir::new();
        let file = dir.write("tok.json", TOKEN);
        let out = run(&mut refresh_cmd(&server, &file, &[]));
        assert_eq!(out.code, 5, "{}", out.stderr);
        assert_eq!(
            out.stderr,
            format!(
                "sfrefresh: error: {}: {} refused the refresh (HTTP 400): invalid_grant: \
                 {description}\nsfrefresh: hint: {hint}\n",
                file.display(),
                server.url()
            )
        );
    }
}

#[test]
fn no_rust_error_text_in_messages() {
    let out = usage_out(&[
        "--client-id",
        "x",
        "--client-secret-file",
        "/nonexistent/secret",
    ]);
    assert_eq!(
        out.stderr,
        "sfrefresh: error: cannot read the client secret file /nonexistent/secret: no such \
         file or directory\n"
    );
    let out = usage_out(&["--client-id", "x", "--cacert", "/nonexistent/ca.pem"]);
    assert!(!out.stderr.contains("os error"), "{}", out.stderr);
    assert!(
        out.stderr.contains("no such file or directory"),
        "{}",
        out.stderr
    );
}

#[test]
fn help_fits_80_columns_and_ends_with_examples() {
    for args in [
        &["--help"][..],
        &["help"],
        &["help", "refresh"],
        &["refresh", "--help"],
    ] {
        let out = run(sfrefresh().args(args));
        assert_eq!(out.code, 0);
        for line in out.stdout.lines() {
            assert!(line.chars().count() <= 80, "{args:?}: too wide: {line:?}");
        }
        let tail = out.stdout.rsplit("\n\n").next().unwrap_or_default();
        assert!(
            tail.starts_with("EXAMPLES:"),
            "{args:?}: ends with {tail:?}"
        );
        assert!(tail.lines().count() >= 3);
    }
}

#[test]
fn a_lock_held_by_another_run_is_announced_unless_quiet() {
    let server = Server::scripted(vec![Reply::token("new"), Reply::token("newer")]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    for (extra, announced) in [(&[][..], true), (&["-q"][..], false)] {
        let holder = fs::File::open(&file).unwrap();
        holder.lock().unwrap();
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(1500));
            drop(holder);
        });
        let out = run(&mut refresh_cmd(&server, &file, extra));
        release.join().unwrap();
        assert_eq!(out.code, 0, "{}", out.stderr);
        let line = format!(
            "sfrefresh: waiting for another sfrefresh holding {}\n",
            file.display()
        );
        assert_eq!(out.stderr.starts_with(&line), announced, "{}", out.stderr);
        if !announced {
            assert_eq!(out.stderr, "");
        }
    }
}

#[test]
fn a_backoff_a_person_would_notice_is_announced() {
    let server = Server::scripted(vec![
        Reply::oauth_error(429, "rate_limit_exceeded", "slow down").header("Retry-After", "1"),
        Reply::token("new"),
    ]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let out = run(&mut refresh_cmd(&server, &file, &[]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        format!(
            "sfrefresh: {}: {} answered HTTP 429: rate_limit_exceeded: slow down; trying \
             again in 1s (attempt 2 of 3)\n\
             sfrefresh: refreshed token for https://acme.my.salesforce.com (refresh token kept)\n",
            file.display(),
            server.url()
        )
    );
}

#[test]
fn a_slow_server_is_announced_once() {
    let server = Server::scripted(vec![
        Reply::token("new").mode(Mode::Delay(Duration::from_millis(5600))),
    ]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let started = Instant::now();
    let out = run(&mut refresh_cmd(&server, &file, &["--timeout", "20"]));
    assert!(started.elapsed() >= Duration::from_secs(5));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        format!(
            "sfrefresh: waiting for {}: no answer after 5s\n\
             sfrefresh: refreshed token for https://acme.my.salesforce.com (refresh token kept)\n",
            server.url()
        )
    );
}

#[test]
fn verbose_says_why_it_refreshes() {
    let server = Server::scripted(vec![
        Reply::token("a"),
        Reply::token("b"),
        Reply::token("c"),
    ]);
    let dir = TempDir::new();
    let old = dir.write("old.json", TOKEN);
    let out = run(&mut refresh_cmd(
        &server,
        &old,
        &["-v", "--if-older-than", "1h"],
    ));
    assert!(
        out.stderr.contains("sfrefresh: refreshing: issued ")
            && out
                .stderr
                .contains(" ago, not younger than --if-older-than 1h\n"),
        "{}",
        out.stderr
    );
    let none = dir.write(
        "none.json",
        r#"{"refresh_token":"5Aep861.r","access_token":"a"}"#,
    );
    let out = run(&mut refresh_cmd(
        &server,
        &none,
        &["-v", "--if-older-than", "1h"],
    ));
    assert!(
        out.stderr.contains(
            "sfrefresh: refreshing: the token file has no usable issued_at to compare with \
             --if-older-than 1h\n"
        ),
        "{}",
        out.stderr
    );
    let out = run(&mut refresh_cmd(&server, &old, &["-v"]));
    assert!(
        out.stderr
            .contains("sfrefresh: refreshing: no --if-older-than given\n"),
        "{}",
        out.stderr
    );
}

#[test]
fn errors_about_the_proxy_name_the_proxy() {
    let out = usage_out(&["--client-id", "x", "--proxy", "socks5://u:pw@h:1"]);
    assert_eq!(
        out.stderr,
        "sfrefresh: error: the proxy socks5://***@h:1 (from --proxy) is not supported: use an \
         http:// proxy (sfrefresh tunnels TLS through it with CONNECT)\n"
    );
}

/// Every retry is said before it is made, even a short one, naming the file, what
/// failed and which attempt comes next; `-q` keeps it quiet (curl's "Will retry").
#[test]
fn each_retry_is_announced_unless_quiet() {
    for (extra, announced) in [(&[][..], true), (&["-q"][..], false)] {
        let server = Server::scripted(vec![Reply::text(503, "busy"), Reply::token("new")]);
        let dir = TempDir::new();
        let file = dir.write("tok.json", TOKEN);
        let out = run(&mut refresh_cmd(&server, &file, extra));
        assert_eq!(out.code, 0, "{}", out.stderr);
        let expected = if announced {
            format!(
                "sfrefresh: {}: {} answered HTTP 503: busy; trying again in WAIT (attempt 2 of \
                 3)\nsfrefresh: refreshed token for https://acme.my.salesforce.com (refresh \
                 token kept)\n",
                file.display(),
                server.url()
            )
        } else {
            String::new()
        };
        assert_eq!(without_waits(&out.stderr), expected);
        assert_eq!(server.requests().len(), 2);
    }
}
