//! Which grant renews a token file, chosen in one place: the refresh token it holds, or,
//! for a file made by a grant that gives no refresh token (JWT bearer, client
//! credentials), minting a new token with what the flags say or the file records.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde_json::Value;

use crate::client::Credentials;
use crate::clock::now_ms;
use crate::endpoint::{EndpointOpts, origin_of};
use crate::error::Error;
use crate::jwt;
use crate::secret::Secret;
use crate::sourced::Sourced;
use crate::token::{self, Doc};

/// RFC 7523's grant type.
pub(crate) const JWT_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// What sfrefresh records in a token file so that later runs need fewer flags. None is a
/// secret: the key file's path is recorded, never the key.
pub(crate) const CLIENT_ID: &str = "client_id";
pub(crate) const GRANT: &str = "sfrefresh_grant";
pub(crate) const USERNAME: &str = "sfrefresh_username";
pub(crate) const JWT_KEY: &str = "sfrefresh_jwt_key";
pub(crate) const AUDIENCE: &str = "sfrefresh_audience";

pub(crate) const PRODUCTION_AUDIENCE: &str = "https://login.salesforce.com";
pub(crate) const SANDBOX_AUDIENCE: &str = "https://test.salesforce.com";

/// `--grant`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grant {
    RefreshToken,
    JwtBearer,
    ClientCredentials,
}

impl Grant {
    const WORDS: [(&'static str, Grant); 3] = [
        ("refresh-token", Grant::RefreshToken),
        ("jwt-bearer", Grant::JwtBearer),
        ("client-credentials", Grant::ClientCredentials),
    ];

    pub(crate) fn word(self) -> &'static str {
        Grant::WORDS
            .iter()
            .find(|(_, g)| *g == self)
            .map_or("refresh-token", |(w, _)| w)
    }

    fn from_word(word: &str) -> Option<Grant> {
        Grant::WORDS
            .iter()
            .find(|(w, _)| *w == word)
            .map(|(_, g)| *g)
    }
}

impl FromStr for Grant {
    type Err = Error;
    fn from_str(s: &str) -> Result<Grant, Error> {
        Grant::from_word(s).ok_or_else(|| {
            Error::usage(format!(
                "invalid value '{s}' for '--grant': expected 'refresh-token', 'jwt-bearer' or \
                 'client-credentials'"
            ))
        })
    }
}

/// The grant flags as given, checked for form only; the file fills the gaps per run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct GrantOpts {
    pub(crate) grant: Option<Grant>,
    pub(crate) jwt_key: Option<PathBuf>,
    pub(crate) username: Option<String>,
    pub(crate) audience: Option<String>,
}

impl GrantOpts {
    /// `--grant`, else JWT bearer when `--jwt-key` is given.
    pub(crate) fn flagged(&self) -> Option<Grant> {
        self.grant
            .or(self.jwt_key.as_ref().map(|_| Grant::JwtBearer))
    }
}

/// How this run gets its token.
#[derive(Debug)]
pub(crate) enum Renewal {
    Refresh(Secret),
    Jwt(JwtPlan),
    ClientCredentials,
}

/// What a JWT bearer assertion needs besides the client id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JwtPlan {
    /// Absolute, so the path recorded in the file works from cron's directory too.
    pub(crate) key: PathBuf,
    pub(crate) username: String,
    pub(crate) audience: String,
}

impl Renewal {
    pub(crate) fn grant(&self) -> Grant {
        match self {
            Renewal::Refresh(_) => Grant::RefreshToken,
            Renewal::Jwt(_) => Grant::JwtBearer,
            Renewal::ClientCredentials => Grant::ClientCredentials,
        }
    }
}

/// The grant for a refresh of `doc`: the flags (`--grant`, `--jwt-key`), else the
/// file's `sfrefresh_grant`, else its refresh token. A refresh-token file without one
/// is the token file's problem (`file_error`, exit 3), as it always was.
pub(crate) fn choose(
    opts: &GrantOpts,
    endpoints: &EndpointOpts,
    doc: &Doc,
    file_error: &dyn Fn(String) -> Error,
) -> Result<Renewal, Error> {
    let grant = match opts.flagged() {
        Some(g) => g,
        None => recorded_grant(doc).map_err(file_error)?,
    };
    if grant != Grant::JwtBearer
        && let Some(flag) = [
            ("--username", opts.username.is_some()),
            ("--audience", opts.audience.is_some()),
        ]
        .iter()
        .find_map(|(f, given)| given.then_some(*f))
    {
        return Err(Error::usage(format!(
            "{flag} is only used by the jwt-bearer grant, and this run uses {}",
            grant.word()
        )));
    }
    match grant {
        Grant::RefreshToken => Ok(Renewal::Refresh(
            token::refresh_token(doc).map_err(file_error)?,
        )),
        Grant::ClientCredentials => Ok(Renewal::ClientCredentials),
        Grant::JwtBearer => Ok(Renewal::Jwt(jwt_plan(opts, endpoints, Some(doc))?)),
    }
}

fn recorded_grant(doc: &Doc) -> Result<Grant, String> {
    match doc.get(GRANT) {
        None => Ok(Grant::RefreshToken),
        Some(Value::String(w)) => Grant::from_word(w).ok_or_else(|| {
            format!(
                "\"{GRANT}\" is '{}', not 'refresh-token', 'jwt-bearer' or 'client-credentials'",
                crate::report::sanitize(w)
            )
        }),
        Some(_) => Err(format!("\"{GRANT}\" is not a string")),
    }
}

/// A recorded string field, when it is a non-empty string.
fn recorded<'a>(doc: Option<&'a Doc>, field: &str) -> Option<&'a str> {
    doc?.get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// The key, user and audience of a JWT bearer assertion: flags, then the file.
pub(crate) fn jwt_plan(
    opts: &GrantOpts,
    endpoints: &EndpointOpts,
    doc: Option<&Doc>,
) -> Result<JwtPlan, Error> {
    let key = match (&opts.jwt_key, recorded(doc, JWT_KEY)) {
        (Some(p), _) => absolute(p)?,
        (None, Some(p)) => PathBuf::from(p),
        (None, None) => {
            return Err(Error::usage(
                "the JWT bearer grant needs the app's private key: --jwt-key PATH (a PEM file)",
            ));
        }
    };
    let username = match (&opts.username, recorded(doc, USERNAME)) {
        (Some(u), _) => u.clone(),
        (None, Some(u)) => u.to_string(),
        (None, None) => {
            return Err(Error::usage(
                "the JWT bearer grant needs --username NAME: the Salesforce user the app acts \
                 as (the assertion's sub)",
            ));
        }
    };
    Ok(JwtPlan {
        key,
        username,
        audience: audience(opts, endpoints, recorded(doc, AUDIENCE)),
    })
}

/// The key path as recorded: absolute, with `.`/`..` and symlinked directories resolved.
/// A missing file is said here, before anything is sent.
fn absolute(path: &Path) -> Result<PathBuf, Error> {
    let real = std::fs::canonicalize(path).map_err(|e| {
        Error::usage(format!(
            "cannot read the JWT key file {}: {}",
            path.display(),
            crate::report::io_words(&e)
        ))
    })?;
    // The file records it as a JSON string; a lossy copy would name another file.
    if real.to_str().is_none() {
        return Err(Error::usage(format!(
            "the JWT key file's path {} is not UTF-8, so the token file cannot record it",
            path.display()
        )));
    }
    Ok(real)
}

/// The assertion's `aud`: `--audience`; `--sandbox`; a `--login-url` (or `SF_LOGIN_URL`)
/// on a sandbox My Domain is the sandbox audience, on another My Domain production's,
/// and any other (an Experience Cloud site) its own origin; then what the file records;
/// then production. Salesforce takes only these.
pub(crate) fn audience(opts: &GrantOpts, endpoints: &EndpointOpts, file: Option<&str>) -> String {
    if let Some(a) = &opts.audience {
        return a.clone();
    }
    if endpoints.sandbox {
        return SANDBOX_AUDIENCE.into();
    }
    if let Some(Sourced { value, .. }) = &endpoints.login_url
        && let Some(origin) = origin_of(value)
    {
        let host = origin.rsplit("://").next().unwrap_or_default();
        let host = host
            .split(':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        return if host.ends_with(".sandbox.my.salesforce.com") {
            SANDBOX_AUDIENCE.into()
        } else if host.ends_with(".my.salesforce.com") {
            PRODUCTION_AUDIENCE.into()
        } else {
            origin
        };
    }
    file.map_or_else(|| PRODUCTION_AUDIENCE.to_string(), String::from)
}

/// A renewal ready to send: the grant's form fields and how the client authenticates.
pub(crate) struct Prepared<'a> {
    grant_type: &'static str,
    /// The grant's secret field (refresh token, assertion), if it has one.
    secret: Option<(&'static str, Secret)>,
    pub(crate) credentials: &'a Credentials,
}

/// A JWT is the client's proof on its own (RFC 7523 §2.1): no secret travels with it.
static ID_ONLY: Credentials = Credentials::IdOnly;

/// Checks what the grant needs and builds its fields; the JWT's key is read and the
/// assertion signed here, before anything is sent.
pub(crate) fn prepare<'a>(
    renewal: &Renewal,
    client_id: &str,
    credentials: &'a Credentials,
) -> Result<Prepared<'a>, Error> {
    Ok(match renewal {
        Renewal::Refresh(rt) => Prepared {
            grant_type: "refresh_token",
            secret: Some(("refresh_token", rt.clone())),
            credentials,
        },
        Renewal::ClientCredentials => {
            if credentials.secret().is_none() {
                return Err(Error::usage(
                    "the client credentials grant needs the client secret \
                     (--client-secret-file or SF_CLIENT_SECRET)",
                ));
            }
            Prepared {
                grant_type: "client_credentials",
                secret: None,
                credentials,
            }
        }
        Renewal::Jwt(plan) => Prepared {
            grant_type: JWT_GRANT,
            secret: Some(("assertion", signed(plan, client_id)?)),
            credentials: &ID_ONLY,
        },
    })
}

impl Prepared<'_> {
    /// The form fields, for `oauth::Exchange`.
    pub(crate) fn pairs(&self) -> Vec<(&str, &str)> {
        let mut pairs = vec![("grant_type", self.grant_type)];
        if let Some((k, v)) = &self.secret {
            pairs.push((k, v.expose()));
        }
        pairs
    }

    /// The grant's secret is never shown in server text.
    /// The secret the request carries (a refresh token, an assertion), to be hidden.
    pub(crate) fn secret(&self) -> Option<&Secret> {
        self.secret.as_ref().map(|(_, v)| v)
    }
}

fn signed(plan: &JwtPlan, client_id: &str) -> Result<Secret, Error> {
    let key = jwt::load(&plan.key)?;
    jwt::assertion(
        &key,
        &jwt::Claims {
            iss: client_id,
            sub: &plan.username,
            aud: &plan.audience,
            exp: now_ms() / 1000 + jwt::LIFETIME_SECS,
        },
    )
}

/// Records in `doc` what the next mint needs (client id, grant, user, key path,
/// audience); a refresh-token renewal records nothing, so its file stays as it was.
pub(crate) fn record(doc: &mut Doc, renewal: &Renewal, client_id: &str) {
    let mut put = |k: &str, v: &str| {
        doc.insert(k.to_string(), Value::String(v.to_string()));
    };
    match renewal {
        Renewal::Refresh(_) => {}
        Renewal::ClientCredentials => {
            put(CLIENT_ID, client_id);
            put(GRANT, Grant::ClientCredentials.word());
        }
        Renewal::Jwt(plan) => {
            put(CLIENT_ID, client_id);
            put(GRANT, Grant::JwtBearer.word());
            put(USERNAME, &plan.username);
            put(JWT_KEY, &plan.key.to_string_lossy());
            put(AUDIENCE, &plan.audience);
        }
    }
}

#[cfg(test)]
mod tests;
