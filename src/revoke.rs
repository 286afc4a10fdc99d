//! `sfrefresh revoke [OPTIONS] TOKEN_FILE`: RFC 7009 revocation of the refresh token (on
//! Salesforce its access tokens go with it), then the file removed under its lock, or
//! kept without its tokens (`--keep-file`). Until the server has said yes, nothing is
//! written: any failure leaves the file byte for byte as it was.

use std::fs;
use std::time::Instant;

use crate::answer::{self, BodyError, Failure, Head, Outcome};
use crate::endpoint::{self, Endpoint};
use crate::error::Error;
use crate::oauth::{Call, Exchange};
use crate::proxy::Route;
use crate::report::{Log, Redactor, say};
use crate::secret::Secret;
use crate::session::Common;
use crate::session::{self, Session};
use crate::sourced::Sourced;
use crate::store::{Held, Location, Sweep};
use crate::token::{self, Doc};

/// `sfrefresh revoke [OPTIONS] TOKEN_FILE`, checked.
pub(crate) struct RevokeArgs {
    pub(crate) location: Location,
    pub(crate) common: Common,
    /// `--revoke-url` or `SF_REVOKE_URL`, checked; `None` derives it from the token endpoint.
    pub(crate) revoke_url: Option<Sourced<String>>,
    pub(crate) keep_file: bool,
}

pub(crate) fn run(args: &RevokeArgs) -> Result<(), Error> {
    let c = &args.common;
    let log = c.log;
    let deadline = Instant::now() + c.timeout;
    let file = Held::open_with(
        &args.location,
        deadline,
        c.timeout,
        &log,
        Sweep::Scan,
        c.reach(),
    )?;
    let input = file.read()?;
    let doc = token::parse_object(&input).map_err(|p| file.error(p))?;
    let refresh_token = token::refresh_token(&doc)
        .map_err(|p| file.error(format!("{p}, so there is nothing to revoke")))?;
    let client_id = session::client_id(c, &doc)?;
    let token_endpoint = endpoint::choose(&c.endpoints, &doc)?;
    log.step(format_args!(
        "token endpoint {} (from {})",
        token_endpoint.url, token_endpoint.source
    ));
    let url = revoke_url(args, &token_endpoint)?;
    log.step(format_args!(
        "revocation endpoint {} (from {})",
        url.value, url.source
    ));
    let uri = endpoint::check(
        &url.value,
        &format!("the revocation URL from {}", url.source),
    )?;
    let mut session = Session::new(c, deadline, Some(file.shown()));
    let route = session.route(&uri)?;
    session.log_route(&route);
    // Removing or rewriting the file takes the same rights in its directory as a save:
    // proven before the token is revoked, so that a revoked token never stays behind.
    let kept = args.keep_file.then(|| without_tokens(&doc, &input));
    file.check_writable(kept.as_ref().map_or(0, |t| t.len() as u64))?;
    let request = Request {
        url: &url.value,
        route: &route,
        refresh_token: &refresh_token,
        client_id: &client_id.value,
    };
    let said = ask(&mut session, &doc, &request)?;
    verdict(said, &url.value, file.shown())?;
    let done = settle(&file, &args.location, kept, &log).map_err(revoked_all_the_same)?;
    log.status(format_args!(
        "revoked the refresh token for {}; {done}",
        token::org(&doc, &token_endpoint.url)
    ));
    Ok(())
}

/// What the revocation request is made of.
struct Request<'a> {
    url: &'a str,
    route: &'a Route,
    refresh_token: &'a Secret,
    client_id: &'a str,
}

/// POSTs `token` and `token_type_hint=refresh_token` with the client's authentication,
/// again as the retry rules allow, every secret redacted from what the server says.
fn ask(session: &mut Session<'_>, doc: &Doc, r: &Request<'_>) -> Result<Said, Error> {
    session.hide(r.refresh_token);
    session.hide_tokens(doc);
    let http = session.agent(r.route);
    let fields = [
        ("token", r.refresh_token.expose()),
        ("token_type_hint", "refresh_token"),
    ];
    let exchange = Exchange {
        url: r.url,
        proxy: r.route.proxy_shown(),
        fields: &fields,
        client_id: r.client_id,
        credentials: &session.common.credentials,
    };
    session
        .send(&http, &Call::exchange(&exchange), classify)
        .map_err(|f| *f.error)
}

/// The token is revoked: the file goes, or stays without its tokens. Says which, and
/// through a symlink (`given`), which file went: the link's target, not the link.
fn settle(
    file: &Held,
    given: &Location,
    kept: Option<Vec<u8>>,
    log: &Log,
) -> Result<String, Error> {
    match kept {
        Some(text) => {
            file.replace(&text, log)?;
            Ok(format!(
                "{} is kept without access_token and refresh_token",
                file.shown()
            ))
        }
        None => {
            let real = file.remove(log)?;
            let link = match given {
                Location::File(path) => {
                    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
                }
                _ => false,
            };
            Ok(if link {
                format!(
                    "removed {}, which the symlink {} pointed to; the link is left, dangling",
                    real,
                    file.shown()
                )
            } else {
                format!("removed {}", file.shown())
            })
        }
    }
}

/// `--revoke-url` / `SF_REVOKE_URL`, else the token endpoint with its last `/token`
/// made `/revoke`: Salesforce's `/services/oauth2/revoke` on the same host, and the
/// pattern of many other servers.
fn revoke_url(args: &RevokeArgs, token: &Endpoint) -> Result<Sourced<String>, Error> {
    if let Some(u) = &args.revoke_url {
        return Ok(u.clone());
    }
    let uri = &token.uri;
    match uri.path().strip_suffix("/token") {
        Some(base) => Ok(Sourced {
            value: format!(
                "{}://{}{base}/revoke",
                uri.scheme_str().unwrap_or("https"),
                uri.authority().map(|a| a.as_str()).unwrap_or_default()
            ),
            source: "the token endpoint, /token made /revoke",
        }),
        None => Err(Error::usage(format!(
            "cannot tell the revocation endpoint from the token endpoint {}: give it with \
             --revoke-url (or SF_REVOKE_URL)",
            token.url
        ))),
    }
}

/// The document without the two tokens, as it is saved with `--keep-file`.
fn without_tokens(doc: &Doc, input: &[u8]) -> Vec<u8> {
    let mut rest = doc.clone();
    rest.shift_remove("access_token");
    rest.shift_remove("refresh_token");
    token::to_file_text(&rest, &[input])
}

/// What the revocation endpoint said.
enum Said {
    Revoked,
    /// Salesforce's 400 `invalid_token`: nothing left to revoke.
    AlreadyInvalid(String),
    Refused {
        status: u16,
        detail: String,
    },
    NotThere {
        status: u16,
        detail: String,
    },
}

/// RFC 7009 §2.2: 200 is success. Salesforce answers 400 `invalid_token` for a token
/// that is already dead; redirects and transient answers are read as for a token
/// request (revoking twice is harmless, so transient failures are retried); a 404, 405
/// or an HTML page is not a revocation endpoint; any other 4xx is a refusal.
fn classify(head: &Head<'_>, body: Result<Vec<u8>, BodyError>, r: &Redactor) -> Outcome<Said> {
    let status = head.status;
    if (200..300).contains(&status) {
        return Outcome::Done(Said::Revoked);
    }
    if (300..400).contains(&status) || status == 429 || status >= 500 {
        return match answer::classify(head, body, r) {
            Outcome::Failed { failure, .. } => failure.into(),
            Outcome::Done(_) => Failure::Unreadable("an unexpected answer".into()).into(),
        };
    }
    let bytes = body.unwrap_or_default();
    let oauth = answer::parse_oauth_error(&bytes, r);
    let detail = match &oauth {
        Some(o) => o.to_string(),
        None => r.show_bytes(&bytes),
    };
    if oauth.as_ref().is_some_and(|o| o.error == "invalid_token") {
        return Outcome::Done(Said::AlreadyInvalid(format!("HTTP {status}: {detail}")));
    }
    let page = oauth.is_none() && (head.html || bytes.trim_ascii_start().starts_with(b"<"));
    if status == 404 || status == 405 || page {
        let detail = if page { String::new() } else { detail };
        return Outcome::Done(Said::NotThere { status, detail });
    }
    Outcome::Done(Said::Refused { status, detail })
}

/// Success (said so when the token was already invalid), or the refusal as an error.
fn verdict(said: Said, url: &str, file: &str) -> Result<(), Error> {
    let unchanged = format!("{file} was not changed");
    match said {
        Said::Revoked => Ok(()),
        Said::AlreadyInvalid(detail) => {
            say(format_args!(
                "warning: {url} says the refresh token was already invalid ({detail}): \
                 there was nothing left to revoke"
            ));
            Ok(())
        }
        Said::Refused { status, detail } => Err(Error::refused(
            format!(
                "{url} answered HTTP {status}: the revocation was refused{}; {unchanged}",
                colon(&detail)
            ),
            None,
        )
        .hinted(
            "revoking takes the same client authentication as refreshing: check \
             --client-id, --client-secret-file (or SF_CLIENT_SECRET) and --client-auth",
        )),
        Said::NotThere { status, detail } => Err(Error::network(format!(
            "{url} answered HTTP {status}: this is not a revocation endpoint{}; {unchanged}",
            colon(&detail)
        ))
        .hinted(
            "give the server's RFC 7009 revocation endpoint with --revoke-url (or \
             SF_REVOKE_URL)",
        )),
    }
}

fn colon(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

/// The token is revoked but the file could not be removed or rewritten: it now holds
/// only dead tokens, which the message says.
fn revoked_all_the_same(e: Error) -> Error {
    e.noting(
        "the refresh token was revoked all the same, so the file holds only dead tokens: \
         remove it by hand",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(status: u16, body: &str, html: bool) -> Outcome<Said> {
        let head = Head {
            status,
            location: None,
            retry_after: None,
            html,
        };
        classify(&head, Ok(body.into()), &Redactor::default())
    }

    #[test]
    fn revocation_answers() {
        assert!(matches!(said(200, "", false), Outcome::Done(Said::Revoked)));
        assert!(matches!(
            said(400, r#"{"error":"invalid_token"}"#, false),
            Outcome::Done(Said::AlreadyInvalid(d)) if d == "HTTP 400: invalid_token"
        ));
        assert!(matches!(
            said(401, r#"{"error":"invalid_client","error_description":"bad"}"#, false),
            Outcome::Done(Said::Refused { status: 401, detail }) if detail == "invalid_client: bad"
        ));
        assert!(matches!(
            said(400, r#"{"error":"unsupported_token_type"}"#, false),
            Outcome::Done(Said::Refused { status: 400, .. })
        ));
        assert!(matches!(
            said(404, "<html>URL No Longer Exists</html>", true),
            Outcome::Done(Said::NotThere { status: 404, detail }) if detail.is_empty()
        ));
        assert!(matches!(
            said(503, "down", false),
            Outcome::Failed {
                failure: Failure::Transient { status: 503, .. },
                ..
            }
        ));
        assert!(matches!(
            said(301, "", false),
            Outcome::Failed {
                failure: Failure::Redirect { .. },
                ..
            }
        ));
    }
}
