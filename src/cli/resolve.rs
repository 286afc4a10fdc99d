//! From raw flags to checked values, once: env fallbacks, cross-checks, the secret and CA
//! files loaded, URLs and the proxy parsed. What leaves here is what the commands use.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use ureq::tls::RootCerts;

use super::flags::LowArgs;
use super::{ClientAuth, Print, TargetSpec};
use crate::clock::parse_duration;
use crate::endpoint::EndpointOpts;
use crate::error::Error;
use crate::grant::GrantOpts;
use crate::proxy::{ProxyEnv, ProxyUrl};
use crate::report::{Level, Log, io_words};
use crate::secret::Secret;

/// A setting and where it came from, so `--verbose` can say why it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sourced<T> {
    pub(crate) value: T,
    pub(crate) source: &'static str,
}

/// How the client authenticates: its id alone, or with the secret in the form body or
/// in an HTTP Basic header (RFC 6749 §2.3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Credentials {
    IdOnly,
    Post(Secret),
    Basic(Secret),
}

impl Credentials {
    pub(crate) fn secret(&self) -> Option<&Secret> {
        match self {
            Credentials::IdOnly => None,
            Credentials::Post(s) | Credentials::Basic(s) => Some(s),
        }
    }
}

/// Where the proxy comes from: `--proxy` (parsed), `--no-proxy`, or the environment
/// (parsed when the endpoint, and so the variable that applies, is known).
#[derive(Debug, Clone)]
pub(crate) enum ProxySetting {
    Flag(ProxyUrl),
    Off,
    Env(ProxyEnv),
}

/// What every command that talks to the token server needs.
pub(crate) struct Common {
    /// `--client-id` or `SF_CLIENT_ID`; `None` lets the token file's `client_id` serve.
    pub(crate) client_id: Option<Sourced<String>>,
    pub(crate) credentials: Credentials,
    pub(crate) endpoints: EndpointOpts,
    pub(crate) roots: RootCerts,
    pub(crate) proxy: ProxySetting,
    pub(crate) timeout: Duration,
    pub(crate) retries: u32,
    pub(crate) log: Log,
}

/// `sfrefresh [refresh] [OPTIONS] TOKEN_FILE`, checked.
pub(crate) struct RefreshArgs {
    pub(crate) target: TargetSpec,
    pub(crate) common: Common,
    pub(crate) verify_signature: bool,
    pub(crate) if_older_than: Option<Duration>,
    pub(crate) print: Option<Print>,
    /// `--grant`, `--jwt-key`, `--username`, `--audience` (see `src/grant.rs`).
    pub(crate) grant: GrantOpts,
}

type Env<'a> = &'a dyn Fn(&str) -> Option<OsString>;

/// An env var that is set and not empty (an empty one counts as unset).
fn nonempty(env: Env<'_>, name: &str) -> Option<OsString> {
    env(name).filter(|v| !v.is_empty())
}

fn utf8(env: Env<'_>, name: &'static str) -> Result<Option<Sourced<String>>, Error> {
    nonempty(env, name)
        .map(|v| {
            v.into_string()
                .map(|value| Sourced {
                    value,
                    source: name,
                })
                .map_err(|_| Error::usage(format!("{name} is not valid UTF-8")))
        })
        .transpose()
}

/// The flag if given, else the env var.
fn flag_or_env(
    flag: Option<String>,
    flag_name: &'static str,
    env: Env<'_>,
    var: &'static str,
) -> Result<Option<Sourced<String>>, Error> {
    match flag {
        Some(value) => Ok(Some(Sourced {
            value,
            source: flag_name,
        })),
        None => utf8(env, var),
    }
}

pub(super) fn refresh(mut low: LowArgs, env: Env<'_>) -> Result<RefreshArgs, Error> {
    let target = match low.positional.len() {
        0 => match nonempty(env, "SF_TOKEN_FILE") {
            Some(t) => target_spec(t),
            None => {
                return Err(Error::usage_help(
                    "no token file: give TOKEN_FILE or set SF_TOKEN_FILE",
                ));
            }
        },
        1 => target_spec(low.positional.remove(0)),
        _ => {
            return Err(Error::usage(format!(
                "unexpected argument '{}': only one TOKEN_FILE is taken",
                low.positional[1].to_string_lossy()
            )));
        }
    };
    let print = low.print.as_deref().map(str::parse::<Print>).transpose()?;
    if target == TargetSpec::Stdio && print.is_some_and(|p| p != Print::Json) {
        // The refreshed document (maybe with a rotated refresh token) must reach stdout,
        // or the only copy of the new refresh token would be lost.
        return Err(Error::usage(
            "--print cannot be used with '-' (except --print json): stdout carries the \
             refreshed JSON",
        ));
    }
    let if_older_than = low
        .if_older_than
        .take()
        .map(|v| {
            parse_duration(&v).map_err(|why| {
                Error::usage(format!("invalid value '{v}' for '--if-older-than': {why}"))
            })
        })
        .transpose()?;
    let verify_signature = low.verify_signature;
    let grant = login::grant_opts(&mut low)?;
    let common = common(low, env)?;
    if verify_signature && common.credentials.secret().is_none() {
        return Err(Error::usage(
            "--verify-signature needs the client secret (--client-secret-file or SF_CLIENT_SECRET)",
        ));
    }
    Ok(RefreshArgs {
        target,
        common,
        verify_signature,
        if_older_than,
        print,
        grant,
    })
}

fn target_spec(t: OsString) -> TargetSpec {
    if t == "-" {
        TargetSpec::Stdio
    } else {
        TargetSpec::Path(PathBuf::from(t))
    }
}

/// The options every server-talking verb shares.
fn common(low: LowArgs, env: Env<'_>) -> Result<Common, Error> {
    let level = match (low.quiet, low.verbose) {
        (_, true) => Level::Verbose,
        (true, false) => Level::Quiet,
        (false, false) => Level::Normal,
    };
    let client_id = flag_or_env(low.client_id, "--client-id", env, "SF_CLIENT_ID")?;
    if client_id
        .as_ref()
        .is_some_and(|c| c.value.trim().is_empty())
    {
        return Err(Error::usage(
            "the client id given with --client-id is empty",
        ));
    }
    let auth = match low.client_auth.as_deref() {
        Some(v) => v.parse()?,
        None => ClientAuth::Post,
    };
    let secret = load_secret(low.secret_file, env)?;
    let credentials = match (secret, auth) {
        (None, ClientAuth::Basic) => {
            return Err(Error::usage(
                "--client-auth basic needs a client secret (--client-secret-file or SF_CLIENT_SECRET)",
            ));
        }
        (None, ClientAuth::Post) => Credentials::IdOnly,
        (Some(s), ClientAuth::Post) => Credentials::Post(s),
        (Some(s), ClientAuth::Basic) => Credentials::Basic(s),
    };
    let endpoints = EndpointOpts::new(
        flag_or_env(low.token_url, "--token-url", env, "SF_TOKEN_URL")?,
        low.sandbox,
        flag_or_env(low.login_url, "--login-url", env, "SF_LOGIN_URL")?,
    )?;
    let cacert = match low.cacert {
        Some(p) => Some(Sourced {
            value: p,
            source: "--cacert",
        }),
        None => nonempty(env, "SSL_CERT_FILE").map(|p| Sourced {
            value: PathBuf::from(p),
            source: "SSL_CERT_FILE",
        }),
    };
    let roots = crate::tls::roots(cacert.as_ref())?;
    let proxy = match (low.proxy, low.no_proxy) {
        (Some(_), true) => {
            return Err(Error::usage(
                "--proxy and --no-proxy cannot be used together",
            ));
        }
        (Some(url), false) => ProxySetting::Flag(ProxyUrl::parse(&url, "--proxy")?),
        (None, true) => ProxySetting::Off,
        (None, false) => ProxySetting::Env(proxy_env(env)?),
    };
    let timeout = match low.timeout {
        Some(v) => parse_seconds(&v)?,
        None => Duration::from_secs(30),
    };
    let retries = match low.retries {
        Some(v) => v.parse().ok().filter(|n| *n <= 100).ok_or_else(|| {
            Error::usage(format!(
                "invalid value '{v}' for '--retries': expected a whole number from 0 to 100"
            ))
        })?,
        None => 2,
    };
    Ok(Common {
        client_id,
        credentials,
        endpoints,
        roots,
        proxy,
        timeout,
        retries,
        log: Log::new(level),
    })
}

/// The proxy variables as curl reads them, lower case first.
fn proxy_env(env: Env<'_>) -> Result<ProxyEnv, Error> {
    let first = |names: [&'static str; 2]| -> Result<Option<Sourced<String>>, Error> {
        Ok(match utf8(env, names[0])? {
            Some(v) => Some(v),
            None => utf8(env, names[1])?,
        })
    };
    Ok(ProxyEnv {
        https: first(["https_proxy", "HTTPS_PROXY"])?,
        http: first(["http_proxy", "HTTP_PROXY"])?,
        all: first(["all_proxy", "ALL_PROXY"])?,
        no_proxy: first(["no_proxy", "NO_PROXY"])?.map(|s| s.value),
    })
}

/// The client secret: `--client-secret-file` (trimmed), else `SF_CLIENT_SECRET`, else none.
fn load_secret(file: Option<PathBuf>, env: Env<'_>) -> Result<Option<Secret>, Error> {
    if let Some(path) = file {
        let shown = path.display();
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Error::usage(format!(
                "cannot read the client secret file {shown}: {}",
                io_words(&e)
            ))
        })?;
        let secret = text.trim();
        if secret.is_empty() {
            return Err(Error::usage(format!(
                "the client secret file {shown} is empty"
            )));
        }
        return Ok(Some(Secret::new(secret)));
    }
    match nonempty(env, "SF_CLIENT_SECRET") {
        Some(s) => Ok(Some(Secret::new(
            s.into_string()
                .map_err(|_| Error::usage("SF_CLIENT_SECRET is not valid UTF-8"))?
                .trim(),
        ))),
        None => Ok(None),
    }
}

/// `--timeout`: positive seconds, fractions allowed (`0.5`), at most a day.
fn parse_seconds(v: &str) -> Result<Duration, Error> {
    v.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 86_400.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| {
            Error::usage(format!(
                "invalid value '{v}' for '--timeout': expected seconds greater than 0 (at most 86400)"
            ))
        })
}

pub(crate) mod login;

#[cfg(test)]
mod tests;
