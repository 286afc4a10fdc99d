//! From raw flags to checked values, once: env fallbacks, cross-checks, the secret and CA
//! files loaded, URLs and the proxy parsed. What leaves here is what the commands use.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::Verb;
use super::defs;
use super::flags::LowArgs;
use crate::batch::{DEFAULT_JOBS, FleetArgs};
use crate::client::{ClientAuth, Credentials};
use crate::clock::parse_duration;
use crate::endpoint::EndpointOpts;
use crate::error::Error;
use crate::exec::{EXEC_IF_OLDER_THAN, ExecArgs};
use crate::print::Print;
use crate::proxy::ProxySetting;
use crate::proxy::{ProxyEnv, ProxyUrl};
use crate::refresh::RefreshArgs;
use crate::report::{Level, Log, io_words};
use crate::revoke::RevokeArgs;
use crate::secret::Secret;
use crate::session::Common;
use crate::sourced::Sourced;
use crate::status::StatusArgs;
use crate::store::Location;

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

/// The refresh, and with several files, a directory, `--files-from`, `--watch`,
/// `--metrics-file` or `--log-format json` the batch it runs in.
pub(super) fn refresh(
    mut low: LowArgs,
    env: Env<'_>,
) -> Result<(RefreshArgs, Option<FleetArgs>), Error> {
    let print = low.print.as_deref().map(str::parse::<Print>).transpose()?;
    if low.positional.is_empty()
        && low.files_from.is_none()
        && let Some(t) = nonempty(env, "SF_TOKEN_FILE")
    {
        low.positional.push(t);
    }
    let fleet = fleet(&mut low)?;
    let target = match (&fleet, low.positional.len()) {
        (Some(f), _) => {
            if f.paths.iter().any(|p| p.as_os_str() == "-") {
                return Err(Error::usage(
                    "'-' (stdin to stdout) takes one token file alone, without --files-from, \
                     --watch, --metrics-file or --log-format json",
                ));
            }
            if print.is_some() {
                return Err(Error::usage(
                    "--print takes one token file: with many files, --watch, --metrics-file or \
                     --log-format json, stdout would mix the tokens",
                ));
            }
            match f.paths.first() {
                Some(p) => Location::parse(p.clone().into_os_string())?,
                None => Location::Stdio,
            }
        }
        (None, 0) => {
            return Err(Error::usage_help(
                "no token file: give TOKEN_FILE or set SF_TOKEN_FILE",
            ));
        }
        (None, _) => Location::parse(low.positional.remove(0))?,
    };
    if target == Location::Stdio && print.is_some_and(|p| p != Print::Json) {
        // The refreshed document (maybe with a rotated refresh token) must reach stdout,
        // or the only copy of the new refresh token would be lost.
        return Err(Error::usage(
            "--print cannot be used with '-' (except --print json): stdout carries the \
             refreshed JSON",
        ));
    }
    let if_older_than = if_older_than(&mut low)?;
    let verify_signature = low.verify_signature;
    let grant = login::grant_opts(&mut low)?;
    let common = common(low, env)?;
    if verify_signature && common.credentials.secret().is_none() {
        return Err(Error::usage(
            "--verify-signature needs the client secret (--client-secret-file or SF_CLIENT_SECRET)",
        ));
    }
    if fleet.as_ref().is_some_and(|f| f.watch) && if_older_than.is_none() {
        return Err(Error::usage(
            "--watch needs --if-older-than DURATION: each file is refreshed when it is that old",
        ));
    }
    let refresh = RefreshArgs {
        target,
        common,
        verify_signature,
        if_older_than,
        print,
        grant,
    };
    Ok((refresh, fleet))
}

/// TOKEN_FILE: the one positional argument, else `SF_TOKEN_FILE`.
fn one_target(low: &mut LowArgs, env: Env<'_>) -> Result<Location, Error> {
    match low.positional.len() {
        0 => match nonempty(env, "SF_TOKEN_FILE") {
            Some(t) => Location::parse(t),
            None => Err(Error::usage_help(
                "no token file: give TOKEN_FILE or set SF_TOKEN_FILE",
            )),
        },
        1 => Location::parse(low.positional.remove(0)),
        _ => Err(Error::usage(format!(
            "unexpected argument '{}': only one TOKEN_FILE is taken",
            low.positional[1].to_string_lossy()
        ))),
    }
}

fn if_older_than(low: &mut LowArgs) -> Result<Option<Duration>, Error> {
    low.if_older_than
        .take()
        .map(|v| {
            parse_duration(&v).map_err(|why| {
                Error::usage(format!("invalid value '{v}' for '--if-older-than': {why}"))
            })
        })
        .transpose()
}

pub(super) fn exec(mut low: LowArgs, env: Env<'_>) -> Result<ExecArgs, Error> {
    const GRAMMAR: &str = "sfrefresh exec [OPTIONS] TOKEN_FILE -- COMMAND [ARGS...]";
    let command = match low.command.take() {
        Some(command) if !command.is_empty() => command,
        Some(_) => return Err(Error::usage(format!("no COMMAND after '--': {GRAMMAR}"))),
        // Without `--`, COMMAND's own options would be read as sfrefresh's.
        None if low.positional.len() > 1 => {
            return Err(Error::usage(format!(
                "put '--' before COMMAND, so that its options stay its own: {GRAMMAR}"
            )));
        }
        None => return Err(Error::usage(format!("no COMMAND: {GRAMMAR}"))),
    };
    let (mut refresh, fleet) = refresh(low, env)?;
    if fleet.is_some() {
        return Err(Error::usage(format!(
            "exec takes one token file (not a directory): {GRAMMAR}"
        )));
    }
    if refresh.target == Location::Stdio {
        return Err(Error::usage(
            "exec needs a token file, not '-': the refreshed token must be saved before \
             COMMAND runs",
        ));
    }
    refresh.if_older_than.get_or_insert(EXEC_IF_OLDER_THAN);
    Ok(ExecArgs { refresh, command })
}

pub(super) fn status(mut low: LowArgs, env: Env<'_>) -> Result<StatusArgs, Error> {
    let files = match low.positional.len() {
        0 => vec![one_target(&mut low, env)?],
        _ => std::mem::take(&mut low.positional)
            .into_iter()
            .map(Location::parse)
            .collect::<Result<Vec<_>, _>>()?,
    };
    let files = files
        .into_iter()
        .map(|l| one_location(l, "status"))
        .collect::<Result<Vec<_>, _>>()?;
    if files.contains(&Location::Stdio) {
        return Err(Error::usage(
            "status reads token files by name; '-' (stdin) is not supported",
        ));
    }
    if low.userinfo_url.is_some() && !low.check {
        return Err(Error::usage("--userinfo-url is only used with --check"));
    }
    let userinfo_url = low
        .userinfo_url
        .take()
        .map(|u| check_url(u, "the userinfo URL from --userinfo-url"))
        .transpose()?;
    let if_older_than = if_older_than(&mut low)?;
    let (json, check) = (low.json, low.check);
    Ok(StatusArgs {
        files,
        common: common(low, env)?,
        if_older_than,
        json,
        check,
        userinfo_url,
    })
}

pub(super) fn revoke(mut low: LowArgs, env: Env<'_>) -> Result<RevokeArgs, Error> {
    let location = one_location(one_target(&mut low, env)?, "revoke")?;
    if location == Location::Stdio {
        return Err(Error::usage(
            "revoke needs a token file, not '-': it removes or rewrites the file",
        ));
    }
    let revoke_url = flag_or_env(low.revoke_url.take(), "--revoke-url", env, "SF_REVOKE_URL")?
        .map(|u| {
            let what = format!("the revocation URL from {}", u.source);
            check_url(u.value, &what).map(|value| Sourced {
                value,
                source: u.source,
            })
        })
        .transpose()?;
    let keep_file = low.keep_file;
    Ok(RevokeArgs {
        location,
        common: common(low, env)?,
        revoke_url,
        keep_file,
    })
}

/// A URL a token will be sent to, checked by the rules every endpoint follows.
fn check_url(url: String, what: &str) -> Result<String, Error> {
    crate::endpoint::check(&url, what).map(|_| url)
}

/// Rejects a flag that the verb would ignore, naming every verb that takes it (the
/// table's row): a flag silently ignored is a surprise (`--keep-file` on a refresh,
/// `--print` on exec). In table order, so one command line always names the same flag.
pub(super) fn reject_foreign(low: &LowArgs, verb: Verb) -> Result<(), Error> {
    match defs::FLAGS
        .iter()
        .find(|f| !f.verbs.contains(&verb) && low.given.iter().any(|g| g.id == f.id))
    {
        Some(flag) => Err(Error::usage(format!(
            "--{} is only for {}, not for 'sfrefresh {}'",
            flag.long,
            verb_list(flag.verbs),
            verb.word()
        ))),
        None => Ok(()),
    }
}

/// Rejects two flags that contradict each other (`-q` with `-v`, `--proxy` with
/// `--no-proxy`): one of them would be silently ignored.
pub(super) fn reject_conflicts(low: &LowArgs) -> Result<(), Error> {
    for flag in defs::FLAGS {
        if !low.given.iter().any(|g| g.id == flag.id) {
            continue;
        }
        if let Some(other) = flag
            .conflicts
            .iter()
            .find(|c| low.given.iter().any(|g| g.long == **c))
        {
            return Err(Error::usage(format!(
                "--{} and --{other} cannot be used together",
                flag.long
            )));
        }
    }
    Ok(())
}

/// `'sfrefresh a'`, `'sfrefresh a' and 'sfrefresh b'`, `'sfrefresh a', 'sfrefresh b' and …`.
fn verb_list(verbs: &[Verb]) -> String {
    let names: Vec<String> = verbs
        .iter()
        .map(|v| format!("'sfrefresh {}'", v.word()))
        .collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => names.concat(),
    }
}

/// Verbs of one token location refuse an etcd prefix, which names many.
fn one_location(location: Location, verb: &str) -> Result<Location, Error> {
    if location.is_prefix() {
        return Err(Error::usage(format!(
            "{} names every family under a prefix (it ends in '/'); {verb} takes one key",
            location.shown()
        )));
    }
    Ok(location)
}

/// The fleet options, or `None` for the classic single-file run (one path that is not a
/// directory or an etcd prefix, and none of the options that only the fleet path has).
fn fleet(low: &mut LowArgs) -> Result<Option<FleetArgs>, Error> {
    let jobs = match low.jobs.as_deref() {
        Some(v) => v
            .parse()
            .ok()
            .filter(|n| (1..=64).contains(n))
            .ok_or_else(|| {
                Error::usage(format!(
                    "invalid value '{v}' for '--jobs': expected a whole number from 1 to 64"
                ))
            })?,
        None => DEFAULT_JOBS,
    };
    let json = match low.log_format.as_deref() {
        None | Some("text") => false,
        Some("json") => true,
        Some(other) => {
            return Err(Error::usage(format!(
                "invalid value '{other}' for '--log-format': expected 'text' or 'json'"
            )));
        }
    };
    let single = low.positional.len() == 1
        && low.files_from.is_none()
        && !low.watch
        && low.metrics_file.is_none()
        && !json
        && !low.positional.first().is_some_and(|p| {
            Path::new(p).is_dir() || Location::parse(p.clone()).is_ok_and(|l| l.is_prefix())
        });
    if single || (low.positional.is_empty() && low.files_from.is_none()) {
        // `--jobs` alone changes nothing for one file; no file at all is an error later.
        return Ok(None);
    }
    Ok(Some(FleetArgs {
        paths: std::mem::take(&mut low.positional)
            .into_iter()
            .map(PathBuf::from)
            .collect(),
        files_from: low.files_from.take(),
        jobs,
        watch: low.watch,
        metrics_file: low.metrics_file.take(),
        json,
    }))
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
        etcd: etcd_credentials(env)?,
    })
}

/// etcd's credentials, under etcdctl's own environment names (never flags: a command
/// line is visible to every user of the host).
fn etcd_credentials(env: Env<'_>) -> Result<crate::store::EtcdCredentials, Error> {
    let text = |name: &'static str| utf8(env, name).map(|v| v.map(|s| s.value));
    let path = |name: &str| nonempty(env, name).map(PathBuf::from);
    let mut credentials =
        crate::store::EtcdCredentials::from_user(text("ETCDCTL_USER")?, text("ETCDCTL_PASSWORD")?);
    credentials.cacert = path("ETCDCTL_CACERT");
    credentials.cert = path("ETCDCTL_CERT");
    credentials.key = path("ETCDCTL_KEY");
    if credentials.cert.is_some() != credentials.key.is_some() {
        return Err(Error::usage(
            "ETCDCTL_CERT and ETCDCTL_KEY go together: a client certificate needs its key",
        ));
    }
    Ok(credentials)
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
