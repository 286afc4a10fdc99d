//! Where the token comes from and goes to: a locked file, or stdin and stdout. One type,
//! so the size cap, the save, the rescue and their wording live in one place.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::report::{Log, io_words};
use crate::rescue;
use crate::token::MAX_FILE;
use crate::token_file::{self, LockedFile, Sweep};

/// The token file: a path to lock and replace, or `-` for stdin to stdout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TargetSpec {
    Path(PathBuf),
    /// `-`: read stdin, write the refreshed document to stdout.
    Stdio,
}

pub(crate) enum Target {
    /// `-`: the token from stdin (read until `deadline`), the refreshed document to stdout.
    Stdio {
        deadline: Instant,
        timeout: Duration,
    },
    File(LockedFile),
}

impl Target {
    /// Locks the file (waiting for another run until `deadline`), or takes stdin.
    /// `sweep` says how leftover temp files are found: `Sweep::Scan` for one file, once
    /// per directory when a run has many files.
    pub(crate) fn open_with(
        spec: &TargetSpec,
        deadline: Instant,
        timeout: Duration,
        log: &Log,
        sweep: Sweep<'_>,
    ) -> Result<Target, Error> {
        match spec {
            TargetSpec::Stdio => Ok(Target::Stdio { deadline, timeout }),
            TargetSpec::Path(path) => {
                let locked = token_file::lock_with(path, deadline, timeout, log, sweep)?;
                log.step(format_args!("locked {}", locked.shown()));
                Ok(Target::File(locked))
            }
        }
    }

    /// The name in messages.
    pub(crate) fn shown(&self) -> &str {
        match self {
            Target::Stdio { .. } => "- (stdin)",
            Target::File(f) => f.shown(),
        }
    }

    pub(crate) fn error(&self, problem: impl Into<String>) -> Error {
        Error::token_file(self.shown(), problem)
    }

    pub(crate) fn read(&self) -> Result<Vec<u8>, Error> {
        match self {
            Target::File(f) => f.read(),
            Target::Stdio { deadline, timeout } => {
                let input = read_stdin(*deadline).map_err(|e| match e {
                    StdinError::Late => self.error(format!(
                        "no complete token arrived within the {} --timeout",
                        crate::clock::human(*timeout)
                    )),
                    StdinError::Io(e) => self.error(format!("cannot be read: {}", io_words(&e))),
                })?;
                if input.len() as u64 > MAX_FILE {
                    return Err(self.error("is larger than 1 MiB, so it is not a token"));
                }
                Ok(input)
            }
        }
    }

    /// Proves before sending that a file of `size` bytes can be saved (nothing to prove
    /// for stdout).
    pub(crate) fn check_writable(&self, size: u64) -> Result<(), Error> {
        match self {
            Target::File(f) => f.check_writable(size),
            Target::Stdio { .. } => Ok(()),
        }
    }

    /// Saves the new document. With `-`, stdout holds the only copy of a rotated
    /// refresh token, so a failed write is an error here, even a closed pipe.
    pub(crate) fn save(&self, text: &[u8], log: &Log) -> Result<(), Error> {
        match self {
            Target::File(f) => {
                f.replace(text, log)?;
                log.step(format_args!("saved {}", f.shown()));
                Ok(())
            }
            Target::Stdio { .. } => {
                let mut out = io::stdout().lock();
                out.write_all(text).and_then(|()| out.flush()).map_err(|e| {
                    Error::token_file(
                        "- (stdout)",
                        format!("the refreshed token could not be written: {}", io_words(&e)),
                    )
                })
            }
        }
    }

    /// Writes an answer that may hold the only copy of a rotated refresh token.
    pub(crate) fn rescue(&self, raw: &[u8]) -> Result<PathBuf, String> {
        match self {
            Target::File(f) => {
                let name = f.short_name();
                rescue::write(
                    raw,
                    Some(rescue::Beside {
                        dir: f.dir(),
                        name: &name,
                        owner: f.owner(),
                    }),
                )
            }
            Target::Stdio { .. } => rescue::write(raw, None),
        }
    }
}

enum StdinError {
    Late,
    Io(io::Error),
}

/// Reads stdin to its end, at most `MAX_FILE + 1` bytes, but not past `deadline`: a
/// pipe whose writer never closes must not hang a cron job forever.
fn read_stdin(deadline: Instant) -> Result<Vec<u8>, StdinError> {
    let mut input = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let mut stdin = io::stdin().lock();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ms = libc::c_int::try_from(left.as_millis()).unwrap_or(libc::c_int::MAX);
        let mut fd = [libc::pollfd {
            fd: 0,
            events: libc::POLLIN,
            revents: 0,
        }];
        match crate::sys::poll(&mut fd, ms) {
            Ok(0) => return Err(StdinError::Late),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(StdinError::Io(e)),
        }
        match stdin.read(&mut chunk) {
            Ok(0) => return Ok(input),
            Ok(n) => {
                input.extend_from_slice(chunk.get(..n).unwrap_or_default());
                if input.len() as u64 > MAX_FILE {
                    return Ok(input);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(StdinError::Io(e)),
        }
    }
}
