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
        let byte = 1u8;
        // SAFETY: write(2) is async-signal-safe; the buffer is a live local byte. A full
        // pipe (EAGAIN) is fine: the sleeper is woken already.
        unsafe {
            libc::write(fd, (&byte as *const u8).cast(), 1);
        }
    }
}

/// Installs the handler for SIGTERM and SIGINT (once; later calls do nothing).
/// `SA_RESTART`: reads, writes and fsyncs in flight carry on as if nothing happened.
pub(crate) fn install() {
    if PIPE_READ.load(Ordering::SeqCst) >= 0 {
        return;
    }
    let mut fds = [-1 as libc::c_int; 2];
    // SAFETY: pipe2 fills the two-element array we own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } == 0 {
        PIPE_READ.store(fds[0], Ordering::SeqCst);
        PIPE_WRITE.store(fds[1], Ordering::SeqCst);
    }
    for signal in [libc::SIGTERM, libc::SIGINT] {
        // SAFETY: a zeroed sigaction is valid; we set the handler, flags and an empty
        // mask, and the handler only touches atomics and write(2).
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
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
        let mut poll = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = libc::c_int::try_from(left.as_millis().max(1)).unwrap_or(libc::c_int::MAX);
        // SAFETY: one pollfd we own; poll only reads fd and writes revents.
        unsafe {
            libc::poll(&mut poll, 1, ms);
        }
    }
}
