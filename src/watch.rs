//! `--watch`: refresh each file whenever it reaches `--if-older-than`, sleep until the next
//! one is due, forever; for a Kubernetes sidecar or a box without cron.
//!
//! - A file refreshed (or found fresh) is due again when it reaches the age limit, plus
//!   a random delay of up to a tenth of the limit (at most 5 minutes), so files refreshed
//!   together drift apart and a fleet does not hit the server at once.
//! - A network or server failure (exit 4) is tried again after 1 s, 2 s, 4 s, … (at most
//!   5 minutes, with jitter).
//! - A file that failed otherwise (refused, exit 5; unusable or unsaveable, exit 3; its
//!   client id or endpoint, exit 2) is not tried again until the file changes (another
//!   login writes it, a person fixes it): sending a refused or rotated-out refresh token
//!   again helps nobody and can revoke the token family.
//! - SIGTERM or SIGINT: the refreshes in flight end (with their saves), then exit 0.
//! - When every file waits for a change, nothing can be refreshed any more: the run ends
//!   with the most serious of their exit codes.

use std::time::{Duration, Instant};

use crate::batch::{Events, FleetArgs, Pool, pass};
use crate::clock::{human, random_u64};
use crate::error::most_serious;
use crate::metrics::Metrics;
use crate::refresh::Done;
use crate::refresh::RefreshArgs;
use crate::signals;
use crate::store::Leftovers;
use crate::store::{self, Item, Unlisted};

/// The longest wait after a network failure.
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// The largest random delay added to a file's due time.
const MAX_JITTER: Duration = Duration::from_secs(300);
/// Files waiting for a change are looked at (one `stat` each) this often.
const PARKED_CHECK: Duration = Duration::from_secs(30);

/// What the watch knows of one file.
struct State {
    due: Instant,
    failures: u32,
    /// Waiting for the file to change: the failure's exit code, and the file as it was.
    parked: Option<(u8, Option<store::Stamp>)>,
}

/// A random delay from zero to a tenth of `limit`, at most `MAX_JITTER`.
pub(crate) fn jitter(limit: Duration) -> Duration {
    let most = (limit / 10).min(MAX_JITTER).as_millis() as u64;
    Duration::from_millis(random_u64() % (most + 1))
}

/// After the `failures`th failure in a row: 1 s doubling, at most `MAX_BACKOFF`, the
/// second half random.
pub(crate) fn backoff(failures: u32) -> Duration {
    let base = Duration::from_secs(1)
        .saturating_mul(1 << failures.saturating_sub(1).min(16))
        .min(MAX_BACKOFF);
    let half = base / 2;
    half + half.mul_f64((random_u64() % 1000) as f64 / 1000.0)
}

/// Runs until a signal (exit 0) or until no file can be refreshed (its worst code).
pub(crate) fn run(
    args: &RefreshArgs,
    f: &FleetArgs,
    items: &[Item],
    unlisted: Unlisted,
    events: &Events,
    mut metrics: Option<Metrics>,
) -> u8 {
    let limit = args.if_older_than.unwrap_or_default();
    let start = Instant::now();
    let mut states: Vec<State> = items
        .iter()
        .map(|_| State {
            due: start,
            failures: 0,
            parked: None,
        })
        .collect();
    let mut unlisted_code = 0;
    for (shown, e) in &unlisted {
        events.failed(shown, e);
        unlisted_code = most_serious(unlisted_code, e.exit_code());
    }
    // One read per directory for the whole watch: temps a crash left before we started.
    let leftovers = Leftovers::default();
    let pool = Pool::default();
    loop {
        if let Some(signal) = signals::stopping() {
            events.note(
                "stop",
                &format!("stopping on {}", signals::name(signal)),
                false,
            );
            return 0;
        }
        let now = Instant::now();
        for (item, state) in items.iter().zip(states.iter_mut()) {
            if let Some((_, before)) = &state.parked
                && item.location.stamp(args.common.reach()) != *before
            {
                events.note(
                    "changed",
                    &format!("{}: the token file changed; trying it again", item.shown),
                    false,
                );
                state.parked = None;
                state.failures = 0;
                state.due = now;
            }
        }
        let due: Vec<usize> = (0..items.len())
            .filter(|i| {
                states
                    .get(*i)
                    .is_some_and(|s| s.parked.is_none() && s.due <= now)
            })
            .collect();
        if !due.is_empty() {
            let outcomes = pass(args, items, &due, f.jobs, &leftovers, &pool, events);
            let ended = Instant::now();
            for o in &outcomes {
                let (Some(state), Some(item)) = (states.get_mut(o.index), items.get(o.index))
                else {
                    continue;
                };
                match &o.result {
                    Ok(Done::Refreshed { .. }) => {
                        state.failures = 0;
                        state.due = ended + limit + jitter(limit);
                    }
                    Ok(Done::Fresh { age, .. }) => {
                        state.failures = 0;
                        state.due = ended + limit.saturating_sub(*age) + jitter(limit);
                    }
                    Err(e) if e.exit_code() == 4 => {
                        state.failures += 1;
                        state.due = ended + backoff(state.failures);
                    }
                    Err(e) => {
                        state.parked =
                            Some((e.exit_code(), item.location.stamp(args.common.reach())));
                        events.note(
                            "parked",
                            &format!(
                                "{}: not tried again until the token file changes",
                                item.shown
                            ),
                            false,
                        );
                    }
                }
            }
            if let Some(m) = metrics.as_mut()
                && let Err(why) = m.update(items, &outcomes)
            {
                events.note("metrics", &why, true);
            }
            continue;
        }
        let live = items
            .iter()
            .zip(&states)
            .filter(|(_, s)| s.parked.is_none())
            .min_by_key(|(_, s)| s.due);
        let Some((next, state)) = live else {
            let code = states
                .iter()
                .filter_map(|s| s.parked.as_ref().map(|(c, _)| *c))
                .fold(unlisted_code, most_serious);
            events.note(
                "give-up",
                &format!("no token file can be refreshed any more (exit {code})"),
                true,
            );
            return code;
        };
        let mut wait = state.due.saturating_duration_since(Instant::now());
        if states.iter().any(|s| s.parked.is_some()) {
            wait = wait.min(PARKED_CHECK);
        }
        if wait >= Duration::from_secs(1) {
            events.note(
                "sleep",
                &format!("next: {} in {}", next.shown, human(wait)),
                false,
            );
        }
        signals::sleep(wait);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_a_tenth_and_five_minutes() {
        for _ in 0..200 {
            assert!(jitter(Duration::from_secs(100)) <= Duration::from_secs(10));
            assert!(jitter(Duration::from_secs(86_400)) <= MAX_JITTER);
        }
        assert_eq!(jitter(Duration::ZERO), Duration::ZERO);
        let spread: std::collections::HashSet<_> =
            (0..50).map(|_| jitter(Duration::from_secs(3600))).collect();
        assert!(spread.len() > 10, "jitter must vary: {spread:?}");
    }

    #[test]
    fn backoff_doubles_up_to_five_minutes() {
        assert!(backoff(1) >= Duration::from_millis(500) && backoff(1) <= Duration::from_secs(1));
        assert!(backoff(3) >= Duration::from_secs(2) && backoff(3) <= Duration::from_secs(4));
        assert!(backoff(40) <= MAX_BACKOFF && backoff(40) >= MAX_BACKOFF / 2);
    }
}
