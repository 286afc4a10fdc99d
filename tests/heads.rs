//! Issue 17: an answer's head (status line and headers) of up to 64 KiB is read whole,
//! over plain HTTP and TLS, as load balancers and WAFs send them (big cookies, big
//! tracing headers); a larger one is a clear exit 4 that is never sent again, since a
//! rotating server has already consumed the refresh token.

use std::fs;

use crate::util::*;

const KIB: usize = 1024;

/// Header lines as load balancers and WAFs send them: a sticky-session cookie, a trace.
const COOKIE: (&str, usize) = ("Set-Cookie", 8 * KIB);
const TRACE: (&str, usize) = ("X-Waf-Trace", 16 * KIB);

/// The rotated token every answer here carries.
const ANSWER: &str = r#"{"access_token":"00Dx!AQ.new-access","refresh_token":"5Aep861.refresh-r1","issued_at":"1708058728442"}"#;

/// `TOKEN` after `ANSWER` is merged into it.
fn refreshed() -> String {
    TOKEN
        .replace("00Dx!AQ.old-access", "00Dx!AQ.new-access")
        .replace("5Aep861.refresh-r0", "5Aep861.refresh-r1")
        .replace("1700000000000", "1708058728442")
}

/// A header line `Name: vvv…\r\n` of exactly `len` bytes.
fn line(name: &str, len: usize) -> String {
    let fixed = name.len() + ": \r\n".len();
    assert!(len > fixed, "{name}: {len} bytes is too short for a line");
    let value: String = (b'a'..=b'z')
        .cycle()
        .take(len - fixed)
        .map(char::from)
        .collect();
    format!("{name}: {value}\r\n")
}

/// A 200 carrying `ANSWER` whose head (status line to the blank line, inclusive) holds
/// `big` header lines of the given sizes and is padded to `total` bytes exactly.
fn answer_with_head(big: &[(&str, usize)], total: usize) -> Reply {
    let mut head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        ANSWER.len()
    );
    for (name, len) in big {
        head.push_str(&line(name, *len));
    }
    let pad = total - head.len() - "\r\n".len();
    head.push_str(&line("X-Pad", pad));
    head.push_str("\r\n");
    assert_eq!(head.len(), total);
    Reply::text(200, "").mode(Mode::Raw([head.as_bytes(), ANSWER.as_bytes()].concat()))
}

/// The same server over plain HTTP and over TLS, with the arguments that trust it.
fn servers(replies: Vec<Reply>) -> [(&'static str, Server, Vec<String>); 2] {
    let cacert = cert_path("ca.pem").to_string_lossy().into_owned();
    [
        ("http", Server::scripted(replies.clone()), vec![]),
        (
            "https",
            Server::tls("server", replies),
            vec!["--cacert".into(), cacert],
        ),
    ]
}

fn refresh(server: &Server, file: &std::path::Path, trust: &[String]) -> Out {
    let mut args: Vec<&str> = trust.iter().map(String::as_str).collect();
    args.extend(["--retries", "2"]);
    run(&mut refresh_cmd(server, file, &args))
}

#[test]
fn heads_up_to_64_kib_are_read_and_the_rotated_token_is_saved() {
    let cases = [
        ("15 KiB", answer_with_head(&[COOKIE], 15 * KIB)),
        ("17 KiB", answer_with_head(&[COOKIE], 17 * KIB)),
        (
            "32 KiB: two 8 KiB cookies and a WAF header of nearly 16 KiB",
            answer_with_head(&[COOKIE, COOKIE, ("X-Waf-Trace", 16 * KIB - 256)], 32 * KIB),
        ),
        (
            "63 KiB",
            answer_with_head(&[COOKIE, COOKIE, TRACE, TRACE], 63 * KIB),
        ),
    ];
    for (what, reply) in cases {
        for (scheme, server, trust) in servers(vec![reply.clone(), Reply::token("never")]) {
            let dir = TempDir::new();
            let file = dir.write("tok.json", TOKEN);
            let out = refresh(&server, &file, &trust);
            assert_eq!(out.code, 0, "{what} over {scheme}: {}", out.stderr);
            assert_eq!(
                fs::read_to_string(&file).unwrap(),
                refreshed(),
                "{what} over {scheme}"
            );
            assert_eq!(dir.names(), ["tok.json"], "{what} over {scheme}");
            assert_eq!(server.requests().len(), 1, "{what} over {scheme}");
        }
    }
}

#[test]
fn a_head_over_64_kib_is_exit_4_named_and_never_sent_again() {
    let cases = [
        (
            "65 KiB in all",
            answer_with_head(&[COOKIE, COOKIE, TRACE, TRACE], 65 * KIB),
        ),
        (
            "one 100 KB header line",
            answer_with_head(&[("X-Waf-Trace", 100_000)], 100_200),
        ),
    ];
    for (what, reply) in cases {
        for (scheme, server, trust) in servers(vec![reply.clone(), Reply::token("never")]) {
            let dir = TempDir::new();
            let file = dir.write("tok.json", TOKEN);
            let out = refresh(&server, &file, &trust);
            assert_eq!(out.code, 4, "{what} over {scheme}: {}", out.stderr);
            assert_eq!(
                out.stderr,
                format!(
                    "sfrefresh: error: {}: {} answered, but the answer could not be read (its \
                     headers are larger than the 64 KiB limit); nothing was saved, and a \
                     server that rotates refresh tokens may already have consumed the \
                     refresh token\n\
                     sfrefresh: hint: do not simply run it again if the server rotates \
                     refresh tokens: first check whether the token file still works (a \
                     replayed token can revoke the whole family)\n",
                    file.display(),
                    server.url()
                ),
                "{what} over {scheme}"
            );
            assert_untouched(&dir, &file, TOKEN);
            assert_eq!(
                server.requests().len(),
                1,
                "{what} over {scheme}: the request was sent again"
            );
        }
    }
}
