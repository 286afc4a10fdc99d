//! `--metrics-file PATH`: a Prometheus textfile-collector file (node_exporter reads
//! `*.prom` files from a directory), replaced atomically after each pass, with per token
//! file the last success time, the last exit code, the token's `issued_at` and how long
//! the last refresh took.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::batch::Outcome;
use crate::error::Error;
use crate::refresh::Done;
use crate::report::cannot_create_in;
use crate::report::io_words;
use crate::store::Item;

/// What is known of each token file so far, by its name in messages.
pub(crate) struct Metrics {
    path: PathBuf,
    files: BTreeMap<String, FileMetrics>,
}

#[derive(Default)]
struct FileMetrics {
    last_success: Option<f64>,
    last_exit: u8,
    issued_at: Option<f64>,
    duration: f64,
}

/// The metrics, their help and type lines, in the order written.
const FAMILIES: [(&str, &str); 4] = [
    (
        "sfrefresh_last_success_timestamp_seconds",
        "Unix time of the last run that refreshed the token file or found it fresh.",
    ),
    (
        "sfrefresh_last_exit_code",
        "Exit code of the last refresh of the token file (0 refreshed or fresh, 3 token file, 4 network or server, 5 refused).",
    ),
    (
        "sfrefresh_token_issued_at_timestamp_seconds",
        "The issued_at of the token in the file, as Unix time.",
    ),
    (
        "sfrefresh_refresh_duration_seconds",
        "How long the last refresh of the token file took, waiting for its lock included.",
    ),
];

impl Metrics {
    pub(crate) fn new(path: &Path) -> Metrics {
        Metrics {
            path: path.to_path_buf(),
            files: BTreeMap::new(),
        }
    }

    /// Takes in the outcomes of one pass.
    fn record(&mut self, items: &[Item], outcomes: &[Outcome]) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        for o in outcomes {
            let Some(item) = items.get(o.index) else {
                continue;
            };
            let m = self.files.entry(item.shown.clone()).or_default();
            m.last_exit = o.code();
            m.duration = o.took.as_secs_f64();
            if let Ok(done) = &o.result {
                m.last_success = Some(now);
                let issued = match done {
                    Done::Refreshed { issued_at_ms, .. } | Done::Fresh { issued_at_ms, .. } => {
                        *issued_at_ms
                    }
                };
                m.issued_at = issued.map(|ms| ms as f64 / 1000.0);
            }
        }
    }

    /// The file's text: `# HELP`, `# TYPE gauge`, then one sample per token file.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        for (name, help) in FAMILIES {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
            for (file, m) in &self.files {
                let value = match name {
                    "sfrefresh_last_success_timestamp_seconds" => m.last_success,
                    "sfrefresh_last_exit_code" => Some(f64::from(m.last_exit)),
                    "sfrefresh_token_issued_at_timestamp_seconds" => m.issued_at,
                    _ => Some(m.duration),
                };
                if let Some(v) = value {
                    let _ = writeln!(out, "{name}{{file=\"{}\"}} {v}", label(file));
                }
            }
        }
        out
    }

    /// The file's directory, and the hidden temp file written there and renamed over it
    /// (the collector reads only `*.prom`).
    fn places(&self) -> (&Path, PathBuf) {
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        (dir, temp)
    }

    /// Proves before anything is sent, as `LockedFile::check_writable` does for a token
    /// file, that the file can be written: its temp file can be created beside it, and
    /// the path is not a directory, which the rename could not replace.
    pub(crate) fn check_writable(&self) -> Result<(), Error> {
        let fail = |why: String| {
            Error::output(format!(
                "the --metrics-file {} cannot be written: {why}; nothing was sent",
                self.path.display()
            ))
        };
        // Not followed: rename replaces a symlink itself, even one to a directory.
        if fs::symlink_metadata(&self.path).is_ok_and(|m| m.is_dir()) {
            return Err(fail("it is a directory".into()));
        }
        let (dir, temp) = self.places();
        fs::File::create(&temp).map_err(|e| fail(cannot_create_in(dir, &e)))?;
        let _ = fs::remove_file(&temp);
        Ok(())
    }

    /// Takes in a pass's outcomes and rewrites the file. A failed write leaves the token
    /// files as the pass left them, and the error (one log line) says so.
    pub(crate) fn update(&mut self, items: &[Item], outcomes: &[Outcome]) -> Result<(), String> {
        self.record(items, outcomes);
        self.write().map_err(|why| {
            let refreshed = outcomes
                .iter()
                .filter(|o| matches!(o.result, Ok(Done::Refreshed { .. })))
                .count();
            match refreshed {
                0 => format!("{why}; the token files are not affected"),
                1 => format!("{why}; the refreshed token file is saved all the same"),
                n => format!("{why}; the {n} refreshed token files are saved all the same"),
            }
        })
    }

    /// Replaces the file atomically: the temp file beside it, then rename. The error
    /// says what failed, for one log line.
    fn write(&self) -> Result<(), String> {
        let (_, temp) = self.places();
        let result = fs::File::create(&temp)
            .and_then(|mut f| f.write_all(self.render().as_bytes()))
            .and_then(|()| fs::rename(&temp, &self.path));
        result.map_err(|e| {
            let _ = fs::remove_file(&temp);
            format!(
                "cannot write the --metrics-file {}: {}",
                self.path.display(),
                io_words(&e)
            )
        })
    }
}

/// A label value as the text format wants it: `\`, `"` and newlines escaped.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Location;
    use std::time::Duration;

    #[test]
    fn samples_per_file_with_escaped_labels() {
        let items = vec![
            Item {
                location: Location::File("a".into()),
                shown: "dir/a \"x\".json".into(),
            },
            Item {
                location: Location::File("b".into()),
                shown: "b.json".into(),
            },
        ];
        let outcomes = vec![
            Outcome {
                index: 0,
                result: Ok(Done::Refreshed {
                    org: "o".into(),
                    rotated: false,
                    how: "refresh token kept",
                    issued_at_ms: Some(1_708_058_728_442),
                }),
                took: Duration::from_millis(250),
            },
            Outcome {
                index: 1,
                result: Err(crate::error::Error::token_file("b.json", "does not exist")),
                took: Duration::from_millis(1),
            },
        ];
        let mut m = Metrics::new(Path::new("/nonexistent/m.prom"));
        m.record(&items, &outcomes);
        let text = m.render();
        assert!(
            text.contains("sfrefresh_last_exit_code{file=\"b.json\"} 3\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "sfrefresh_token_issued_at_timestamp_seconds{file=\"dir/a \\\"x\\\".json\"} 1708058728.442\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "sfrefresh_refresh_duration_seconds{file=\"dir/a \\\"x\\\".json\"} 0.25\n"
            )
        );
        assert!(!text.contains("sfrefresh_last_success_timestamp_seconds{file=\"b.json\"}"));
        assert!(m.write().unwrap_err().contains("/nonexistent/m.prom"));
        assert_eq!(
            m.update(&items, &outcomes).unwrap_err(),
            "cannot write the --metrics-file /nonexistent/m.prom: no such file or directory; \
             the refreshed token file is saved all the same"
        );
    }
}
