//! A new token file for `login`: written whole under a temporary name beside it (mode
//! 0600, fsynced), then linked into place only if nothing is there yet. No reader, crash
//! or Ctrl-C ever sees an empty or half-written token file, and an existing file is never
//! replaced here (the caller locks and replaces it as a refresh does).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::{TempFile, room_for, space_problem};
use crate::error::Error;
use crate::error::Kind;
use crate::report::{Log, io_problem, io_words};

/// What `create` found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Created {
    Done,
    /// Something is at the path already: nothing was written there.
    Exists,
}

/// Where a new token file goes.
pub(crate) struct NewFile {
    /// The directory (symlinks resolved) joined with the file's name.
    path: PathBuf,
    dir: PathBuf,
    /// The name, cut so that temp and rescue names stay within 255 bytes.
    short: String,
    shown: String,
}

impl NewFile {
    /// Checks that `path` names a file in a directory that exists.
    pub(crate) fn new(path: &Path) -> Result<NewFile, Error> {
        let shown = path.display().to_string();
        let fail = |problem: String| Error::token_file(&shown, problem);
        let Some(name) = path.file_name() else {
            return Err(fail("is not a file name".into()));
        };
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let dir = fs::canonicalize(parent).map_err(|e| {
            fail(format!(
                "cannot be created: its directory {} {}",
                parent.display(),
                io_problem("be used", &e)
            ))
        })?;
        Ok(NewFile {
            path: dir.join(name),
            short: super::short(Some(name)),
            dir,
            shown,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn short_name(&self) -> &str {
        &self.short
    }

    pub(crate) fn shown(&self) -> &str {
        &self.shown
    }

    pub(crate) fn error(&self, problem: impl Into<String>) -> Error {
        Error::token_file(&self.shown, problem)
    }

    /// The file already at the path, if any: a regular file (symlinks followed) of at
    /// most 1 MiB, read whole. Opened without blocking, as `lock` opens one.
    pub(crate) fn existing(&self) -> Result<Option<Vec<u8>>, Error> {
        let real = match fs::canonicalize(&self.path) {
            Ok(real) => real,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // A dangling symlink: `create` would find it in the way.
                return match fs::symlink_metadata(&self.path) {
                    Ok(_) => Err(self.error("is a symbolic link to nothing")),
                    Err(_) => Ok(None),
                };
            }
            Err(e) => return Err(self.error(io_problem("resolve it", &e))),
        };
        let (file, _) = super::open_regular(&real).map_err(|p| self.error(p))?;
        super::read_capped(&file)
            .map(Some)
            .map_err(|p| self.error(p))
    }

    /// `.NAME.sfrefresh-PID-RANDOM.tmp`: the prefix `lock` cleans up after a killed run.
    fn create_temp(&self) -> Result<(TempFile, File), Error> {
        super::new_temp(&self.dir, &self.short).map_err(|e| {
            self.error(format!(
                "cannot be created: {} in {}",
                io_problem("write there", &e).trim_start_matches("cannot write there: "),
                self.dir.display()
            ))
        })
    }

    /// Proves, before anything is sent, that a file of `size` bytes can be created here:
    /// a login whose token cannot be saved wastes the user's approval.
    pub(crate) fn check_writable(&self, size: u64) -> Result<(), Error> {
        let (temp, file) = self
            .create_temp()
            .map_err(|e| self.error(format!("{}; nothing was sent", problem_of(e))))?;
        room_for(&file, size).map_err(|e| {
            self.error(format!(
                "cannot be created: {}; nothing was sent",
                space_problem(&e, size)
            ))
        })?;
        drop(file);
        drop(temp);
        Ok(())
    }

    /// Writes `bytes` to a temp file (0600, fsynced) and links it to the path if nothing
    /// is there; the directory is fsynced so the new name survives a crash.
    pub(crate) fn create(&self, bytes: &[u8], log: &Log) -> Result<Created, Error> {
        let (temp, mut file) = self.create_temp()?;
        let saving = |e: io::Error| self.error(format!("cannot be saved: {}", io_words(&e)));
        file.write_all(bytes).map_err(saving)?;
        file.sync_all().map_err(saving)?;
        drop(file);
        let temp_path = temp.0.clone().unwrap_or_default();
        let created = match fs::hard_link(&temp_path, &self.path) {
            Ok(()) => Created::Done,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Created::Exists,
            // A file system without hard links: create the name exclusively instead.
            Err(_) => self.create_directly(bytes).map_err(saving)?,
        };
        drop(temp);
        if created == Created::Done
            && let Err(e) = File::open(&self.dir).and_then(|d| d.sync_all())
        {
            log.step(format_args!(
                "could not fsync the directory of {}: {}",
                self.shown,
                io_words(&e)
            ));
        }
        Ok(created)
    }

    /// `O_CREAT|O_EXCL` at the path and a plain write, removed again if the write fails.
    fn create_directly(&self, bytes: &[u8]) -> io::Result<Created> {
        let mut file = match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&self.path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(Created::Exists),
            Err(e) => return Err(e),
        };
        if let Err(e) = file.write_all(bytes).and_then(|()| file.sync_all()) {
            let _ = fs::remove_file(&self.path);
            return Err(e);
        }
        Ok(Created::Done)
    }
}

/// The problem part of a token-file error, to be reworded.
fn problem_of(e: Error) -> String {
    match e.kind() {
        Kind::TokenFile => e.problem().to_string(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::random_u64;
    use crate::report::Level;
    use std::os::unix::fs::PermissionsExt;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "sfrefresh-create-{name}-{}-{:x}",
            std::process::id(),
            random_u64()
        ));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut n: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    }

    #[test]
    fn creates_a_private_file_whole_and_leaves_nothing_else() {
        let dir = scratch("new");
        let f = NewFile::new(&dir.join("tok.json")).unwrap();
        assert_eq!(f.existing().unwrap(), None);
        f.check_writable(4096).unwrap();
        assert_eq!(
            f.create(b"{}\n", &Log::new(Level::Quiet)).unwrap(),
            Created::Done
        );
        assert_eq!(fs::read(dir.join("tok.json")).unwrap(), b"{}\n");
        let mode = fs::metadata(dir.join("tok.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(names(&dir), ["tok.json"]);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn never_replaces_what_is_there() {
        let dir = scratch("exists");
        fs::write(dir.join("tok.json"), "old").unwrap();
        let f = NewFile::new(&dir.join("tok.json")).unwrap();
        assert_eq!(f.existing().unwrap(), Some(b"old".to_vec()));
        assert_eq!(
            f.create(b"new", &Log::new(Level::Quiet)).unwrap(),
            Created::Exists
        );
        assert_eq!(fs::read(dir.join("tok.json")).unwrap(), b"old");
        assert_eq!(names(&dir), ["tok.json"]);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_missing_directory_or_a_non_file_is_named() {
        let dir = scratch("missing");
        let e = NewFile::new(&dir.join("nope/tok.json")).err().unwrap();
        assert!(e.to_string().contains("its directory"), "{e}");
        assert_eq!(e.exit_code(), 3);
        let e = NewFile::new(&dir).unwrap().existing().unwrap_err();
        assert!(e.to_string().ends_with("is not a regular file"), "{e}");
        std::os::unix::fs::symlink(dir.join("gone"), dir.join("link.json")).unwrap();
        let e = NewFile::new(&dir.join("link.json"))
            .unwrap()
            .existing()
            .unwrap_err();
        assert!(e.to_string().contains("symbolic link to nothing"), "{e}");
        fs::remove_dir_all(dir).unwrap();
    }
}
