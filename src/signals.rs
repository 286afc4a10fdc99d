//! SIGTERM and SIGINT for runs over many files and `--watch`: the handler only records
//! the signal and wakes a sleeper (a byte down a pipe); the run checks between files and
//! while it waits, so a refresh in flight always ends, with its save, before the exit.

use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

/// The signal that asked us to stop (0: none yet).
static STOP: AtomicI32 = AtomicI32::new(0);
/// The pipe a sleeper polls; the handler writes a byte to its write end.
static PIPE_READ: AtomicI32 = AtomicI32::new(-1);
static PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_signal(signal: libc::c_int) {
    STOP.store(signal, Ordering::SeqCst);
    let fd = PIPE_WRITE.load(Ordering::SeqCst);
    if fd >= 0 {
        // A full pipe (EAGAIN) is fine: the sleeper is woken already.
        crate::sys::write_byte(fd, 1);
    }
}

/// Installs the handler for SIGTERM and SIGINT (once; later calls do nothing).
/// `SA_RESTART`: reads, writes and fsyncs in flight carry on as if nothing happened.
pub(crate) fn install() {
    if PIPE_READ.load(Ordering::SeqCst) >= 0 {
        return;
    }
    // Kept open for the life of the process: the handler may write at any time.
    if let Ok((read, write)) = crate::sys::pipe() {
        PIPE_READ.store(read, Ordering::SeqCst);
        PIPE_WRITE.store(write, Ordering::SeqCst);
    }
    for signal in [libc::SIGTERM, libc::SIGINT] {
        crate::sys::on_signal(signal, on_signal);
    }
}

/// The signal received, if any.
pub(crate) fn stopping() -> Option<i32> {
    match STOP.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// `SIGTERM` or `SIGINT`, for messages.
pub(crate) fn name(signal: i32) -> &'static str {
    match signal {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}

/// Sleeps for `d`, or less when a signal comes.
pub(crate) fn sleep(d: Duration) {
    let until = Instant::now() + d;
    loop {
        if stopping().is_some() {
            return;
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        let fd = PIPE_READ.load(Ordering::SeqCst);
        if fd < 0 {
            std::thread::sleep(left.min(Duration::from_millis(100)));
            continue;
        }
        let mut poll = [libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        }];
        let ms = libc::c_int::try_from(left.as_millis().max(1)).unwrap_or(libc::c_int::MAX);
        // Woken, timed out or interrupted: the loop looks again either way.
        let _ = crate::sys::poll(&mut poll, ms);
    }
}
