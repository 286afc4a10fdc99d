//! Many token files once: `sfrefresh [OPTIONS] FILE… | DIR | --files-from PATH`. The
//! files go through the batch runner (`batch.rs`); one line per file, one summary, the
//! most serious exit code (`error::most_serious`). `--watch` hands over to `watch.rs`.

use crate::batch::{Counts, Events, FleetArgs, Pool, pass};
use crate::error::{Error, most_serious};
use crate::metrics::Metrics;
use crate::refresh::{Done, RefreshArgs};
use crate::signals;
use crate::store;
use crate::store::Leftovers;

/// The one-shot run over many files; `watch::run` when `--watch` is given.
pub(crate) fn run(args: &RefreshArgs, f: &FleetArgs) -> Result<u8, Error> {
    let (items, unlisted) = store::list(
        &f.paths,
        f.files_from.as_deref(),
        args.common.reach(),
        args.common.timeout,
    )?;
    if items.is_empty() && unlisted.is_empty() {
        return Err(Error::usage(
            "no token files: the directories given hold no *.json files and the list is empty",
        ));
    }
    signals::install();
    let events = Events {
        json: f.json,
        level: args.common.log.level(),
    };
    let mut metrics = f.metrics_file.as_deref().map(Metrics::new);
    // Beside each token file's own check before sending: a metrics file found unwritable
    // only after the refreshes would fail a run whose tokens were already renewed.
    if let Some(m) = &metrics {
        m.check_writable()?;
    }
    if f.watch {
        return Ok(crate::watch::run(
            args, f, &items, unlisted, &events, metrics,
        ));
    }
    let mut code = 0;
    let (mut refreshed, mut fresh, mut failed) = (0, 0, 0);
    for (shown, e) in &unlisted {
        events.failed(shown, e);
        code = most_serious(code, e.exit_code());
        failed += 1;
    }
    let leftovers = Leftovers::default();
    let all: Vec<usize> = (0..items.len()).collect();
    let outcomes = pass(
        args,
        &items,
        &all,
        f.jobs,
        &leftovers,
        &Pool::default(),
        &events,
    );
    for o in &outcomes {
        match &o.result {
            Ok(Done::Refreshed { .. }) => refreshed += 1,
            Ok(Done::Fresh { .. }) => fresh += 1,
            Err(_) => failed += 1,
        }
        code = most_serious(code, o.code());
    }
    // A metrics file that fails now (it was writable before sending) is exit 3, as an
    // unwritable --print is; the refreshes stand, and the note and summary say so.
    let metrics_written = metrics.as_mut().map(|m| match m.update(&items, &outcomes) {
        Ok(()) => true,
        Err(why) => {
            events.note("metrics", &why, true);
            code = most_serious(code, 3);
            false
        }
    });
    let total = items.len() + unlisted.len();
    let skipped = items.len() - outcomes.len();
    let mut summary = format!(
        "{total} token file{}: {refreshed} refreshed, {fresh} fresh, {failed} failed",
        if total == 1 { "" } else { "s" }
    );
    if let Some(signal) = signals::stopping()
        && skipped > 0
    {
        summary.push_str(&format!(
            ", {skipped} not started (stopped by {})",
            signals::name(signal)
        ));
        // Like a shell: files were left out, so no per-file code can stand for the run.
        code = 128 + signal.clamp(0, 127) as u8;
    }
    if metrics_written == Some(false) {
        summary.push_str("; the metrics file was not written");
    }
    if code != 0 {
        summary.push_str(&format!(" (exit {code})"));
    }
    let counts = Counts {
        files: total,
        refreshed,
        fresh,
        failed,
        metrics_written,
    };
    events.summary(&summary, &counts, code);
    Ok(code)
}
