//! `sfrefresh exec [OPTIONS] TOKEN_FILE -- COMMAND [ARGS…]`: refresh when needed, release
//! the lock, then become COMMAND (Unix exec: same pid, its signals, its exit status) with
//! the token in its environment, never on a command line that `ps` shows.

use std::ffi::OsString;
use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::Duration;

use crate::error::Error;
use crate::print::usable_token;
use crate::refresh;
use crate::refresh::RefreshArgs;
use crate::report::{io_words, sanitize};
use crate::token::Doc;

/// `sfrefresh exec [OPTIONS] TOKEN_FILE -- COMMAND [ARGS…]`, checked.
pub(crate) struct ExecArgs {
    /// The refresh that runs first; its `--if-older-than` defaults to `EXEC_IF_OLDER_THAN`.
    pub(crate) refresh: RefreshArgs,
    /// COMMAND and its arguments, never empty.
    pub(crate) command: Vec<OsString>,
}

/// `exec` refreshes only a token older than this unless `--if-older-than` says otherwise:
/// well inside Salesforce's default 2-hour session, so COMMAND gets at least 90 minutes.
pub(crate) const EXEC_IF_OLDER_THAN: Duration = Duration::from_secs(30 * 60);

/// The variables COMMAND gets, named as the Salesforce CLI reads them
/// (`sf org login access-token`). One the file lacks is removed, so that a value
/// inherited from the caller never pairs another org's URL with this token.
const VARIABLES: [(&str, &str); 3] = [
    ("SF_ACCESS_TOKEN", "access_token"),
    ("SF_INSTANCE_URL", "instance_url"),
    ("SF_API_INSTANCE_URL", "api_instance_url"),
];

/// Kept from COMMAND: the client secret is sfrefresh's to use, not the program's.
const WITHHELD: &[&str] = &["SF_CLIENT_SECRET"];

pub(crate) fn run(args: &ExecArgs) -> Result<(), Error> {
    let Some((program, rest)) = args.command.split_first() else {
        return Err(Error::usage("no COMMAND to run"));
    };
    let shown = args.refresh.target.shown();
    // Returns once the lock is released: COMMAND may run for hours, and other runs on
    // the same file must not wait for it.
    let doc = refresh::run(&args.refresh)?;
    let values = environment(&doc).map_err(|p| Error::token_file(&shown, p))?;
    let mut command = Command::new(program);
    command.args(rest);
    for (name, value) in values {
        match value {
            Some(v) => command.env(name, v),
            None => command.env_remove(name),
        };
    }
    for name in WITHHELD {
        command.env_remove(name);
    }
    let log = args.refresh.common.log;
    log.step(format_args!(
        "running {} with SF_ACCESS_TOKEN in its environment",
        shown_command(program)
    ));
    // Only returns when COMMAND could not be started.
    let e = command.exec();
    Err(cannot_run(program, &e))
}

/// Each variable's value, or `None` to remove it.
fn environment(doc: &Doc) -> Result<Vec<(&'static str, Option<OsString>)>, String> {
    let mut out = Vec::new();
    for (name, field) in VARIABLES {
        let value = if field == "access_token" {
            Some(usable_token(doc, "passed on")?.expose().to_string())
        } else {
            doc.get(field).and_then(|v| v.as_str()).map(str::to_string)
        };
        if value.as_deref().is_some_and(|v| v.contains('\0')) {
            return Err(format!(
                "\"{field}\" holds a NUL character, so it cannot be passed in the environment"
            ));
        }
        out.push((name, value.map(OsString::from)));
    }
    Ok(out)
}

fn shown_command(program: &OsString) -> String {
    format!("'{}'", sanitize(&program.to_string_lossy()))
}

fn cannot_run(program: &OsString, e: &io::Error) -> Error {
    let not_found = e.kind() == io::ErrorKind::NotFound;
    let problem = match e.kind() {
        io::ErrorKind::NotFound => "not found".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied (not an executable file?)".into(),
        _ => io_words(e),
    };
    Error::cannot_run(&shown_command(program), &problem, not_found)
}
