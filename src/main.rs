//! sfrefresh: load a token file, POST a refresh_token grant, merge the answer, save atomically.

mod cli;
mod endpoint;
mod error;
mod net;
mod oauth;
mod report;
mod secret;
mod signature;
mod token;
mod token_file;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Read, Write};
use std::process::ExitCode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use cli::{Args, Command, Print, SecretSource, TokenSource};
use error::Error;
use report::{Log, human, sanitize};
use secret::Secret;
use token::Doc;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sfrefresh: error: {e}");
            if let Some(hint) = e.hint() {
                eprintln!("sfrefresh: hint: {hint}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}

fn run() -> Result<(), Error> {
    match cli::parse_args(std::env::args_os().skip(1), &|name| std::env::var_os(name))? {
        Command::Help => stdout(cli::HELP.as_bytes()),
        Command::Version => {
            stdout(concat!("sfrefresh ", env!("CARGO_PKG_VERSION"), "\n").as_bytes())
        }
        Command::Refresh(args) => refresh(&args),
    }
}

/// Writes to stdout; a reader that went away (`| head`) is not an error.
fn stdout(bytes: &[u8]) -> Result<(), Error> {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            Err(Error::Internal(format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

/// Randomness for backoff jitter and temp names, from std's OS-seeded hasher keys.
pub fn random_u64() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    h.finish()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn load_secret(source: &SecretSource) -> Result<Option<Secret>, Error> {
    match source {
        SecretSource::None => Ok(None),
        SecretSource::Env(s) => Ok(Some(s.clone())),
        SecretSource::File(path) => {
            let shown = path.display();
            let text = std::fs::read_to_string(path).map_err(|e| {
                Error::Usage(format!("cannot read the client secret file {shown}: {e}"))
            })?;
            let secret = text.trim();
            if secret.is_empty() {
                return Err(Error::Usage(format!(
                    "the client secret file {shown} is empty"
                )));
            }
            Ok(Some(Secret::new(secret)))
        }
    }
}

/// What the run did to the document, for the status line.
enum Done {
    Skipped { age: std::time::Duration },
    Refreshed { rotated: bool, endpoint: String },
}

/// Everything a refresh needs once the options are checked.
struct Job<'a> {
    args: &'a Args,
    secret: Option<Secret>,
    roots: ureq::tls::RootCerts,
    policy: oauth::Policy,
    log: Log,
}

impl Job<'_> {
    /// Refreshes the document in `input` unless `--if-older-than` finds it fresh.
    /// `before_send` runs just before the request, when one is needed. Returns the
    /// document, what happened, and the new text to save or print.
    fn process(
        &self,
        input: &[u8],
        parse_error: impl Fn(String) -> Error,
        before_send: impl FnOnce() -> Result<(), Error>,
    ) -> Result<(Doc, Done, Vec<u8>), Error> {
        let mut doc = token::parse(input).map_err(parse_error)?;
        if let Some(age) = fresh(self.args, &doc) {
            return Ok((doc, Done::Skipped { age }, input.to_vec()));
        }
        let endpoint = endpoint::choose(self.args, &doc)?;
        self.log.step(format_args!(
            "token endpoint {} (from {})",
            endpoint.url, endpoint.source
        ));
        let route = net::route(&endpoint.uri, &self.args.proxy)?;
        match &route {
            net::Route::Direct(why) => self.log.step(format_args!("connecting directly: {why}")),
            net::Route::Proxy { shown, source, .. } => self.log.step(format_args!(
                "connecting through proxy {shown} (from {source})"
            )),
        }
        let agent = net::agent(self.roots.clone(), &route);
        before_send()?;
        let refresh_token = token::refresh_token(&doc).map_err(Error::Internal)?;
        let x = oauth::Exchange {
            url: &endpoint.url,
            refresh_token: &refresh_token,
            client_id: &self.args.client_id,
            secret: self.secret.as_ref(),
            auth: self.args.client_auth,
        };
        let answer = oauth::refresh(&agent, &x, &self.policy, &self.log)?;
        if self.args.verify_signature {
            self.verify(&answer.doc, &endpoint.url)?;
        }
        let merged = token::merge(&mut doc, answer.doc, now_ms());
        let text = token::to_pretty(&doc, &[input, &answer.raw]);
        Ok((
            doc,
            Done::Refreshed {
                rotated: merged.rotated,
                endpoint: endpoint.url,
            },
            text,
        ))
    }

    fn verify(&self, answer: &Doc, url: &str) -> Result<(), Error> {
        let secret = self.secret.as_ref().ok_or_else(|| {
            Error::Internal("--verify-signature without a secret passed the option checks".into())
        })?;
        match signature::check(answer, secret) {
            signature::Check::Valid => {
                self.log.step(format_args!("signature verified"));
                Ok(())
            }
            signature::Check::Absent => {
                self.log.step(format_args!(
                    "the answer has no id, issued_at and signature to verify"
                ));
                Ok(())
            }
            signature::Check::Mismatch => Err(Error::Signature {
                url: url.to_string(),
            }),
        }
    }
}

fn refresh(args: &Args) -> Result<(), Error> {
    let deadline = Instant::now() + args.timeout;
    let log = Log::new(args.verbose);
    let secret = load_secret(&args.secret)?;
    let roots = net::roots(args.cacert.as_ref())?;
    endpoint::check_options(args)?;
    net::check_option(&args.proxy)?;
    let job = Job {
        args,
        secret,
        roots,
        policy: oauth::Policy {
            deadline,
            timeout: args.timeout,
            retries: args.retries,
        },
        log,
    };

    let (doc, done) = match &args.token {
        TokenSource::Stdio => {
            let mut input = Vec::new();
            io::stdin()
                .take(token_file::MAX_TOKEN_FILE + 1)
                .read_to_end(&mut input)
                .map_err(|e| Error::token_file("- (stdin)", format!("cannot be read: {e}")))?;
            if input.len() as u64 > token_file::MAX_TOKEN_FILE {
                return Err(Error::token_file(
                    "- (stdin)",
                    "is larger than 1 MiB, so it is not a token",
                ));
            }
            let (doc, done, text) =
                job.process(&input, |p| Error::token_file("- (stdin)", p), || Ok(()))?;
            // With '-', stdout holds the only copy of a rotated refresh token, so a
            // failed write is an error here, even a closed pipe.
            let mut out = io::stdout().lock();
            out.write_all(&text)
                .and_then(|()| out.flush())
                .map_err(|e| {
                    Error::token_file(
                        "- (stdout)",
                        format!("the refreshed token could not be written: {e}"),
                    )
                })?;
            (doc, done)
        }
        TokenSource::Path(path) => {
            let locked = token_file::lock(path, deadline, args.timeout, &job.log)?;
            job.log.step(format_args!("locked {}", locked.shown()));
            let input = locked.read()?;
            let (doc, done, text) =
                job.process(&input, |p| locked.error(p), || locked.check_writable())?;
            if let Done::Refreshed { rotated, .. } = done {
                locked.replace(&text, &job.log).map_err(|e| match e {
                    Error::TokenFile { path, problem } if rotated => Error::TokenFile {
                        path,
                        problem: format!(
                            "{problem}; the server rotated the refresh token and the new one \
                             could not be kept, so you must authorise again"
                        ),
                    },
                    e => e,
                })?;
                job.log.step(format_args!("saved {}", locked.shown()));
            }
            match args.print {
                Some(Print::Token) => {
                    let token = token::access_token(&doc).map_err(Error::Internal)?;
                    stdout(format!("{}\n", token.expose()).as_bytes())?;
                }
                Some(Print::Json) => stdout(&text)?,
                None => {}
            }
            (doc, done)
        }
    };
    if !args.quiet {
        eprintln!("sfrefresh: {}", status_line(&doc, &done));
    }
    Ok(())
}

/// The stored token is fresh enough to keep: `--if-older-than` is set, the token was
/// issued less than that long ago, and there is an access token to use.
fn fresh(args: &Args, doc: &Doc) -> Option<std::time::Duration> {
    let limit = args.if_older_than?;
    let age = token::age(doc, now_ms())?;
    (age < limit && token::access_token(doc).is_ok()).then_some(age)
}

fn status_line(doc: &Doc, done: &Done) -> String {
    let org = match (doc.get("instance_url").and_then(|v| v.as_str()), done) {
        (Some(u), _) => sanitize(u),
        (None, Done::Refreshed { endpoint, .. }) => endpoint.clone(),
        (None, Done::Skipped { .. }) => "the token file".to_string(),
    };
    match done {
        Done::Skipped { age } => {
            format!(
                "token for {org} is fresh (issued {} ago), not refreshed",
                human(*age)
            )
        }
        Done::Refreshed { rotated, .. } => format!(
            "refreshed token for {org} ({})",
            if *rotated {
                "refresh token rotated"
            } else {
                "refresh token kept"
            }
        ),
    }
}
