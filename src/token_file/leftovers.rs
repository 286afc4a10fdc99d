//! Temp files a killed run left beside token files: which are leftovers, found with as
//! few directory reads as a run can make, and without touching the directory's times.

use std::ffi::OsString;
use std::io;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

/// How a run finds the temp files a killed run left beside a token file.
#[derive(Clone, Copy)]
pub(crate) enum Sweep<'a> {
    /// Read the directory now (one file per run).
    Scan,
    /// From one read of each directory for the whole run: a run over a thousand files in
    /// one directory must not read it a thousand times.
    Known(&'a Leftovers),
}

/// The temp files (`.NAME.sfrefresh-….tmp`) found by one read of each directory, kept
/// until the lock of their token file is held. Only a lock holder writes temps, so one
/// found before is either gone by then (renamed into place) or a leftover. Temps a crash
/// leaves after the read are the next run's to remove.
#[derive(Debug, Default)]
pub(crate) struct Leftovers(std::sync::Mutex<Vec<(PathBuf, Vec<OsString>)>>);

impl Leftovers {
    /// The leftovers in `dir` whose names start with `prefix`, taken out of the list;
    /// the directory is read the first time it is asked about.
    pub(super) fn take(&self, dir: &Path, prefix: &str) -> Vec<PathBuf> {
        let Ok(mut dirs) = self.0.lock() else {
            return Vec::new();
        };
        let at = match dirs.iter().position(|(d, _)| d == dir) {
            Some(at) => at,
            None => {
                let names = temp_names(dir, "");
                dirs.push((dir.to_path_buf(), names));
                dirs.len() - 1
            }
        };
        let Some((_, names)) = dirs.get_mut(at) else {
            return Vec::new();
        };
        let mut taken = Vec::new();
        names.retain(|n| {
            let ours = n.to_string_lossy().starts_with(prefix);
            if ours {
                taken.push(dir.join(n));
            }
            !ours
        });
        taken
    }
}

/// The names in `dir` of sfrefresh temp files whose names start with `prefix`.
pub(super) fn temp_names(dir: &Path, prefix: &str) -> Vec<OsString> {
    let Ok(names) = names_in(dir) else {
        return Vec::new();
    };
    names
        .into_iter()
        .filter(|name| {
            let name = name.to_string_lossy();
            name.starts_with(prefix)
                && name.starts_with('.')
                && name.contains(".sfrefresh-")
                && name.ends_with(".tmp")
        })
        .collect()
}

/// The names in `dir`, read without touching its access time where we may (O_NOATIME:
/// the directory's owner or root). A read directory's atime is written back under the
/// default `relatime` whenever the directory changed since, which after every save it
/// has: measured 0.06 ms per refresh on ext4, a tenth of a refresh's own time.
pub(super) fn names_in(dir: &Path) -> io::Result<Vec<OsString>> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes())?;
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC;
    // SAFETY: a NUL-terminated path; open returns a new descriptor or -1.
    let mut fd = unsafe { libc::open(path.as_ptr(), flags | libc::O_NOATIME) };
    if fd < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EPERM) {
        // SAFETY: as above.
        fd = unsafe { libc::open(path.as_ptr(), flags) };
    }
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is ours; from here the DIR owns it and closedir closes it.
    let stream = unsafe { libc::fdopendir(fd) };
    if stream.is_null() {
        let e = io::Error::last_os_error();
        // SAFETY: fdopendir failed, so `fd` is still ours to close.
        unsafe { libc::close(fd) };
        return Err(e);
    }
    let mut names = Vec::new();
    loop {
        // SAFETY: `stream` is an open DIR; the entry is valid until the next readdir.
        let entry = unsafe { libc::readdir(stream) };
        if entry.is_null() {
            break;
        }
        // SAFETY: d_name is NUL-terminated inside the entry readdir returned.
        let name = unsafe { std::ffi::CStr::from_ptr((*entry).d_name.as_ptr()) };
        let bytes = name.to_bytes();
        if bytes != b"." && bytes != b".." {
            names.push(OsString::from_vec(bytes.to_vec()));
        }
    }
    // SAFETY: `stream` is open and not used after this.
    unsafe { libc::closedir(stream) };
    Ok(names)
}
