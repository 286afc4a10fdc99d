//! `sfrefresh [refresh] [OPTIONS] TOKEN_FILE`: open, read, decide, check, send, merge,
//! save, report; every step in order on one page. `refresh_file` is that page for one
//! file; `fleet.rs` calls it for each of many files with the agents of its thread.

use std::time::{Duration, Instant};

use crate::answer::Answer;
use crate::clock::{human, now_ms};
use crate::endpoint::{self, Endpoint};
use crate::error::Error;
use crate::error::Kind;
use crate::grant::GrantOpts;
use crate::grant::{self, Renewal};
use crate::net;
use crate::oauth::Exchange;
use crate::print;
use crate::print::Print;
use crate::report::{Log, sanitize, say};
use crate::session::Common;
use crate::session::{self, Session};
use crate::signature;
use crate::store::Held;
use crate::store::Location;
use crate::store::Sweep;
use crate::token::{self, Doc, MAX_FILE};

/// `sfrefresh [refresh] [OPTIONS] TOKEN_FILE…`, checked.
pub(crate) struct RefreshArgs {
    /// The one token file; in a batch (`batch::FleetArgs`), the first path given
    /// (unused: each file of the batch is its own target).
    pub(crate) target: Location,
    pub(crate) common: Common,
    pub(crate) verify_signature: bool,
    pub(crate) if_older_than: Option<Duration>,
    pub(crate) print: Option<Print>,
    /// `--grant`, `--jwt-key`, `--username`, `--audience` (see `src/grant.rs`).
    pub(crate) grant: GrantOpts,
}

/// Room kept for what an answer adds to the file, in the pre-send space check.
const ANSWER_ROOM: u64 = 64 * 1024;

/// Refreshes (or finds fresh) the token and returns the document as it now stands. The
/// lock is released on return, so `exec` can hand the token on without holding it.
pub(crate) fn run(args: &RefreshArgs) -> Result<Doc, Error> {
    let (done, doc) = refresh_file(args, &args.target, &mut net::Agents::default(), Sweep::Scan)?;
    args.common.log.status(format_args!("{}", done.status()));
    Ok(doc)
}

/// How a file's refresh ended well; `status` is the line that says so.
#[derive(Debug)]
pub(crate) enum Done {
    Refreshed {
        org: String,
        rotated: bool,
        /// What the status line says happened: kept, rotated, or minted.
        how: &'static str,
        issued_at_ms: Option<u64>,
    },
    Fresh {
        org: String,
        age: Duration,
        issued_at_ms: Option<u64>,
    },
}

impl Done {
    pub(crate) fn status(&self) -> String {
        match self {
            Done::Refreshed { org, how, .. } => format!("refreshed token for {org} ({how})"),
            Done::Fresh { org, age, .. } => format!(
                "token for {org} is fresh (issued {} ago), not refreshed",
                human(*age)
            ),
        }
    }
}

/// One file, every step: the whole single-file run without its status line. `agents`
/// are this thread's (kept-alive connections across files), `sweep` says how leftover
/// temp files are found.
pub(crate) fn refresh_file(
    args: &RefreshArgs,
    spec: &Location,
    agents: &mut net::Agents,
    sweep: Sweep<'_>,
) -> Result<(Done, Doc), Error> {
    let c = &args.common;
    let log = c.log;
    let deadline = Instant::now() + c.timeout;
    if let Some(found) = fresh_without_lock(args, spec)? {
        return Ok(found);
    }
    let target = Held::open_with(spec, deadline, c.timeout, &log, sweep, c.reach())?;
    let input = target.read()?;
    let mut doc = token::parse_object(&input).map_err(|p| target.error(p))?;
    // The refresh token it holds, or a new mint for a file made by a grant without one.
    let renewal = grant::choose(&args.grant, &c.endpoints, &doc, &|p| target.error(p))?;
    if let Some(age) = fresh(args, &doc, &log) {
        let done = finish_skip(args, Some(&target), target.shown(), &doc, &input, age)?;
        return Ok((done, doc));
    }
    let client_id = session::client_id(c, &doc)?;
    let endpoint = endpoint::choose(&c.endpoints, &doc)?;
    log.step(format_args!(
        "token endpoint {} (from {})",
        endpoint.url, endpoint.source
    ));
    let mut session = Session::new(c, deadline, Some(target.shown()));
    let route = session.route(&endpoint.uri)?;
    session.log_route(&route);
    let request = grant::prepare(&renewal, &client_id.value, &c.credentials)?;
    if args.verify_signature {
        check_stored_signature(c, &doc, &target, &log)?;
    }
    let planned = token::to_file_text(&doc, &[&input]).len() as u64 + ANSWER_ROOM;
    if planned > MAX_FILE {
        return Err(target.error(format!(
            "is too large to refresh safely: with room for the answer it would pass the \
             1 MiB that sfrefresh reads back ({} KiB); nothing was sent",
            planned / 1024
        )));
    }
    target.check_writable(planned)?;

    if let Some(s) = request.secret() {
        session.hide(s);
    }
    session.hide_tokens(&doc);
    let http = agents.get(&c.roots, &route);
    let fields = request.pairs();
    let exchange = Exchange {
        url: &endpoint.url,
        proxy: route.proxy_shown(),
        fields: &fields,
        client_id: &client_id.value,
        credentials: request.credentials,
    };
    let answer = session
        .token_request(http, &exchange)
        .map_err(|f| match f.keep {
            Some(raw) => rescued(&target, &raw, *f.error),
            None => *f.error,
        })?;
    if args.verify_signature {
        verify_answer(c, &answer, &endpoint, &log).map_err(|e| rescued(&target, &answer.raw, e))?;
    }
    let merged = token::merge(&mut doc, answer.doc, now_ms());
    grant::record(&mut doc, &renewal, &client_id.value);
    let text = token::to_file_text(&doc, &[&input, &answer.raw]);
    if text.len() as u64 > MAX_FILE {
        let e = target.error(format!(
            "cannot be saved: with the answer it would be {} KiB, more than the 1 MiB that \
             sfrefresh reads back",
            text.len() / 1024
        ));
        return Err(rescued(&target, &answer.raw, e));
    }
    target
        .save(&text, &log)
        .map_err(|e| rescued(&target, &answer.raw, rotated_note(e, merged.rotated)))?;
    if let Some(form) = args.print
        && !matches!(target, Held::Stdio { .. })
    {
        let bytes = print::render(form, &doc, &text).map_err(|problem| {
            Error::output(format!(
                "{problem} (the token file {} is saved)",
                target.shown()
            ))
        })?;
        print::emit(&bytes, target.shown())?;
    }
    let done = Done::Refreshed {
        org: token::org(&doc, &endpoint.url),
        rotated: merged.rotated,
        how: match renewal {
            Renewal::Refresh(_) if merged.rotated => "refresh token rotated",
            Renewal::Refresh(_) => "refresh token kept",
            Renewal::Jwt(_) => "new token minted with jwt-bearer",
            Renewal::ClientCredentials => "new token minted with client-credentials",
        },
        issued_at_ms: token::issued_at_ms(&doc),
    };
    Ok((done, doc))
}

/// The token is fresh enough to keep: `--if-older-than` is set, the token was issued
/// less than that long ago, and there is an access token to use. `-v` says why not.
fn fresh(args: &RefreshArgs, doc: &Doc, log: &Log) -> Option<Duration> {
    let Some(limit) = args.if_older_than else {
        log.step(format_args!("refreshing: no --if-older-than given"));
        return None;
    };
    match token::due(doc, limit, now_ms()) {
        Ok(age) => Some(age),
        Err(why) => {
            log.step(format_args!("refreshing: {why}"));
            None
        }
    }
}

/// A family shared in etcd is looked at without the lock first: many hosts read a
/// fresh token at once (`exec`, `--print`, `--watch`) and none of them waits or writes.
/// A token that is due is then locked and read again, as it may have just been
/// refreshed by another host.
fn fresh_without_lock(args: &RefreshArgs, spec: &Location) -> Result<Option<(Done, Doc)>, Error> {
    let (Location::Etcd(_), Some(limit)) = (spec, args.if_older_than) else {
        return Ok(None);
    };
    let c = &args.common;
    let shown = spec.shown();
    let input = crate::store::read_unlocked(spec, c.reach(), c.timeout)?;
    let doc = token::parse_object(&input).map_err(|p| Error::token_file(&shown, p))?;
    grant::choose(&args.grant, &c.endpoints, &doc, &|p| {
        Error::token_file(&shown, p)
    })?;
    let Ok(age) = token::due(&doc, limit, now_ms()) else {
        return Ok(None);
    };
    c.log
        .step(format_args!("{shown} is fresh; read without its lock"));
    let done = finish_skip(args, None, &shown, &doc, &input, age)?;
    Ok(Some((done, doc)))
}

/// The token is fresh: nothing to send. `-` passes it through to stdout; `--print`
/// prints it.
fn finish_skip(
    args: &RefreshArgs,
    target: Option<&Held>,
    shown: &str,
    doc: &Doc,
    input: &[u8],
    age: Duration,
) -> Result<Done, Error> {
    match (args.print, target) {
        (_, Some(held @ Held::Stdio { .. })) => held.save(input, &args.common.log)?,
        (Some(form), _) => {
            let bytes = print::render(form, doc, input).map_err(|problem| {
                Error::output(format!("{problem} (the token file {shown} is unchanged)"))
            })?;
            print::emit(&bytes, shown)?;
        }
        (None, _) => {}
    }
    Ok(Done::Fresh {
        org: token::org(doc, "the token file"),
        age,
        issued_at_ms: token::issued_at_ms(doc),
    })
}

/// `--verify-signature` checks the stored signature first: a wrong secret is then a
/// usage error before anything is sent, not a mismatch after a rotating server has
/// consumed the refresh token.
fn check_stored_signature(c: &Common, doc: &Doc, target: &Held, log: &Log) -> Result<(), Error> {
    let Some(secret) = c.credentials.secret() else {
        return Ok(());
    };
    match signature::check(doc, secret) {
        signature::Check::Valid => {
            log.step(format_args!(
                "the stored signature matches the client secret"
            ));
            Ok(())
        }
        signature::Check::Absent(lacking) => {
            log.step(format_args!(
                "{}",
                lacking.words(
                    "the token file",
                    "to check the secret with",
                    "so the secret cannot be checked"
                )
            ));
            Ok(())
        }
        signature::Check::Mismatch => Err(Error::usage(format!(
            "--verify-signature: the signature stored in {} does not match the client secret: \
             the secret belongs to another app, or the file was altered; nothing was sent",
            target.shown()
        ))),
    }
}

fn verify_answer(c: &Common, answer: &Answer, endpoint: &Endpoint, log: &Log) -> Result<(), Error> {
    let Some(secret) = c.credentials.secret() else {
        return Ok(());
    };
    match signature::check(&answer.doc, secret) {
        signature::Check::Valid => {
            log.step(format_args!("signature verified"));
            Ok(())
        }
        signature::Check::Absent(lacking) => {
            log.step(format_args!(
                "{}",
                lacking.words("the answer", "to verify", "so it cannot be verified")
            ));
            Ok(())
        }
        signature::Check::Mismatch => Err(Error::network(format!(
            "signature mismatch in the answer from {}: the answer may have been tampered with",
            endpoint.url
        ))
        .hinted(
            "check that the client secret belongs to this Connected App or External Client \
             App; nothing was saved",
        )),
    }
}

/// A failed save after the server rotated the refresh token: say what that means.
fn rotated_note(e: Error, rotated: bool) -> Error {
    match (rotated, e.kind()) {
        (true, Kind::TokenFile) => e.noting(
            "the server rotated the refresh token and the new one could not be kept in the \
             file, so use the rescue file or authorise again",
        ),
        _ => e,
    }
}

/// Writes the answer to a rescue file and says where, keeping the error (and its exit code).
fn rescued(target: &Held, raw: &[u8], e: Error) -> Error {
    match target.rescue(raw) {
        Ok(path) => say(format_args!(
            "the server's answer (which may hold the only copy of a new refresh token) was \
             saved to {} (mode 0600); keep it until the token file works again",
            crate::rescue::shown(&path)
        )),
        Err(why) => say(format_args!(
            "the server's answer could not be saved to a rescue file either: {}",
            sanitize(&why)
        )),
    }
    e
}
