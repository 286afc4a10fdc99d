//! Temp files a killed run left beside token files: which are leftovers, found with as
//! few directory reads as a run can make.

use std::ffi::OsString;
use std::io;
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

/// The names in `dir`. With std, not raw `readdir` with `O_NOATIME`: docs/benchmarks.md,
/// "Directory reads".
pub(super) fn names_in(dir: &Path) -> io::Result<Vec<OsString>> {
    std::fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.file_name()))
        .collect()
}
