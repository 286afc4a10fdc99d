//! The command line: `defs` is the one table of flags, `flags` reads the line raw,
//! `resolve` checks it once and builds the values each command runs with, `help` holds
//! the texts. Later code never meets a bad option.

mod defs;
mod flags;
mod help;
mod resolve;

use std::ffi::OsString;
use std::path::PathBuf;
use std::str::FromStr;

use crate::error::Error;

pub(crate) use flags::Verb;
pub(crate) use resolve::login::{Flow, LoginArgs, SfdxSource};
pub(crate) use resolve::{
    Common, Credentials, ExecArgs, FleetArgs, ProxySetting, RefreshArgs, RevokeArgs, Sourced,
    StatusArgs,
};

/// What the run should do, fully checked.
pub(crate) enum Command {
    Help(Option<Verb>),
    Version,
    Refresh(Box<RefreshArgs>),
    Exec(Box<ExecArgs>),
    Status(Box<StatusArgs>),
    Revoke(Box<RevokeArgs>),
    Login(Box<LoginArgs>),
}

impl Command {
    /// The one token location the command works on, for its error messages
    /// (`error::At`). None where there is none to name (help, stdin, `login`'s file that
    /// is not there yet) or each location reports its own (many files, `status`).
    pub(crate) fn location(&self) -> Option<String> {
        let target = match self {
            Command::Refresh(a) if a.fleet.is_none() => &a.target,
            Command::Exec(a) => &a.refresh.target,
            Command::Revoke(a) => return Some(a.path.display().to_string()),
            _ => return None,
        };
        match target {
            TargetSpec::Path(p) => Some(p.display().to_string()),
            TargetSpec::Stdio => None,
        }
    }
}

/// Parses `args` (without the program name); `env` looks up environment variables
/// so tests can feed both as plain arrays.
pub(crate) fn parse<I>(args: I, env: &dyn Fn(&str) -> Option<OsString>) -> Result<Command, Error>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let low = flags::parse(args)?;
    if low.help {
        return Ok(Command::Help(low.verb));
    }
    if low.version {
        return Ok(Command::Version);
    }
    let verb = low.verb.unwrap_or(Verb::Refresh);
    resolve::reject_foreign(&low, verb)?;
    resolve::reject_conflicts(&low)?;
    Ok(match verb {
        Verb::Refresh => Command::Refresh(Box::new(resolve::refresh(low, env)?)),
        Verb::Exec => Command::Exec(Box::new(resolve::exec(low, env)?)),
        Verb::Status => Command::Status(Box::new(resolve::status(low, env)?)),
        Verb::Revoke => Command::Revoke(Box::new(resolve::revoke(low, env)?)),
        Verb::Login => Command::Login(Box::new(resolve::login::login(low, env)?)),
    })
}

pub(crate) fn help_text(verb: Option<Verb>) -> String {
    help::text(verb)
}

/// The token file: a path to lock and replace, or `-` for stdin to stdout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TargetSpec {
    Path(PathBuf),
    /// `-`: read stdin, write the refreshed document to stdout.
    Stdio,
}

/// `--client-auth`: where the client secret travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientAuth {
    Post,
    Basic,
}

impl FromStr for ClientAuth {
    type Err = Error;
    fn from_str(s: &str) -> Result<ClientAuth, Error> {
        match s {
            "post" => Ok(ClientAuth::Post),
            "basic" => Ok(ClientAuth::Basic),
            other => Err(Error::usage(format!(
                "invalid value '{other}' for '--client-auth': expected 'post' or 'basic'"
            ))),
        }
    }
}

/// `--print`: what goes to stdout after success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Print {
    /// The access token, one line.
    Token,
    /// The whole token document.
    Json,
    /// `Authorization: Bearer …`, one line, for `curl -H @-`.
    Header,
    /// `SF_ACCESS_TOKEN='…'` lines for `eval`, `. file` and systemd `EnvironmentFile=`.
    Env,
    /// A curl config (`header = "Authorization: Bearer …"`) for `curl -K -`.
    Curl,
}

impl FromStr for Print {
    type Err = Error;
    fn from_str(s: &str) -> Result<Print, Error> {
        match s {
            "token" => Ok(Print::Token),
            "json" => Ok(Print::Json),
            "header" => Ok(Print::Header),
            "env" => Ok(Print::Env),
            "curl" => Ok(Print::Curl),
            other => Err(Error::usage(format!(
                "invalid value '{other}' for '--print': expected 'token', 'json', 'header', \
                 'env' or 'curl'"
            ))),
        }
    }
}
