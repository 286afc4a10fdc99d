//! The command line: `defs` is the one table of flags, `flags` reads the line raw,
//! `resolve` checks it once and builds the values each command runs with, `help` holds
//! the texts. Later code never meets a bad option.

mod defs;
mod flags;
mod help;
mod resolve;

use std::ffi::OsString;

use crate::batch::FleetArgs;
use crate::error::Error;

use crate::exec::ExecArgs;
use crate::login::LoginArgs;
use crate::refresh::RefreshArgs;
use crate::revoke::RevokeArgs;
use crate::status::StatusArgs;
use crate::store::Location;
pub(crate) use flags::Verb;

/// What the run should do, fully checked.
pub(crate) enum Command {
    Help(Option<Verb>),
    Version,
    Refresh(Box<RefreshArgs>),
    /// Many files, or `--watch`: each file's refresh, run by the batch runner.
    Batch(Box<RefreshArgs>, FleetArgs),
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
            Command::Refresh(a) => &a.target,
            Command::Exec(a) => &a.refresh.target,
            Command::Revoke(a) => &a.location,
            _ => return None,
        };
        match target {
            Location::Stdio => None,
            other => Some(other.shown()),
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
        Verb::Refresh => match resolve::refresh(low, env)? {
            (refresh, None) => Command::Refresh(Box::new(refresh)),
            (refresh, Some(many)) => Command::Batch(Box::new(refresh), many),
        },
        Verb::Exec => Command::Exec(Box::new(resolve::exec(low, env)?)),
        Verb::Status => Command::Status(Box::new(resolve::status(low, env)?)),
        Verb::Revoke => Command::Revoke(Box::new(resolve::revoke(low, env)?)),
        Verb::Login => Command::Login(Box::new(resolve::login::login(low, env)?)),
    })
}

pub(crate) fn help_text(verb: Option<Verb>) -> String {
    help::text(verb)
}
