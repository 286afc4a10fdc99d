//! sfrefresh as a library, for the binary, the tests and the fuzz targets: everything is
//! crate-private except `main_entry` and the narrow `fuzz` surface.

mod answer;
mod batch;
mod cli;
mod client;
mod clock;
mod endpoint;
mod error;
mod etcd;
mod exec;
mod fleet;
mod form;
mod grant;
mod jwt;
mod login;
mod metrics;
mod net;
mod oauth;
mod print;
mod proxy;
mod refresh;
mod report;
mod rescue;
mod revoke;
mod secret;
mod session;
mod signals;
mod signature;
mod sourced;
mod status;
mod store;
mod sys;
mod tls;
mod token;
mod token_file;
mod watch;
mod wire;

#[cfg(test)]
mod props;

use std::process::ExitCode;

use cli::Command;
use error::Error;
use report::say;

/// The whole program: parse, run, print an error once (plus at most one hint), and
/// turn it into the exit code from the table in `error.rs`.
pub fn main_entry() -> ExitCode {
    let command = match cli::parse(std::env::args_os().skip(1), &|name| std::env::var_os(name)) {
        Ok(command) => command,
        Err(e) => return fail(None, &e),
    };
    let location = command.location();
    match run(command) {
        Ok(code) => ExitCode::from(code),
        Err(e) => fail(location.as_deref(), &e),
    }
}

fn fail(location: Option<&str>, e: &Error) -> ExitCode {
    if !matches!(e.kind(), error::Kind::Reported(_)) {
        report_error(location, e);
    }
    ExitCode::from(e.exit_code())
}

/// An error as users read it: once, naming the token location it is about (`error::At`),
/// then at most one hint.
fn report_error(location: Option<&str>, e: &Error) {
    say(format_args!("error: {}", error::At { location, error: e }));
    if let Some(hint) = e.hint() {
        say(format_args!("hint: {hint}"));
    }
}

/// The exit code of a run that ended as planned: 0, or for many files the most serious
/// of their codes (`error::SEVERITY`), each already reported.
fn run(command: Command) -> Result<u8, Error> {
    match command {
        Command::Help(verb) => print::emit(cli::help_text(verb).as_bytes(), "-").map(|()| 0),
        Command::Version => print::emit(version().as_bytes(), "-").map(|()| 0),
        Command::Refresh(args) => refresh::run(&args).map(|_| 0),
        Command::Batch(args, many) => fleet::run(&args, &many),
        Command::Exec(args) => exec::run(&args).map(|()| 0),
        Command::Status(args) => status::run(&args).map(|()| 0),
        Command::Revoke(args) => revoke::run(&args).map(|()| 0),
        Command::Login(args) => login::run(&args).map(|()| 0),
    }
}

/// `sfrefresh 0.2.0 (x86_64-unknown-linux-musl, commit abc123)`.
fn version() -> String {
    format!(
        "sfrefresh {} ({}, commit {})\n",
        env!("CARGO_PKG_VERSION"),
        option_env!("SFREFRESH_TARGET").unwrap_or("unknown target"),
        option_env!("SFREFRESH_COMMIT").unwrap_or("unknown")
    )
}

/// Entry points for `cargo fuzz` and property tests: each takes untrusted bytes and
/// must never panic.
pub mod fuzz {
    use crate::report::Redactor;

    /// The token file parser and the exact pretty printer.
    pub fn token_file(data: &[u8]) {
        if let Ok(doc) = crate::token::parse(data) {
            let text = crate::token::to_file_text(&doc, &[data]);
            // What was written must read back to the same document.
            let again = crate::token::parse(&text);
            assert_eq!(
                again.ok(),
                Some(doc),
                "a saved file must read back the same"
            );
        }
    }

    /// A secret the `answer` target's redactor knows; nothing it shows may hold it.
    const SECRET: &str = "5Aep861.secret";

    /// The classification of a token endpoint's answer: two bytes of status (100 to
    /// 599), a byte of flags (Location, Retry-After, HTML, how the body ended), the body.
    pub fn answer(data: &[u8]) {
        use crate::answer::{BodyError, Head, Outcome, classify};
        let [hi, lo, flags, body @ ..] = data else {
            return;
        };
        let status = 100 + u16::from_be_bytes([*hi, *lo]) % 500;
        let text = String::from_utf8_lossy(body);
        let head = Head {
            status,
            location: (flags & 1 != 0).then_some(&*text),
            retry_after: (flags & 2 != 0).then(|| std::time::Duration::from_secs(u64::from(*lo))),
            html: flags & 4 != 0,
        };
        let read = match (flags >> 3) & 3 {
            0 => Ok(body.to_vec()),
            1 => Err(BodyError::TooLarge),
            2 => Err(BodyError::Timeout),
            _ => Err(BodyError::Broken("connection reset".into())),
        };
        let mut r = Redactor::default();
        r.add_str(SECRET);
        match classify(&head, read, &r) {
            Outcome::Done(_) => assert_eq!(status, 200, "only a 200 is a token"),
            Outcome::Failed { failure, keep } => {
                // A 200 may have rotated the token: it is never sent again.
                assert!(status != 200 || !failure.retryable(), "{failure:?}");
                assert!(keep.is_none() || status == 200, "only a 200 is kept");
                // Server text reaches the message only redacted.
                let shown = format!("{failure:?}");
                assert!(!shown.contains(SECRET), "{shown}");
            }
        }
    }

    /// The NO_PROXY matcher (`list` newline `host`) and the proxy URL parser (all of it).
    pub fn proxy(data: &[u8]) {
        let text = String::from_utf8_lossy(data);
        let (list, host) = text.split_once('\n').unwrap_or((&text, "h"));
        let _ = crate::proxy::no_proxy_matches(list, host);
        if let Ok(p) = crate::proxy::ProxyUrl::parse(&text, "fuzz") {
            // The shown form is the same whatever the credentials, so it shows none of
            // them. (Checking that it lacks the password is wrong: a password may equal
            // part of the host or of "http://***@".) The credentials end at the last
            // `@` after the scheme, as in `ProxyUrl::parse`.
            let (scheme, rest) = match text.split_once("://") {
                Some((scheme, rest)) => (format!("{scheme}://"), rest),
                None => (String::new(), &*text),
            };
            if let Some(at) = rest.rfind('@') {
                let other = format!("{scheme}someone:else@{}", &rest[at + 1..]);
                let q = crate::proxy::ProxyUrl::parse(&other, "fuzz");
                assert_eq!(q.ok().as_ref().map(|q| q.shown()), Some(p.shown()));
                assert!(p.shown().contains("://***@"), "{}", p.shown());
            }
        }
    }
}
