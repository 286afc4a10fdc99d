//! The token store: the one way every verb reaches a token family. A `Location` says
//! where a family lives (a file, or stdin and stdout; the next store is etcd); `Held`
//! is a location opened for a read-modify-write: locked, read after locking, proven
//! writable before anything is sent, saved whole, and its answer rescued when it cannot
//! be. `read_unlocked` is `status`'s look without a lock, `list` the locations a batch
//! names (directories, etcd prefixes, `--files-from`). The backends are `token_file.rs`
//! and `etcd.rs`; nothing else imports them.

use std::collections::HashSet;
use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::etcd;
use crate::report::{Log, io_problem, io_words};
use crate::rescue;
use crate::tls::Roots;
use crate::token::MAX_FILE;
use crate::token_file::{self, LockedFile};

pub(crate) use crate::etcd::Credentials as EtcdCredentials;
pub(crate) use crate::token_file::{Created, Leftovers, NewFile, Sweep};

/// Where a token family lives: a file to lock and replace, `-` for stdin to stdout, or
/// a key in etcd shared by many hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    File(PathBuf),
    /// `-`: read stdin, write the refreshed document to stdout.
    Stdio,
    /// `etcd://HOST:PORT[,…]/KEY` or `etcds://…`.
    Etcd(etcd::Place),
}

impl Location {
    /// A location as given on the command line, in `SF_TOKEN_FILE` or `--files-from`:
    /// `-`, an etcd URL, or else a file path. The error is a usage error.
    pub(crate) fn parse(arg: OsString) -> Result<Location, Error> {
        if arg == "-" {
            return Ok(Location::Stdio);
        }
        match arg.to_str() {
            Some(url) if etcd::is_url(url) => etcd::Place::parse(url)
                .map(Location::Etcd)
                .map_err(|p| Error::usage(format!("the etcd location {p}"))),
            _ => Ok(Location::File(PathBuf::from(arg))),
        }
    }

    /// An etcd location ending in `/`: every family under a prefix, as a directory names
    /// its files.
    pub(crate) fn is_prefix(&self) -> bool {
        matches!(self, Location::Etcd(place) if place.is_prefix())
    }

    /// The name in messages (a file as given, `-`, an etcd URL without credentials).
    pub(crate) fn shown(&self) -> String {
        match self {
            Location::File(p) => p.display().to_string(),
            Location::Stdio => "-".into(),
            Location::Etcd(place) => place.shown().to_string(),
        }
    }
}

/// What reaching a shared store takes besides its location: the TLS roots of the run
/// and etcd's credentials from the environment.
#[derive(Clone, Copy)]
pub(crate) struct Reach<'a> {
    pub(crate) roots: &'a Roots,
    pub(crate) etcd: &'a etcd::Credentials,
}

impl Reach<'_> {
    /// A client for one look at an etcd location, within `timeout` from now.
    fn client(&self, place: &etcd::Place, timeout: Duration) -> Result<etcd::Client, Error> {
        etcd::Client::new(place, self.etcd, self.roots, Instant::now() + timeout)
    }
}

/// A location opened for a read-modify-write (a file: its lock held until dropped).
pub(crate) enum Held {
    /// `-`: the token from stdin (read until `deadline`), the refreshed document to stdout.
    Stdio {
        deadline: Instant,
        timeout: Duration,
    },
    File(LockedFile),
    /// Boxed: the client and its agent are large beside a file.
    Etcd(Box<etcd::Locked>),
}

impl Held {
    /// Locks the file (waiting for another run until `deadline`), or takes stdin.
    /// `sweep` says how leftover temp files are found: `Sweep::Scan` for one file, once
    /// per directory when a run has many files.
    pub(crate) fn open_with(
        spec: &Location,
        deadline: Instant,
        timeout: Duration,
        log: &Log,
        sweep: Sweep<'_>,
        reach: Reach<'_>,
    ) -> Result<Held, Error> {
        match spec {
            Location::Stdio => Ok(Held::Stdio { deadline, timeout }),
            Location::Etcd(place) if place.is_prefix() => Err(Error::token_file(
                place.shown(),
                "names a prefix (it ends in '/'): a refresh of many families is a batch, \
                 run without --print and exec",
            )),
            Location::Etcd(place) => {
                let locked =
                    etcd::Locked::lock(place, reach.etcd, reach.roots, deadline, timeout, log)?;
                Ok(Held::Etcd(Box::new(locked)))
            }
            Location::File(path) => {
                let locked = token_file::lock_with(path, deadline, timeout, log, sweep)?;
                log.step(format_args!("locked {}", locked.shown()));
                Ok(Held::File(locked))
            }
        }
    }

    /// The name in messages.
    pub(crate) fn shown(&self) -> &str {
        match self {
            Held::Stdio { .. } => "- (stdin)",
            Held::File(f) => f.shown(),
            Held::Etcd(e) => e.shown(),
        }
    }

    pub(crate) fn error(&self, problem: impl Into<String>) -> Error {
        Error::token_file(self.shown(), problem)
    }

    pub(crate) fn read(&self) -> Result<Vec<u8>, Error> {
        match self {
            Held::File(f) => f.read(),
            Held::Etcd(e) => e.read(),
            Held::Stdio { deadline, timeout } => {
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

    /// Reads what is there, if anything (`login` replacing a token): `None` for an etcd
    /// key that does not exist yet, whose save then creates it.
    pub(crate) fn read_if_any(&self) -> Result<Option<Vec<u8>>, Error> {
        match self {
            Held::Etcd(e) => e.read_if_any(),
            _ => self.read().map(Some),
        }
    }

    /// Proves before sending that a file of `size` bytes can be saved (nothing to prove
    /// for stdout); for etcd, that the lock's lease outlives the run (docs/etcd.md).
    pub(crate) fn check_writable(&self, size: u64) -> Result<(), Error> {
        match self {
            Held::File(f) => f.check_writable(size),
            Held::Etcd(e) => e.check_lease(),
            Held::Stdio { .. } => Ok(()),
        }
    }

    /// Saves the new document. With `-`, stdout holds the only copy of a rotated
    /// refresh token, so a failed write is an error here, even a closed pipe.
    pub(crate) fn save(&self, text: &[u8], log: &Log) -> Result<(), Error> {
        self.replace(text, log)?;
        if !matches!(self, Held::Stdio { .. }) {
            log.step(format_args!("saved {}", self.shown()));
        }
        Ok(())
    }

    /// `save` without its `-v` line, for callers that say what the write meant
    /// (`login` replacing a file, `revoke --keep-file`).
    pub(crate) fn replace(&self, text: &[u8], log: &Log) -> Result<(), Error> {
        match self {
            Held::File(f) => f.replace(text, log),
            Held::Etcd(e) => e.save(text),
            Held::Stdio { .. } => {
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

    /// Removes the location's token family (`revoke`); returns what was removed, which
    /// for a file through a symlink is the link's target.
    pub(crate) fn remove(&self, log: &Log) -> Result<String, Error> {
        match self {
            Held::File(f) => {
                f.remove(log)?;
                Ok(f.real().display().to_string())
            }
            Held::Etcd(e) => {
                e.remove()?;
                Ok(e.shown().to_string())
            }
            Held::Stdio { .. } => Err(self.error("cannot be removed: it is stdin")),
        }
    }

    /// Writes an answer that may hold the only copy of a rotated refresh token.
    pub(crate) fn rescue(&self, raw: &[u8]) -> Result<PathBuf, String> {
        match self {
            Held::File(f) => {
                let name = f.short_name();
                rescue::write(
                    raw,
                    Some(rescue::Beside {
                        dir: f.dir(),
                        name: &name,
                        owner: f.owner(),
                    }),
                    &name,
                )
            }
            // On this host, never in etcd: the store just failed.
            Held::Etcd(e) => rescue::write(raw, None, &e.rescue_name()),
            Held::Stdio { .. } => rescue::write(raw, None, "stdin"),
        }
    }
}

/// One token family of a batch: where it is, and how it is named in messages.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub(crate) location: Location,
    pub(crate) shown: String,
}

/// Paths that could not be listed (an unreadable directory), with why.
pub(crate) type Unlisted = Vec<(String, Error)>;

/// The token families named by the paths (a directory: its `*.json` files, not hidden,
/// sorted; an etcd prefix: its keys, locks left out) and `--files-from`, each once; and
/// the paths that could not be listed.
pub(crate) fn list(
    paths: &[PathBuf],
    files_from: Option<&Path>,
    reach: Reach<'_>,
    timeout: Duration,
) -> Result<(Vec<Item>, Unlisted), Error> {
    let mut paths = paths.to_vec();
    if let Some(from) = files_from {
        paths.extend(read_list(from)?);
    }
    let mut items = Vec::new();
    let mut unlisted = Vec::new();
    let mut files = Vec::new();
    for path in paths {
        let place = match Location::parse(path.clone().into_os_string())? {
            Location::Etcd(place) => place,
            _ => {
                files.push(path);
                continue;
            }
        };
        if !place.is_prefix() {
            push_etcd(&mut items, place);
            continue;
        }
        match reach.client(&place, timeout).and_then(|c| c.list()) {
            Ok(found) => found.into_iter().for_each(|p| push_etcd(&mut items, p)),
            Err(e) => unlisted.push((place.shown().to_string(), e)),
        }
    }
    let (file_items, file_unlisted) = list_files(files);
    items.extend(file_items);
    unlisted.extend(file_unlisted);
    Ok((items, unlisted))
}

fn push_etcd(items: &mut Vec<Item>, place: etcd::Place) {
    if items
        .iter()
        .all(|i| i.location != Location::Etcd(place.clone()))
    {
        items.push(Item {
            shown: place.shown().to_string(),
            location: Location::Etcd(place),
        });
    }
}

fn list_files(paths: Vec<PathBuf>) -> (Vec<Item>, Unlisted) {
    let mut items = Vec::new();
    let mut unlisted = Vec::new();
    let mut seen = HashSet::new();
    let mut add = |path: PathBuf, items: &mut Vec<Item>| {
        let key = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if seen.insert(key) {
            let shown = path.display().to_string();
            items.push(Item {
                location: Location::File(path),
                shown,
            });
        }
    };
    for path in paths {
        if !path.is_dir() {
            add(path, &mut items);
            continue;
        }
        match json_files(&path) {
            Ok(files) => files.into_iter().for_each(|p| add(p, &mut items)),
            Err(e) => {
                let shown = path.display().to_string();
                let error = Error::token_file(&shown, io_problem("list it", &e));
                unlisted.push((shown, error));
            }
        }
    }
    (items, unlisted)
}

/// `DIR/*.json`: regular files (symlinks followed), names not starting with a dot (temp
/// and rescue files do), sorted.
fn json_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.ends_with(".json") && !name.starts_with('.')
        })
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// `--files-from`: one path a line (`\r\n` too), blank lines skipped; `-` is stdin.
fn read_list(from: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut bytes = Vec::new();
    let shown = from.display();
    let read = if from.as_os_str() == "-" {
        std::io::stdin().lock().read_to_end(&mut bytes)
    } else {
        std::fs::File::open(from).and_then(|mut f| f.read_to_end(&mut bytes))
    };
    read.map_err(|e| {
        Error::usage(format!(
            "cannot read the --files-from list {shown}: {}",
            crate::report::io_words(&e)
        ))
    })?;
    Ok(bytes
        .split(|b| *b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .filter(|line| !line.is_empty())
        .map(|line| PathBuf::from(OsString::from_vec(line.to_vec())))
        .collect())
}

/// Enough of a location's metadata to notice that it was replaced or rewritten (`--watch`
/// retries a parked file when this changes).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Stamp(u64, u64, u64, i64, i64);

impl Location {
    /// Its stamp now; `None` when there is none to take (stdin, a missing file or key,
    /// an etcd cluster that does not answer within a few seconds).
    pub(crate) fn stamp(&self, reach: Reach<'_>) -> Option<Stamp> {
        match self {
            Location::File(path) => {
                let m = std::fs::metadata(path).ok()?;
                Some(Stamp(m.dev(), m.ino(), m.size(), m.mtime(), m.mtime_nsec()))
            }
            Location::Etcd(place) => {
                let client = reach.client(place, Duration::from_secs(3)).ok()?;
                Some(Stamp(0, 0, 0, client.revision()?, 0))
            }
            Location::Stdio => None,
        }
    }
}

/// Reads a location without locking it (`status`, and a fresh token under
/// `--if-older-than` in etcd): never waits for a refresh in progress.
pub(crate) fn read_unlocked(
    location: &Location,
    reach: Reach<'_>,
    timeout: Duration,
) -> Result<Vec<u8>, Error> {
    match location {
        Location::File(path) => token_file::read_unlocked(path),
        Location::Etcd(place) => Ok(reach.client(place, timeout)?.get()?.0),
        Location::Stdio => Err(Error::usage(
            "'-' (stdin) is read by a refresh only: give a token file",
        )),
    }
}

/// `read_unlocked`, with a missing etcd key as `None` (`login` checking before sending).
pub(crate) fn read_if_any(
    location: &Location,
    reach: Reach<'_>,
    timeout: Duration,
) -> Result<Option<Vec<u8>>, Error> {
    match location {
        Location::Etcd(place) => reach.client(place, timeout)?.get_if_any(),
        other => read_unlocked(other, reach, timeout).map(Some),
    }
}

/// The name of a rescue file for a location that has no directory to go beside.
pub(crate) fn rescue_name(location: &Location) -> String {
    match location {
        Location::Etcd(place) => place.rescue_name(),
        _ => "stdin".into(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_lines_and_directories() {
        let dir = std::env::temp_dir().join(format!("sfrefresh-fleet-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("d")).unwrap();
        for name in ["b.json", "a.json", ".a.json.sfrefresh-1-2.tmp", "notes.txt"] {
            std::fs::write(dir.join("d").join(name), "{}").unwrap();
        }
        let list_file = dir.join("list");
        let a = dir.join("d/a.json");
        std::fs::write(
            &list_file,
            format!(
                "{}\r\n\n{}\n{}\n",
                a.display(),
                dir.join("x.json").display(),
                a.display()
            ),
        )
        .unwrap();
        let (items, unlisted) = list_files(
            [dir.join("d")]
                .into_iter()
                .chain(read_list(&list_file).unwrap())
                .collect(),
        );
        let names: Vec<String> = items.iter().map(|i| i.shown.clone()).collect();
        assert_eq!(
            names,
            [
                dir.join("d/a.json").display().to_string(),
                dir.join("d/b.json").display().to_string(),
                dir.join("x.json").display().to_string(),
            ]
        );
        assert!(unlisted.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
