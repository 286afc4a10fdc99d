//! The token file on disk: one holder at a time (flock), read after locking, proven
//! writable before anything is sent, replaced atomically.

use std::ffi::OsString;
use std::fs::{self, File, Metadata, OpenOptions, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use crate::clock::{human, random_u64};
use crate::error::Error;
use crate::report::{Log, cannot_create_in, io_problem, io_words};
use crate::token::MAX_FILE;

/// A token file we hold the exclusive lock on. The lock lives as long as `file`,
/// so it covers reading, the refresh and the rename of the new file over the old.
pub(crate) struct LockedFile {
    file: File,
    /// The real path (symlinks resolved): the new file replaces the link's target.
    real: PathBuf,
    /// The path as the user gave it, for messages.
    shown: String,
}

/// Opens and locks `path`, waiting for other sfrefresh runs until `deadline`.
///
/// `rename` gives the path a new inode, so a lock taken on the old inode while another
/// run was saving protects nothing: after locking, the path must still name the file we
/// locked, otherwise we start again on the new one. This needs no lock file (no litter).
/// A wait for the lock at least this long is said on stderr unless `-q`.
const NOTICEABLE: Duration = Duration::from_secs(1);

/// Leftover temps of the file are removed once it is locked, found as `sweep` says.
pub(crate) fn lock_with(
    path: &Path,
    deadline: Instant,
    timeout: Duration,
    log: &Log,
    sweep: Sweep<'_>,
) -> Result<LockedFile, Error> {
    let shown = path.display().to_string();
    let fail = |problem: String| Error::token_file(&shown, problem);
    let mut announced = false;
    let started = Instant::now();
    loop {
        let real = fs::canonicalize(path).map_err(|e| fail(io_problem("resolve it", &e)))?;
        let (file, meta) = open_regular(&real).map_err(fail)?;
        let mut pause = Duration::from_millis(2);
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(fs::TryLockError::WouldBlock) => {
                    // Said once, and only when the wait is long enough to notice.
                    if !announced && started.elapsed() >= NOTICEABLE {
                        log.wait(format_args!(
                            "waiting for another sfrefresh holding {shown}"
                        ));
                        announced = true;
                    }
                    if Instant::now() + pause >= deadline {
                        return Err(fail(format!(
                            "another process has held its lock for more than the {} --timeout; \
                             nothing was sent",
                            human(timeout)
                        )));
                    }
                    thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(fs::TryLockError::Error(e)) => return Err(fail(io_problem("lock it", &e))),
            }
        }
        match fs::metadata(&real) {
            Ok(now) if now.dev() == meta.dev() && now.ino() == meta.ino() => {
                let locked = LockedFile { file, real, shown };
                locked.remove_stale_temps(sweep);
                return Ok(locked);
            }
            // Replaced by the run we waited for: lock the new file instead.
            Ok(_) => log.step(format_args!(
                "{shown} was replaced while waiting; locking it again"
            )),
            Err(e) => return Err(fail(io_problem("read it", &e))),
        }
    }
}

/// Reads a token file without locking it: sfrefresh only ever replaces one by `rename`,
/// so a plain read sees the old file or the new one, whole, and never waits for a run
/// that holds the lock (`status`).
pub(crate) fn read_unlocked(path: &Path) -> Result<Vec<u8>, Error> {
    let fail = |problem: String| Error::token_file(&path.display().to_string(), problem);
    let real = fs::canonicalize(path).map_err(|e| fail(io_problem("resolve it", &e)))?;
    let (file, _) = open_regular(&real).map_err(fail)?;
    read_capped(&file).map_err(fail)
}

/// A token file read whole, up to `MAX_FILE`: the cap keeps a wrong path from eating
/// memory, and what sfrefresh writes always fits under it. The error is the problem.
pub(crate) fn read_capped(mut file: &File) -> Result<Vec<u8>, String> {
    // Sized from the file, so a token file is one read, not a doubling series of them.
    let hint = file.metadata().map_or(0, |m| m.len().min(MAX_FILE));
    let mut bytes = Vec::with_capacity(hint as usize + 1);
    (&mut file)
        .take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_problem("read it", &e))?;
    if bytes.len() as u64 > MAX_FILE {
        return Err("is larger than 1 MiB, so it is not a token file".into());
    }
    Ok(bytes)
}

/// A file name cut so that every name derived from it (temp and rescue files) stays
/// within the file system's 255-byte limit.
pub(crate) fn short(name: Option<&std::ffi::OsStr>) -> String {
    let name = name
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut cut = name.len().min(200);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    name.get(..cut).unwrap_or_default().to_string()
}

/// Creates `.SHORT.sfrefresh-PID-RANDOM.tmp` in `dir`, private from the first byte: the
/// name `lock` cleans up after a killed run, removed on drop unless disarmed.
fn new_temp(dir: &Path, short: &str) -> io::Result<(TempFile, File)> {
    let mut name = format!(".{short}.sfrefresh-").into_bytes();
    name.extend(format!("{}-{:08x}.tmp", std::process::id(), random_u64() as u32).bytes());
    let path = dir.join(OsString::from_vec(name));
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)?;
    Ok((TempFile(Some(path)), file))
}

/// Opens a regular file for reading without ever blocking: `stat` first (opening a
/// FIFO blocks until a writer comes, opening a device can have effects), then open
/// with O_NONBLOCK and check that what was opened is a regular file. Another run may
/// have renamed a new token file over the path in between: that is still a regular file
/// (the one now at the path), not an error; `lock_with` then checks the path again.
fn open_regular(real: &Path) -> Result<(File, Metadata), String> {
    const NOT_REGULAR: &str = "is not a regular file";
    let before = fs::metadata(real).map_err(|e| io_problem("read it", &e))?;
    if !before.is_file() {
        return Err(NOT_REGULAR.into());
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(real)
        .map_err(|e| io_problem("read it", &e))?;
    let meta = file.metadata().map_err(|e| io_problem("read it", &e))?;
    if !meta.is_file() {
        return Err(NOT_REGULAR.into());
    }
    Ok((file, meta))
}

impl LockedFile {
    pub(crate) fn shown(&self) -> &str {
        &self.shown
    }

    /// The file itself, symlinks resolved: what a save replaces and `remove` removes.
    pub(crate) fn real(&self) -> &Path {
        &self.real
    }

    pub(crate) fn error(&self, problem: impl Into<String>) -> Error {
        Error::token_file(&self.shown, problem)
    }

    /// Reads the whole file through the locked descriptor.
    pub(crate) fn read(&self) -> Result<Vec<u8>, Error> {
        read_capped(&self.file).map_err(|p| self.error(p))
    }

    pub(crate) fn dir(&self) -> &Path {
        self.real.parent().unwrap_or(Path::new("."))
    }

    /// The file's name, cut for the names derived from it (see `short`).
    pub(crate) fn short_name(&self) -> String {
        short(self.real.file_name())
    }

    fn temp_prefix(&self) -> String {
        format!(".{}.sfrefresh-", self.short_name())
    }

    /// The owner and group of the token file, for the files written beside it.
    pub(crate) fn owner(&self) -> Option<(u32, u32)> {
        self.file.metadata().ok().map(|m| (m.uid(), m.gid()))
    }

    /// A run killed with SIGKILL while writing can leave its temp file; only the lock
    /// holder writes temps, so any found now are such leftovers.
    fn remove_stale_temps(&self, sweep: Sweep<'_>) {
        let prefix = self.temp_prefix();
        let stale = match sweep {
            Sweep::Scan => temp_names(self.dir(), &prefix)
                .into_iter()
                .map(|n| self.dir().join(n))
                .collect(),
            Sweep::Known(leftovers) => leftovers.take(self.dir(), &prefix),
        };
        for path in stale {
            let _ = fs::remove_file(path);
        }
    }

    // Private from the first byte; the old file's mode is applied after chown.
    fn create_temp(&self) -> Result<(TempFile, File), Error> {
        new_temp(self.dir(), &self.short_name()).map_err(|e| {
            self.error(format!(
                "cannot be saved: {}; nothing was sent",
                cannot_create_in(self.dir(), &e)
            ))
        })
    }

    /// Proves, before anything is sent, that a new file of `size` bytes can be written
    /// beside the old one and renamed over it: a refresh whose answer cannot be saved
    /// may have consumed a rotating refresh token.
    pub(crate) fn check_writable(&self, size: u64) -> Result<(), Error> {
        let (temp, file) = self.create_temp()?;
        let nothing_sent =
            |problem: String| self.error(format!("cannot be saved: {problem}; nothing was sent"));
        room_for(&file, size).map_err(|e| nothing_sent(space_problem(&e, size)))?;
        let ours = file.metadata().map_err(|e| nothing_sent(io_words(&e)))?;
        drop(file);
        drop(temp);
        let theirs = self
            .file
            .metadata()
            .map_err(|e| nothing_sent(io_words(&e)))?;
        let dir = fs::metadata(self.dir()).map_err(|e| nothing_sent(io_words(&e)))?;
        // In a sticky directory (like /tmp) only the file's owner, the directory's owner
        // or root may replace a file: rename would fail after the token was consumed.
        let sticky = dir.mode() & 0o1000 != 0;
        let us = ours.uid();
        if sticky && us != 0 && theirs.uid() != us && dir.uid() != us {
            return Err(nothing_sent(format!(
                "its directory {} is sticky and the file belongs to another user \
                 (uid {}), so it cannot be replaced",
                self.dir().display(),
                theirs.uid()
            )));
        }
        Ok(())
    }

    /// Replaces the file with `bytes`: temp file in the same directory with the old
    /// owner and mode, fsync, rename over the original, fsync the directory.
    pub(crate) fn replace(&self, bytes: &[u8], log: &Log) -> Result<(), Error> {
        let meta = self
            .file
            .metadata()
            .map_err(|e| self.error(io_problem("read it", &e)))?;
        let (mut temp, mut file) = self.create_temp()?;
        let saving = |e: io::Error| {
            self.error(format!(
                "cannot be saved: {}; the file was not changed",
                io_words(&e)
            ))
        };
        // Keep the owner when we may (root refreshing a user's file); otherwise we own the copy.
        if std::os::unix::fs::fchown(&file, Some(meta.uid()), Some(meta.gid())).is_err() {
            log.step(format_args!("could not keep the owner of {}", self.shown));
        }
        file.set_permissions(Permissions::from_mode(meta.mode() & 0o7777))
            .map_err(saving)?;
        file.write_all(bytes).map_err(saving)?;
        file.sync_all().map_err(saving)?;
        drop(file);
        let temp_path = temp.0.clone().unwrap_or_default();
        fs::rename(&temp_path, &self.real).map_err(saving)?;
        temp.disarm();
        // Makes the rename itself durable; some filesystems refuse fsync on a directory,
        // and by now the new file is in place, so that is only worth a verbose note.
        if let Err(e) = File::open(self.dir()).and_then(|d| d.sync_all()) {
            log.step(format_args!(
                "could not fsync the directory of {}: {}",
                self.shown,
                io_words(&e)
            ));
        }
        Ok(())
    }
}

impl LockedFile {
    /// Removes the file while still holding its lock, then makes the removal durable. A
    /// run waiting for the lock then finds the path gone and stops ("does not exist").
    /// A symlinked TOKEN_FILE loses the file it points to; the dangling link stays.
    pub(crate) fn remove(&self, log: &Log) -> Result<(), Error> {
        fs::remove_file(&self.real).map_err(|e| self.error(io_problem("remove it", &e)))?;
        if let Err(e) = File::open(self.dir()).and_then(|d| d.sync_all()) {
            log.step(format_args!(
                "could not fsync the directory of {}: {}",
                self.shown,
                io_words(&e)
            ));
        }
        Ok(())
    }
}

/// Whether a file of `size` bytes fits where `file` is: the file-size limit (`ulimit -f`)
/// and the whole blocks free to unprivileged users (f_bavail). Not f_bfree even for
/// root: the right to a file system's reserved blocks depends on its resuid/resgid and
/// CAP_SYS_RESOURCE (root in a user namespace has none), and a refusal before sending
/// loses nothing where a failed save after it needs the rescue file. Not
/// `fallocate`: reserving and freeing blocks is journalled, a cost measured in
/// docs/benchmarks.md ("The space check"), and what it adds, a disk quota, is left to
/// the save (whose failure keeps the answer in a rescue file).
// fsblkcnt_t and f_frsize are u64 here but 32-bit on some targets, hence the casts.
#[allow(clippy::unnecessary_cast)]
fn room_for(file: &File, size: u64) -> io::Result<()> {
    if crate::sys::file_size_limit().is_some_and(|limit| limit < size) {
        return Err(io::Error::from_raw_os_error(libc::EFBIG));
    }
    let st = match crate::sys::fstatvfs(file) {
        Ok(st) if st.f_blocks != 0 => st,
        _ => return Ok(()), // cannot tell (some FUSE file systems say nothing): the save will
    };
    let needed = size.div_ceil((st.f_frsize as u64).max(1));
    if (st.f_bavail as u64) < needed {
        return Err(io::Error::from_raw_os_error(libc::ENOSPC));
    }
    Ok(())
}

fn space_problem(e: &io::Error, size: u64) -> String {
    let kib = size.div_ceil(1024);
    match e.raw_os_error() {
        Some(libc::ENOSPC) | Some(libc::EDQUOT) => {
            format!("the disk has no room for the {kib} KiB a save needs")
        }
        Some(libc::EFBIG) => {
            format!("the file-size limit (ulimit -f) is smaller than the {kib} KiB a save needs")
        }
        _ => io_words(e),
    }
}

/// Removes the temp file when a save does not reach the rename.
struct TempFile(Option<PathBuf>);

impl TempFile {
    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = fs::remove_file(path);
        }
    }
}

mod create;
mod leftovers;

pub(crate) use create::{Created, NewFile};
use leftovers::temp_names;
pub(crate) use leftovers::{Leftovers, Sweep};

#[cfg(test)]
mod tests;
