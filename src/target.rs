//! Where the token comes from and goes to: a locked file, or stdin and stdout. One type,
//! so the size cap, the save, the rescue and their wording live in one place.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::cli::TargetSpec;
use crate::error::Error;
use crate::report::{Log, io_words};
use crate::rescue;
use crate::token::MAX_FILE;
use crate::token_file::{self, LockedFile, Sweep};

pub(crate) enum Target {
    /// `-`: the token from stdin, the refreshed document to stdout.
    Stdio,
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
            TargetSpec::Stdio => Ok(Target::Stdio),
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
            Target::Stdio => "- (stdin)",
            Target::File(f) => f.shown(),
        }
    }

    pub(crate) fn error(&self, problem: impl Into<String>) -> Error {
        Error::token_file(self.shown(), problem)
    }

    pub(crate) fn read(&self) -> Result<Vec<u8>, Error> {
        match self {
            Target::File(f) => f.read(),
            Target::Stdio => {
                let mut input = Vec::new();
                io::stdin()
                    .take(MAX_FILE + 1)
                    .read_to_end(&mut input)
                    .map_err(|e| self.error(format!("cannot be read: {}", io_words(&e))))?;
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
            Target::Stdio => Ok(()),
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
            Target::Stdio => {
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
            Target::Stdio => rescue::write(raw, None),
        }
    }
}
