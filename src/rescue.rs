//! The rescue file: when a 200 answer cannot be kept (signature mismatch, a bad answer
//! that still carries a refresh token, a failed save), its JSON is written somewhere
//! the user can find it, so a rotated refresh token is never simply thrown away.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::report::io_words;

/// Where a token file lives, for a rescue beside it.
pub(crate) struct Beside<'a> {
    pub(crate) dir: &'a Path,
    /// The token file's name, already short enough for derived names.
    pub(crate) name: &'a str,
    pub(crate) owner: Option<(u32, u32)>,
}

/// Writes `raw` (mode 0600, fsynced) beside the token file as
/// `.NAME.sfrefresh-rescue-EPOCH.json`, else in `$XDG_RUNTIME_DIR`, else in `$HOME`, as
/// `sfrefresh-rescue-NAME-EPOCH.json` (`name`: what the family is called without a
/// directory to go beside, `stdin` or an etcd key's). Returns the path, or why no place
/// took it.
pub(crate) fn write(raw: &[u8], beside: Option<Beside<'_>>, name: &str) -> Result<PathBuf, String> {
    let epoch = crate::clock::now_ms() / 1000;
    let mut tried = Vec::new();
    let name = beside.as_ref().map_or(name, |b| b.name);
    let owner = beside.as_ref().and_then(|b| b.owner);
    let mut places: Vec<PathBuf> = Vec::new();
    if let Some(b) = &beside {
        places.push(b.dir.join(format!(".{name}.sfrefresh-rescue-{epoch}.json")));
    }
    for var in ["XDG_RUNTIME_DIR", "HOME"] {
        if let Some(dir) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            places.push(Path::new(&dir).join(format!("sfrefresh-rescue-{name}-{epoch}.json")));
        }
    }
    for path in places {
        match write_one(&path, raw, owner) {
            Ok(()) => return Ok(path),
            Err(why) => tried.push(format!("{}: {why}", path.display())),
        }
    }
    if tried.is_empty() {
        tried.push("no directory to write to ($XDG_RUNTIME_DIR and $HOME unset)".into());
    }
    Err(tried.join("; "))
}

fn write_one(path: &Path, raw: &[u8], owner: Option<(u32, u32)>) -> Result<(), String> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| io_words(&e))?;
    if let Some((uid, gid)) = owner {
        // Root rescuing a user's token: the user must be able to read it.
        let _ = std::os::unix::fs::fchown(&file, Some(uid), Some(gid));
    }
    let result = file
        .write_all(raw)
        .and_then(|()| file.write_all(if raw.ends_with(b"\n") { b"" } else { b"\n" }))
        .and_then(|()| file.sync_all());
    if let Err(e) = result {
        let _ = std::fs::remove_file(path);
        return Err(io_words(&e));
    }
    if let Some(dir) = path.parent() {
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

/// A path in messages: lossy, no control characters.
pub(crate) fn shown(path: &Path) -> String {
    crate::report::sanitize(&OsString::from(path).to_string_lossy())
}
