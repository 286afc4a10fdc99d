//! `sfrefresh login`'s options, checked once: which way the first token comes, what that
//! way needs, and the grant options that `refresh` shares.

use super::{Env, common, nonempty};
use crate::cli::flags::LowArgs;
use crate::client::ClientAuth;
use crate::endpoint;
use crate::error::Error;
use crate::grant::{self, Grant, GrantOpts};
use crate::login::DEFAULT_REDIRECT_PORT;
use crate::login::Flow;
use crate::login::INTERACTIVE_TIMEOUT;
use crate::login::LoginArgs;
use crate::login::SfdxSource;
use crate::session::Common;
use crate::store::Location;

/// `--grant`, `--jwt-key`, `--username`, `--audience`: form only; `grant.rs` and the
/// token file fill in the rest per run.
pub(crate) fn grant_opts(low: &mut LowArgs) -> Result<GrantOpts, Error> {
    let grant = low.grant.take().map(|g| g.parse()).transpose()?;
    let username = low.username.take();
    if username.as_deref().is_some_and(|u| u.trim().is_empty()) {
        return Err(Error::usage("the user given with --username is empty"));
    }
    let audience = low.audience.take();
    if audience.as_deref().is_some_and(|a| a.trim().is_empty()) {
        return Err(Error::usage("the audience given with --audience is empty"));
    }
    Ok(GrantOpts {
        grant,
        jwt_key: low.jwt_key.take(),
        username,
        audience,
    })
}

pub(crate) fn login(mut low: LowArgs, env: Env<'_>) -> Result<LoginArgs, Error> {
    let path = login_path(&mut low, env)?;
    let print = low.print.take().map(|p| p.parse()).transpose()?;
    let force = low.force;
    let default_timeout = low.timeout.is_none();
    let grants = grant_opts(&mut low)?;
    let mode = mode(&low, &grants)?;
    check_foreign(&low, &grants, mode)?;
    let scope = low.scope.take();
    if scope.as_deref().is_some_and(|s| s.trim().is_empty()) {
        return Err(Error::usage("the scope given with --scope is empty"));
    }
    let (flow, common) = match mode {
        Mode::Sfdx => sfdx(low, env)?,
        Mode::Device => {
            let device_url = checked(low.device_url.take(), "--device-url")?;
            let common = with_client_id(common(low, env)?)?;
            (Flow::Device { device_url, scope }, common)
        }
        Mode::Web => web(low, env, scope)?,
        Mode::Jwt => {
            let common = with_client_id(common(low, env)?)?;
            let plan = grant::jwt_plan(&grants, &common.endpoints, None)?;
            (Flow::Jwt(plan), common)
        }
        Mode::ClientCredentials => {
            let common = with_client_id(common(low, env)?)?;
            if common.credentials.secret().is_none() {
                return Err(Error::usage(
                    "the client credentials grant needs the client secret \
                     (--client-secret-file or SF_CLIENT_SECRET)",
                ));
            }
            (Flow::ClientCredentials { scope }, common)
        }
    };
    let mut common = common;
    if default_timeout && matches!(mode, Mode::Device | Mode::Web) {
        common.timeout = INTERACTIVE_TIMEOUT;
    }
    Ok(LoginArgs {
        target: path,
        flow,
        force,
        print,
        common,
    })
}

/// The ways in, as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Device,
    Web,
    Sfdx,
    Jwt,
    ClientCredentials,
}

/// Exactly one way to get the token.
fn mode(low: &LowArgs, grants: &GrantOpts) -> Result<Mode, Error> {
    let minted = match grants.flagged() {
        Some(Grant::RefreshToken) => {
            return Err(Error::usage(
                "'sfrefresh login' gets a refresh token with --device, --web or \
                 --sfdx-url-file; --grant takes jwt-bearer or client-credentials here",
            ));
        }
        Some(Grant::JwtBearer) => Some(("--jwt-key", Mode::Jwt)),
        Some(Grant::ClientCredentials) => {
            Some(("--grant client-credentials", Mode::ClientCredentials))
        }
        None => None,
    };
    let chosen: Vec<(&str, Mode)> = [
        low.device.then_some(("--device", Mode::Device)),
        low.web.then_some(("--web", Mode::Web)),
        low.sfdx_url_file
            .as_ref()
            .map(|_| ("--sfdx-url-file", Mode::Sfdx)),
        minted,
    ]
    .into_iter()
    .flatten()
    .collect();
    match chosen.as_slice() {
        [(_, m)] => Ok(*m),
        [] => Err(Error::usage_help(
            "'sfrefresh login' needs one way to get the token: --device, --web, \
             --sfdx-url-file PATH, --jwt-key PATH (JWT bearer) or --grant client-credentials",
        )),
        [(a, _), (b, _), ..] => Err(Error::usage(format!(
            "{a} and {b} are two ways to log in: choose one"
        ))),
    }
}

/// Options of one way to log in given with another.
fn check_foreign(low: &LowArgs, grants: &GrantOpts, mode: Mode) -> Result<(), Error> {
    use Mode::{ClientCredentials, Device, Jwt, Sfdx, Web};
    let rows: [(&str, bool, &[Mode]); 8] = [
        ("--device-url", low.device_url.is_some(), &[Device]),
        ("--authorize-url", low.authorize_url.is_some(), &[Web]),
        ("--redirect-port", low.redirect_port.is_some(), &[Web]),
        ("--open", low.open, &[Web]),
        ("--username", grants.username.is_some(), &[Jwt]),
        ("--audience", grants.audience.is_some(), &[Jwt]),
        ("--jwt-key", grants.jwt_key.is_some(), &[Jwt]),
        (
            "--scope",
            low.scope.is_some(),
            &[Device, Web, ClientCredentials],
        ),
    ];
    let name = |m: &Mode| match m {
        Device => "--device",
        Web => "--web",
        Sfdx => "--sfdx-url-file",
        Jwt => "the JWT bearer grant",
        ClientCredentials => "client credentials",
    };
    match rows
        .iter()
        .find(|(_, given, modes)| *given && !modes.contains(&mode))
    {
        Some((flag, _, modes)) => Err(Error::usage(format!(
            "{flag} goes with {}, not with {}",
            modes.iter().map(name).collect::<Vec<_>>().join(", "),
            name(&mode)
        ))),
        None => Ok(()),
    }
}

/// TOKEN_FILE: the one file `login` writes (never `-`: a login's refresh token must be
/// kept somewhere that a later refresh finds).
fn login_path(low: &mut LowArgs, env: Env<'_>) -> Result<Location, Error> {
    let path = match low.positional.len() {
        0 => nonempty(env, "SF_TOKEN_FILE").ok_or_else(|| {
            Error::usage_help("no token file: give TOKEN_FILE or set SF_TOKEN_FILE")
        })?,
        1 => low.positional.remove(0),
        _ => {
            return Err(Error::usage(format!(
                "unexpected argument '{}': only one TOKEN_FILE is taken",
                low.positional
                    .get(1)
                    .map(|a| a.to_string_lossy().into_owned())
                    .unwrap_or_default()
            )));
        }
    };
    if path == "-" {
        return Err(Error::usage(
            "'sfrefresh login' writes a token file, not stdout; add --print json to see the \
             token too",
        ));
    }
    super::one_location(Location::parse(path)?, "login")
}

fn with_client_id(common: Common) -> Result<Common, Error> {
    if common.client_id.is_none() {
        return Err(Error::usage(
            "no client id: pass --client-id or set SF_CLIENT_ID (the consumer key of the \
             Connected App or External Client App)",
        ));
    }
    Ok(common)
}

/// A URL we send the user or a request to, checked like every endpoint.
fn checked(url: Option<String>, flag: &str) -> Result<Option<String>, Error> {
    url.map(|u| endpoint::check(&u, &format!("the URL from {flag}")).map(|_| u))
        .transpose()
}

fn web(mut low: LowArgs, env: Env<'_>, scope: Option<String>) -> Result<(Flow, Common), Error> {
    let authorize_url = checked(low.authorize_url.take(), "--authorize-url")?;
    let port = match low.redirect_port.take() {
        None => DEFAULT_REDIRECT_PORT,
        Some(v) => v.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
            Error::usage(format!(
                "invalid value '{v}' for '--redirect-port': expected a port from 1 to 65535"
            ))
        })?,
    };
    let open = low.open;
    let common = with_client_id(common(low, env)?)?;
    Ok((
        Flow::Web {
            authorize_url,
            port,
            open,
            scope,
        },
        common,
    ))
}

/// The SFDX auth URL brings its own client id, secret and instance: the options that
/// would say otherwise are refused, and their env vars are not read.
fn sfdx(mut low: LowArgs, env: Env<'_>) -> Result<(Flow, Common), Error> {
    for (flag, given) in [
        ("--client-id", low.client_id.is_some()),
        ("--client-secret-file", low.secret_file.is_some()),
        ("--token-url", low.token_url.is_some()),
        ("--login-url", low.login_url.is_some()),
        ("--sandbox", low.sandbox),
    ] {
        if given {
            return Err(Error::usage(format!(
                "{flag} cannot be used with --sfdx-url-file: the SFDX auth URL names the \
                 client id, the secret and the instance"
            )));
        }
    }
    let source = match low.sfdx_url_file.take() {
        Some(p) if p.as_os_str() == "-" => SfdxSource::Stdin,
        Some(p) => SfdxSource::File(p),
        None => SfdxSource::Stdin,
    };
    let client_auth = match low.client_auth.take() {
        Some(v) => v.parse()?,
        None => ClientAuth::Post,
    };
    // Only the URL's id, secret and instance count: the environment's are not read.
    let unset = |name: &str| match name {
        "SF_CLIENT_ID" | "SF_CLIENT_SECRET" | "SF_TOKEN_URL" | "SF_LOGIN_URL" => None,
        other => env(other),
    };
    let common = common(low, &unset)?;
    Ok((
        Flow::Sfdx {
            source,
            client_auth,
        },
        common,
    ))
}
