//! `sfrefresh login [OPTIONS] TOKEN_FILE`: get the first token (device flow, web flow
//! with PKCE, an SFDX auth URL, JWT bearer, client credentials), then create the token
//! file. The token comes first and the file second, so a login that fails, times out or
//! is interrupted (Ctrl-C) leaves no file at all.

mod device;
mod sfdx;
mod web;

use std::fs;
use std::path::Path;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::answer::Answer;
use crate::client::ClientAuth;
use crate::client::Credentials;
use crate::clock::now_ms;
use crate::endpoint::{self, Endpoint};
use crate::error::Error;
use crate::grant::JwtPlan;
use crate::grant::{self, Renewal};
use crate::oauth::Call;
use crate::oauth::{Classify, Exchange};
use crate::print;
use crate::print::Print;
use crate::proxy::Route;
use crate::report::{Log, sanitize, say};
use crate::rescue;
use crate::secret::Secret;
use crate::session::Common;
use crate::session::Session;
use crate::store::{self, Created, Held, Location, NewFile, Sweep};
use crate::token::{self, Doc, MAX_FILE};

/// A login waits for a person (a code to enter, a browser to come back): the
/// default `--timeout` for `--device` and `--web`, instead of a refresh's 30 s.
pub(crate) const INTERACTIVE_TIMEOUT: Duration = Duration::from_secs(300);

/// The Salesforce CLI's redirect port: an app set up for `sf org login web` takes it.
pub(crate) const DEFAULT_REDIRECT_PORT: u16 = 1717;

/// `sfrefresh login [OPTIONS] TOKEN_FILE`, checked.
pub(crate) struct LoginArgs {
    /// A new token file, or an etcd key.
    pub(crate) target: Location,
    pub(crate) flow: Flow,
    /// Replace a file that still holds a refresh token.
    pub(crate) force: bool,
    pub(crate) print: Option<Print>,
    pub(crate) common: Common,
}

/// How the first token comes.
pub(crate) enum Flow {
    /// The device flow; `device_url` switches from Salesforce's form to RFC 8628.
    Device {
        device_url: Option<String>,
        scope: Option<String>,
    },
    /// The web-server flow with PKCE and a loopback redirect.
    Web {
        authorize_url: Option<String>,
        port: u16,
        open: bool,
        scope: Option<String>,
    },
    /// An SFDX auth URL, refreshed once at its instance.
    Sfdx {
        source: SfdxSource,
        client_auth: ClientAuth,
    },
    Jwt(JwtPlan),
    ClientCredentials {
        scope: Option<String>,
    },
}

/// Where the SFDX auth URL is read from: never argv, where `ps` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SfdxSource {
    File(PathBuf),
    Stdin,
}

/// Room for the token file in the pre-send space check: an answer is at most 256 KiB.
const FILE_ROOM: u64 = 320 * 1024;

/// The longest a save waits for another sfrefresh holding a file that appeared meanwhile.
const LOCK_WAIT: Duration = Duration::from_secs(30);

pub(crate) fn run(args: &LoginArgs) -> Result<(), Error> {
    let c = &args.common;
    let log = c.log;
    let deadline = Instant::now() + c.timeout;
    let file = Dest::new(&args.target)?;
    file.check_replaceable(args.force, c)?;
    file.check_writable(FILE_ROOM)?;
    let got = match &args.flow {
        Flow::Sfdx {
            source,
            client_auth,
        } => sfdx::run(c, source, *client_auth, deadline)?,
        flow => {
            let mut talk = Talk::new(c, deadline, &endpoint::choose(&c.endpoints, &Doc::new())?)?;
            let answer = match flow {
                Flow::Device { device_url, scope } => {
                    device::run(&mut talk, device_url.as_deref(), scope.as_deref())?
                }
                Flow::Web {
                    authorize_url,
                    port,
                    open,
                    scope,
                } => web::run(
                    &mut talk,
                    authorize_url.as_deref(),
                    *port,
                    *open,
                    scope.as_deref(),
                )?,
                _ => mint(&mut talk, flow)?,
            };
            talk.got(answer, minted(flow))
        }
    };
    let doc = assemble(&got);
    let text = token::to_file_text(&doc, &[&got.answer.raw]);
    if text.len() as u64 > MAX_FILE {
        return Err(file.error("cannot be saved: the answer makes it larger than 1 MiB"));
    }
    file.save(&text, args.force, c)
        .map_err(|e| file.rescued(&got.answer.raw, e))?;
    if let Some(form) = args.print {
        let bytes = print::render(form, &doc, &text).map_err(|problem| {
            Error::output(format!(
                "{problem} (the token file {} is saved)",
                file.shown()
            ))
        })?;
        print::emit(&bytes, &file.shown())?;
    }
    report(&doc, &got, &file.shown(), &log);
    Ok(())
}

/// A token and what the file records with it.
pub(super) struct Got {
    pub(super) answer: Answer,
    pub(super) client_id: String,
    pub(super) token_url: String,
    /// The grant a later refresh mints with (JWT bearer, client credentials).
    pub(super) minted: Option<Renewal>,
    /// An imported refresh token, kept when the answer brings no new one.
    pub(super) refresh_token: Option<Secret>,
}

/// The token endpoint and how to reach any URL, for every flow but the import.
pub(super) struct Talk<'a> {
    /// Every secret this login knows or learns, so that none is shown in server text.
    pub(super) session: Session<'a>,
    pub(super) client_id: String,
    pub(super) endpoint: String,
}

impl<'a> Talk<'a> {
    pub(super) fn new(
        c: &'a Common,
        deadline: Instant,
        endpoint: &Endpoint,
    ) -> Result<Talk<'a>, Error> {
        let client_id = c
            .client_id
            .as_ref()
            .map(|s| s.value.clone())
            .ok_or_else(|| Error::usage("no client id: pass --client-id or set SF_CLIENT_ID"))?;
        c.log.step(format_args!(
            "token endpoint {} (from {})",
            endpoint.url, endpoint.source
        ));
        Ok(Talk {
            session: Session::new(c, deadline, None).for_login(),
            client_id,
            endpoint: endpoint.url.clone(),
        })
    }

    /// POSTs `fields` to `url` with the client's authentication, retrying only what is
    /// safe, the answer read by `classify`. Errors come back as they are: the device
    /// flow reads `authorization_pending` out of them.
    pub(super) fn post(
        &mut self,
        url: &str,
        fields: &[(&str, &str)],
        credentials: &Credentials,
        classify: Classify<Answer>,
    ) -> Result<Answer, Error> {
        let uri = endpoint::check(url, "the URL")?;
        let route = self.session.route(&uri)?;
        if let Route::Proxy(p) = &route {
            self.session.common.log.step(format_args!(
                "connecting to {url} through proxy {}",
                p.shown()
            ));
        }
        let exchange = Exchange {
            url,
            proxy: route.proxy_shown(),
            fields,
            client_id: &self.client_id,
            credentials,
        };
        let http = self.session.agent(&route);
        self.session
            .send(&http, &Call::exchange(&exchange), classify)
            .map_err(|f| *f.error)
    }

    /// A token from the token endpoint (a refusal reads as the login's: the session
    /// is a login's).
    pub(super) fn token(
        &mut self,
        fields: &[(&str, &str)],
        credentials: &Credentials,
    ) -> Result<Answer, Error> {
        let url = self.endpoint.clone();
        self.post(&url, fields, credentials, crate::answer::classify)
    }

    fn got(self, answer: Answer, minted: Option<Renewal>) -> Got {
        Got {
            answer,
            client_id: self.client_id,
            token_url: self.endpoint,
            minted,
            refresh_token: None,
        }
    }
}

fn minted(flow: &Flow) -> Option<Renewal> {
    match flow {
        Flow::Jwt(plan) => Some(Renewal::Jwt(plan.clone())),
        Flow::ClientCredentials { .. } => Some(Renewal::ClientCredentials),
        _ => None,
    }
}

/// JWT bearer or client credentials: one request, as a later refresh makes it.
fn mint(talk: &mut Talk<'_>, flow: &Flow) -> Result<Answer, Error> {
    let (renewal, scope) = match flow {
        Flow::Jwt(plan) => (Renewal::Jwt(plan.clone()), None),
        Flow::ClientCredentials { scope } => (Renewal::ClientCredentials, scope.as_deref()),
        _ => return Err(Error::usage("not a minting grant")),
    };
    let request = grant::prepare(&renewal, &talk.client_id, &talk.session.common.credentials)?;
    if let Some(s) = request.secret() {
        talk.session.hide(s);
    }
    let mut fields = request.pairs();
    if let Some(scope) = scope {
        fields.push(("scope", scope));
    }
    talk.token(&fields, request.credentials)
}

/// The file's document: the answer's fields in the server's order, `issued_at` when the
/// answer has none, then what later runs read (client id, endpoint, grant).
fn assemble(got: &Got) -> Doc {
    let mut doc = Doc::new();
    token::merge(&mut doc, got.answer.doc.clone(), now_ms());
    if let Some(rt) = &got.refresh_token
        && !doc.contains_key("refresh_token")
    {
        doc.insert("refresh_token".into(), Value::String(rt.expose().into()));
    }
    doc.insert(
        grant::CLIENT_ID.into(),
        Value::String(got.client_id.clone()),
    );
    doc.insert(
        crate::endpoint::TOKEN_URL.into(),
        Value::String(got.token_url.clone()),
    );
    if let Some(renewal) = &got.minted {
        grant::record(&mut doc, renewal, &got.client_id);
    }
    doc
}

/// Where a login puts the first token: a new file, or a key in etcd.
enum Dest<'a> {
    File(NewFile),
    Etcd(&'a Location),
}

impl<'a> Dest<'a> {
    fn new(target: &'a Location) -> Result<Dest<'a>, Error> {
        match target {
            Location::File(path) => Ok(Dest::File(NewFile::new(path)?)),
            other => Ok(Dest::Etcd(other)),
        }
    }

    fn shown(&self) -> String {
        match self {
            Dest::File(f) => f.shown().to_string(),
            Dest::Etcd(l) => l.shown(),
        }
    }

    fn error(&self, problem: impl Into<String>) -> Error {
        Error::token_file(&self.shown(), problem)
    }

    /// A token already there is replaced only when it holds no refresh token (or is
    /// empty), or with `--force`: said before anything is sent, so no one approves a
    /// login that cannot be saved.
    fn check_replaceable(&self, force: bool, c: &Common) -> Result<(), Error> {
        let existing = match self {
            Dest::File(f) => f.existing()?,
            Dest::Etcd(l) => store::read_if_any(l, c.reach(), c.timeout)?,
        };
        match existing {
            None => Ok(()),
            Some(bytes) => {
                replaceable(&bytes, force).map_err(|p| self.error(p + "; nothing was sent"))
            }
        }
    }

    fn check_writable(&self, size: u64) -> Result<(), Error> {
        match self {
            Dest::File(f) => f.check_writable(size),
            Dest::Etcd(_) => Ok(()),
        }
    }

    /// Creates the file whole, or, when one appeared meanwhile (or for etcd, always),
    /// replaces it under its lock after the same check as before.
    fn save(&self, text: &[u8], force: bool, c: &Common) -> Result<(), Error> {
        let log = c.log;
        let location = match self {
            Dest::File(file) => match file.create(text, &log)? {
                Created::Done => {
                    log.step(format_args!("created {} (mode 0600)", file.shown()));
                    return Ok(());
                }
                Created::Exists => Location::File(file.path().to_path_buf()),
            },
            Dest::Etcd(l) => (*l).clone(),
        };
        let locked = Held::open_with(
            &location,
            Instant::now() + LOCK_WAIT,
            LOCK_WAIT,
            &log,
            Sweep::Scan,
            c.reach(),
        )?;
        if let Some(bytes) = locked.read_if_any()? {
            replaceable(&bytes, force).map_err(|p| locked.error(p))?;
        }
        locked.replace(text, &log)?;
        let verb = if matches!(self, Dest::File(_)) {
            "replaced"
        } else {
            "saved"
        };
        log.step(format_args!("{verb} {}", locked.shown()));
        Ok(())
    }

    /// The token could not be saved: keep the answer in a rescue file, as a refresh does.
    fn rescued(&self, raw: &[u8], e: Error) -> Error {
        let written = match self {
            Dest::File(file) => {
                let beside = rescue::Beside {
                    dir: file.dir(),
                    name: file.short_name(),
                    owner: None,
                };
                rescue::write(raw, Some(beside), file.short_name())
            }
            Dest::Etcd(l) => rescue::write(raw, None, &store::rescue_name(l)),
        };
        match written {
            Ok(path) => say(format_args!(
                "the server's answer (the new token) was saved to {} (mode 0600)",
                rescue::shown(&path)
            )),
            Err(why) => say(format_args!(
                "the server's answer could not be saved to a rescue file either: {}",
                sanitize(&why)
            )),
        }
        e
    }
}

fn replaceable(bytes: &[u8], force: bool) -> Result<(), String> {
    if force || bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    match token::parse_object(bytes) {
        Err(_) => Err("exists and is not a token file; use --force to replace it".into()),
        Ok(doc) if token::refresh_token(&doc).is_ok() => Err(
            "already holds a refresh token; use --force to replace it (the old token stays \
             valid until revoked)"
                .into(),
        ),
        Ok(_) => Ok(()),
    }
}

/// The status line, and a warning when the file cannot be refreshed later.
fn report(doc: &Doc, got: &Got, shown: &str, log: &Log) {
    let org = doc
        .get("instance_url")
        .and_then(Value::as_str)
        .map_or_else(|| got.token_url.clone(), sanitize);
    let how = match &got.minted {
        Some(r) => format!(
            "no refresh token: 'sfrefresh {shown}' mints the next token with {}",
            r.grant().word()
        ),
        None if doc.contains_key("refresh_token") => "with a refresh token".into(),
        None => "without a refresh token".into(),
    };
    log.status(format_args!("logged in to {org}; saved {shown} ({how})"));
    if got.minted.is_none() && !doc.contains_key("refresh_token") {
        say(format_args!(
            "warning: the answer holds no refresh token, so this file cannot be refreshed: \
             the app's OAuth scopes (and --scope) need refresh_token or offline_access"
        ));
    }
}

/// For messages: a path as given.
pub(super) fn shown(path: &Path) -> String {
    rescue::shown(path)
}

/// Reads a small file a login takes its input from (never argv).
pub(super) fn read_small(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    fs::File::open(path)?
        .take(limit + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}
