//! sfrefresh as a library, for the binary, the tests and the fuzz targets: everything is
//! crate-private except `main_entry` and the narrow `fuzz` surface.

mod answer;
mod cli;
mod clock;
mod endpoint;
mod error;
mod net;
mod oauth;
mod print;
mod proxy;
mod refresh;
mod report;
mod rescue;
mod secret;
mod signature;
mod target;
mod tls;
mod token;
mod token_file;

#[cfg(test)]
mod props;

use std::process::ExitCode;

use cli::Command;
use error::Error;
use report::say;

/// The whole program: parse, run, print an error once (plus at most one hint), and
/// turn it into the exit code from the table in `error.rs`.
pub fn main_entry() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            say(format_args!("error: {e}"));
            if let Some(hint) = e.hint() {
                say(format_args!("hint: {hint}"));
            }
            ExitCode::from(e.exit_code())
        }
    }
}

fn run() -> Result<(), Error> {
    match cli::parse(std::env::args_os().skip(1), &|name| std::env::var_os(name))? {
        Command::Help(verb) => print::emit(cli::help_text(verb).as_bytes(), "-"),
        Command::Version => print::emit(version().as_bytes(), "-"),
        Command::Refresh(args) => refresh::run(&args),
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
        if let Ok(t) = crate::token::parse_token(data) {
            let text = crate::token::to_file_text(&t.doc, &[data]);
            // What was written must read back to the same document.
            let again = crate::token::parse_token(&text).map(|t| t.doc);
            assert_eq!(
                again.ok(),
                Some(t.doc),
                "a saved file must read back the same"
            );
        }
    }

    /// The classification of a token endpoint's answer: status, then body.
    pub fn answer(data: &[u8]) {
        let (status, body) = match data.split_first() {
            Some((s, rest)) => (100 + u16::from(*s) * 2, rest.to_vec()),
            None => return,
        };
        let head = crate::answer::Head {
            status,
            location: None,
            retry_after: None,
            html: false,
        };
        let mut r = Redactor::default();
        r.add_str("5Aep861.secret");
        let _ = crate::answer::classify(&head, Ok(body), &r);
    }

    /// The NO_PROXY matcher and the proxy URL parser.
    pub fn proxy(data: &[u8]) {
        let text = String::from_utf8_lossy(data);
        let (list, host) = text.split_once('\n').unwrap_or((&text, "h"));
        let _ = crate::proxy::no_proxy_matches(list, host);
        if let Ok(p) = crate::proxy::ProxyUrl::parse(&text, "fuzz") {
            // The shown form never carries the password.
            if let Some(pw) = &p.password
                && pw.expose().len() >= 3
            {
                assert!(!p.shown().contains(pw.expose()));
            }
        }
    }
}
