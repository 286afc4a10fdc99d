//! The token file on disk: one holder at a time (flock), read after locking, replaced atomically.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::report::{Log, human};

/// No token document is this big; the cap keeps a wrong path from eating memory.
pub const MAX_TOKEN_FILE: u64 = 1024 * 1024;

/// A token file we hold the exclusive lock on. The lock lives as long as `file`,
/// so it covers reading, the refresh and the rename of the new file over the old.
pub struct LockedFile {
    file: File,
    /// The real path (symlinks resolved): the new file replaces the link's target.
    real: PathBuf,
    /// The path as the user gave it, for messages.
    shown: String,
}

fn io_problem(what: &str, e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "does not exist".to_string(),
        io::ErrorKind::PermissionDenied => format!("cannot {what}: permission denied"),
        _ => format!("cannot {what}: {e}"),
    }
}

/// Opens and locks `path`, waiting for other sfrefresh runs until `deadline`.
///
/// `rename` gives the path a new inode, so a lock taken on the old inode while another
/// run was saving protects nothing: after locking, the path must still name the file we
/// locked, otherwise we start again on the new one. This needs no lock file (no litter).
pub fn lock(
    path: &Path,
    deadline: Instant,
    timeout: Duration,
    log: &Log,
) -> Result<LockedFile, Error> {
    let shown = path.display().to_string();
    let fail = |problem: String| Error::token_file(&shown, problem);
    let mut announced = false;
    loop {
        let real = fs::canonicalize(path).map_err(|e| fail(io_problem("resolve it", &e)))?;
        let file = File::open(&real).map_err(|e| fail(io_problem("read it", &e)))?;
        let meta = file
            .metadata()
            .map_err(|e| fail(io_problem("read it", &e)))?;
        if !meta.is_file() {
            return Err(fail("is not a regular file".into()));
        }
        let mut pause = Duration::from_millis(2);
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(fs::TryLockError::WouldBlock) => {
                    if !announced {
                        log.step(format_args!(
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
                locked.remove_stale_temps();
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

impl LockedFile {
    pub fn shown(&self) -> &str {
        &self.shown
    }

    pub fn error(&self, problem: impl Into<String>) -> Error {
        Error::token_file(&self.shown, problem)
    }

    /// Reads the whole file through the locked descriptor.
    pub fn read(&self) -> Result<Vec<u8>, Error> {
        let mut bytes = Vec::new();
        (&self.file)
            .take(MAX_TOKEN_FILE + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| self.error(io_problem("read it", &e)))?;
        if bytes.len() as u64 > MAX_TOKEN_FILE {
            return Err(self.error("is larger than 1 MiB, so it is not a token file"));
        }
        Ok(bytes)
    }

    fn dir(&self) -> &Path {
        self.real.parent().unwrap_or(Path::new("."))
    }

    fn file_name(&self) -> String {
        self.real
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    fn temp_prefix(&self) -> String {
        format!(".{}.sfrefresh-", self.file_name())
    }

    /// A run killed with SIGKILL while writing can leave its temp file; only the lock
    /// holder writes temps, so any found now are such leftovers.
    fn remove_stale_temps(&self) {
        let prefix = self.temp_prefix();
        let Ok(entries) = fs::read_dir(self.dir()) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(&prefix) && name.ends_with(".tmp") {
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    fn create_temp(&self) -> Result<(TempFile, File), Error> {
        let path = self.dir().join(format!(
            "{}{}-{:08x}.tmp",
            self.temp_prefix(),
            std::process::id(),
            crate::random_u64() as u32
        ));
        // Private from the first byte; the old file's mode is applied after chown.
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| {
                self.error(format!(
                    "cannot be saved: cannot create a file in {}: {}",
                    self.dir().display(),
                    io_problem("write there", &e).trim_start_matches("cannot write there: ")
                ))
            })?;
        Ok((TempFile(Some(path)), file))
    }

    /// Proves the directory takes a new file before anything is sent: a refresh whose
    /// answer cannot be saved may have consumed a rotating refresh token.
    pub fn check_writable(&self) -> Result<(), Error> {
        let (temp, file) = self.create_temp()?;
        drop(file);
        drop(temp);
        Ok(())
    }

    /// Replaces the file with `bytes`: temp file in the same directory with the old
    /// owner and mode, fsync, rename over the original, fsync the directory.
    pub fn replace(&self, bytes: &[u8], log: &Log) -> Result<(), Error> {
        let meta = self
            .file
            .metadata()
            .map_err(|e| self.error(io_problem("read it", &e)))?;
        let (mut temp, mut file) = self.create_temp()?;
        let saving =
            |e: io::Error| self.error(format!("cannot be saved: {e}; the file was not changed"));
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
                "could not fsync the directory of {}: {e}",
                self.shown
            ));
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "sfrefresh-unit-{name}-{}-{:x}",
            std::process::id(),
            crate::random_u64()
        ));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(5)
    }

    #[test]
    fn replace_keeps_mode_and_leaves_no_temp() {
        let dir = scratch("replace");
        let path = dir.join("tok.json");
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, Permissions::from_mode(0o640)).unwrap();
        let locked = lock(&path, far(), Duration::from_secs(5), &Log::new(false)).unwrap();
        assert_eq!(locked.read().unwrap(), b"old");
        locked.check_writable().unwrap();
        locked.replace(b"new", &Log::new(false)).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o7777, 0o640);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_second_lock_waits_until_the_deadline() {
        let dir = scratch("wait");
        let path = dir.join("tok.json");
        fs::write(&path, "x").unwrap();
        let _held = lock(&path, far(), Duration::from_secs(5), &Log::new(false)).unwrap();
        let soon = Instant::now() + Duration::from_millis(100);
        let Err(err) = lock(&path, soon, Duration::from_millis(100), &Log::new(false)) else {
            panic!("second lock must not be granted");
        };
        assert_eq!(err.exit_code(), 3);
        assert!(err.to_string().contains("held its lock"), "{err}");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn stale_temps_are_removed_on_lock() {
        let dir = scratch("stale");
        let path = dir.join("tok.json");
        fs::write(&path, "x").unwrap();
        let stale = dir.join(".tok.json.sfrefresh-1-deadbeef.tmp");
        let other = dir.join(".other.json.sfrefresh-1-deadbeef.tmp");
        fs::write(&stale, "half").unwrap();
        fs::write(&other, "not ours").unwrap();
        let _held = lock(&path, far(), Duration::from_secs(5), &Log::new(false)).unwrap();
        assert!(!stale.exists());
        assert!(other.exists());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn missing_file_and_directory_are_named() {
        let dir = scratch("missing");
        let e = lock(
            &dir.join("nope.json"),
            far(),
            Duration::from_secs(5),
            &Log::new(false),
        )
        .err()
        .unwrap();
        assert!(e.to_string().ends_with("nope.json: does not exist"), "{e}");
        let e = lock(&dir, far(), Duration::from_secs(5), &Log::new(false))
            .err()
            .unwrap();
        assert!(e.to_string().ends_with("is not a regular file"), "{e}");
        fs::remove_dir_all(dir).unwrap();
    }
}
