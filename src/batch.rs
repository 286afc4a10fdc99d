//! The batch runner: many token files in one run, one-shot (`fleet.rs`) or forever
//! (`watch.rs`). Each file gets the whole single-file refresh (`refresh::refresh_file`:
//! its own lock, read after locking, atomic save, rescue, `--if-older-than`); `--jobs`
//! threads take files from one list, each with its own agents so kept-alive connections
//! serve its next files; one event line per file (`Events`).

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::error::Error;
use crate::net::Agents;
use crate::refresh::{Done, RefreshArgs, refresh_file};
use crate::report::{Level, say};
use crate::signals;
use crate::store::{Item, Leftovers, Sweep};

/// The options of a run over many files (`fleet.rs`) or forever (`watch.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FleetArgs {
    /// Token files and directories (a directory stands for its `*.json` files).
    pub(crate) paths: Vec<PathBuf>,
    /// `--files-from PATH`: one token file a line; `-` is stdin.
    pub(crate) files_from: Option<PathBuf>,
    /// `--jobs N`: files in flight at once.
    pub(crate) jobs: usize,
    pub(crate) watch: bool,
    pub(crate) metrics_file: Option<PathBuf>,
    pub(crate) json: bool,
}

/// `--jobs` when not given: enough to hide the network round trips of a few hundred
/// orgs on a one- or two-core box, few enough not to look like a burst to the server.
pub(crate) const DEFAULT_JOBS: usize = 4;

/// How one file's refresh ended.
pub(crate) struct Outcome {
    pub(crate) index: usize,
    pub(crate) result: Result<Done, Error>,
    pub(crate) took: Duration,
}

impl Outcome {
    pub(crate) fn code(&self) -> u8 {
        match &self.result {
            Ok(_) => 0,
            Err(e) => e.exit_code(),
        }
    }
}

/// The agents of threads that have ended, for the next pass of `--watch`: each worker
/// takes one set (its kept-alive connections) and gives it back when done.
pub(crate) type Pool = Mutex<Vec<Agents>>;

/// Refreshes the files `which` of `items` with up to `jobs` threads (this one included),
/// until the list is done or a signal asks to stop; outcomes in the order they ended.
pub(crate) fn pass(
    args: &RefreshArgs,
    items: &[Item],
    which: &[usize],
    jobs: usize,
    leftovers: &Leftovers,
    pool: &Pool,
    events: &Events,
) -> Vec<Outcome> {
    let next = AtomicUsize::new(0);
    let outcomes = Mutex::new(Vec::with_capacity(which.len()));
    let work = || {
        let mut agents = pool
            .lock()
            .ok()
            .and_then(|mut p| p.pop())
            .unwrap_or_default();
        while signals::stopping().is_none() {
            let Some(&index) = which.get(next.fetch_add(1, Ordering::SeqCst)) else {
                break;
            };
            let Some(item) = items.get(index) else {
                break;
            };
            let started = Instant::now();
            let result = refresh_file(args, &item.location, &mut agents, Sweep::Known(leftovers))
                .map(|(done, _doc)| done);
            let took = started.elapsed();
            match &result {
                Ok(done) => events.done(&item.shown, done, took),
                Err(e) => events.failed(&item.shown, e),
            }
            if let Ok(mut all) = outcomes.lock() {
                all.push(Outcome {
                    index,
                    result,
                    took,
                });
            }
        }
        if let Ok(mut p) = pool.lock() {
            p.push(agents);
        }
    };
    thread::scope(|scope| {
        // This thread works too; a thread the system refuses is one worker fewer.
        for _ in 1..jobs.min(which.len()) {
            let _ = thread::Builder::new().spawn_scoped(scope, work);
        }
        work();
    });
    outcomes.into_inner().unwrap_or_default()
}

/// One line per event on stderr: `sfrefresh: FILE: …` text, or one JSON object a line.
pub(crate) struct Events {
    pub(crate) json: bool,
    pub(crate) level: Level,
}

impl Events {
    fn emit(&self, text: &str, mut object: serde_json::Map<String, serde_json::Value>) {
        if self.json {
            let mut line = serde_json::Map::new();
            line.insert("time".into(), rfc3339(SystemTime::now()).into());
            line.append(&mut object);
            let mut err = std::io::stderr().lock();
            let _ = std::io::Write::write_all(
                &mut err,
                format!("{}\n", serde_json::Value::Object(line)).as_bytes(),
            );
        } else {
            say(format_args!("{text}"));
        }
    }

    /// A file refreshed or found fresh (not shown with `-q`).
    pub(crate) fn done(&self, shown: &str, done: &Done, took: Duration) {
        if self.level == Level::Quiet {
            return;
        }
        let mut o = serde_json::Map::new();
        let (event, org) = match done {
            Done::Refreshed { org, rotated, .. } => {
                o.insert("rotated".into(), (*rotated).into());
                ("refreshed", org)
            }
            Done::Fresh { org, age, .. } => {
                o.insert("age_s".into(), age.as_secs().into());
                ("fresh", org)
            }
        };
        let mut object = serde_json::Map::new();
        object.insert("event".into(), event.into());
        object.insert("file".into(), shown.into());
        object.insert("org".into(), org.as_str().into());
        object.append(&mut o);
        object.insert("exit".into(), 0.into());
        object.insert("duration_ms".into(), (took.as_millis() as u64).into());
        self.emit(&format!("{shown}: {}", done.status()), object);
    }

    /// A file that failed: always shown.
    pub(crate) fn failed(&self, shown: &str, e: &Error) {
        let message = match e.file() {
            Some(file) if file == shown => e.problem().to_string(),
            _ => e.to_string(),
        };
        let code = e.exit_code();
        let mut object = serde_json::Map::new();
        object.insert("event".into(), "error".into());
        object.insert("file".into(), shown.into());
        object.insert("exit".into(), code.into());
        object.insert("message".into(), message.as_str().into());
        if let Some(hint) = e.hint() {
            object.insert("hint".into(), hint.into());
        }
        self.emit(&format!("{shown}: error (exit {code}): {message}"), object);
        if self.level == Level::Verbose
            && !self.json
            && let Some(hint) = e.hint()
        {
            say(format_args!("{shown}: hint: {hint}"));
        }
    }

    /// Anything else worth a line (`--watch` waits, stops, a metrics file that failed);
    /// `always` for those `-q` must not hide.
    pub(crate) fn note(&self, event: &str, text: &str, always: bool) {
        if !always && self.level == Level::Quiet {
            return;
        }
        let mut object = serde_json::Map::new();
        object.insert("event".into(), event.into());
        object.insert("message".into(), text.into());
        self.emit(text, object);
    }

    pub(crate) fn summary(&self, text: &str, counts: &Counts, code: u8) {
        if code == 0 && self.level == Level::Quiet {
            return;
        }
        let mut object = serde_json::Map::new();
        object.insert("event".into(), "summary".into());
        object.insert("files".into(), counts.files.into());
        object.insert("refreshed".into(), counts.refreshed.into());
        object.insert("fresh".into(), counts.fresh.into());
        object.insert("failed".into(), counts.failed.into());
        if let Some(written) = counts.metrics_written {
            object.insert("metrics_written".into(), written.into());
        }
        object.insert("exit".into(), code.into());
        self.emit(text, object);
    }
}

/// What a one-shot run's summary counts; `metrics_written` with `--metrics-file`.
pub(crate) struct Counts {
    pub(crate) files: usize,
    pub(crate) refreshed: usize,
    pub(crate) fresh: usize,
    pub(crate) failed: usize,
    pub(crate) metrics_written: Option<bool>,
}

/// `2026-11-23T21:04:05.123Z`.
pub(crate) fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_708_058_728_442);
        assert_eq!(rfc3339(t), "2024-02-16T04:45:28.442Z");
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(rfc3339(t), "2000-02-29T00:00:00.000Z");
    }
}
