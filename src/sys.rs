//! The libc calls std has no safe API for, each behind a small safe function: the only
//! `unsafe` in the crate. They are here for what they do, not for speed: waiting on a
//! descriptor with a deadline (poll), a signal handler that wakes a sleeper (pipe2,
//! sigaction, write), local time (localtime_r), and the pre-send checks of room for a
//! save (getrlimit, fstatvfs).

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

/// Waits until one of `fds` is ready or `ms` milliseconds pass (-1: no limit); the
/// number of ready descriptors, their `revents` filled in.
pub(crate) fn poll(fds: &mut [libc::pollfd], ms: libc::c_int) -> io::Result<usize> {
    let n = libc::nfds_t::try_from(fds.len()).map_err(|_| io::ErrorKind::InvalidInput)?;
    // SAFETY: `fds` is a live, exclusively borrowed array of `n` pollfds; poll reads
    // their fd and events and writes only their revents.
    let ready = unsafe { libc::poll(fds.as_mut_ptr(), n, ms) };
    usize::try_from(ready).map_err(|_| io::Error::last_os_error())
}

/// A pipe whose ends are close-on-exec and non-blocking: (read end, write end). The
/// descriptors are the caller's to keep (or to close).
pub(crate) fn pipe() -> io::Result<(libc::c_int, libc::c_int)> {
    let mut fds = [-1 as libc::c_int; 2];
    // SAFETY: pipe2 writes two descriptors into the two-element array we own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((fds[0], fds[1]))
}

/// Writes one byte to `fd`, ignoring the outcome; async-signal-safe, for a handler.
pub(crate) fn write_byte(fd: libc::c_int, byte: u8) {
    // SAFETY: write(2) is async-signal-safe and reads one byte from a live local; a bad
    // or full descriptor only makes it fail, which the caller accepts.
    unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
}

/// Installs `handler` for `signal`, with SA_RESTART and an empty mask. The handler
/// must be async-signal-safe (only atomics and `write_byte`).
pub(crate) fn on_signal(signal: libc::c_int, handler: extern "C" fn(libc::c_int)) {
    // SAFETY: a zeroed sigaction is a valid value; we set the handler (a plain
    // extern "C" fn of one int, as sa_handler expects without SA_SIGINFO), the flags
    // and an empty mask, and pass pointers to live locals.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = handler as libc::sighandler_t;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(signal, &action, std::ptr::null_mut());
    }
}

/// `secs` after 1970 as local time (TZ and /etc/localtime as libc reads them).
// time_t is still libc's name for the type localtime_r takes (the deprecation note on
// musl announces a change of its width; callers convert with try_from).
#[allow(deprecated)]
pub(crate) fn localtime(secs: libc::time_t) -> Option<libc::tm> {
    // SAFETY: a zeroed `tm` is a valid value (integers, and a null tm_zone on the
    // targets that have it); localtime_r only writes into it and reads `secs`.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        (!libc::localtime_r(&secs, &mut tm).is_null()).then_some(tm)
    }
}

/// The file-size limit (`ulimit -f`) in bytes; None when unlimited or unknown.
// rlim_t is u64 here but 32-bit on some targets, hence the cast.
#[allow(clippy::unnecessary_cast)]
pub(crate) fn file_size_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit fills the struct we own.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_FSIZE, &mut limit) } == 0;
    (ok && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur as u64)
}

/// The file system statistics of the file system `file` is on.
pub(crate) fn fstatvfs(file: &File) -> io::Result<libc::statvfs> {
    // SAFETY: a zeroed statvfs is a valid value (integers only); fstatvfs fills the
    // struct we own, for a descriptor `file` keeps open during the call.
    unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        match libc::fstatvfs(file.as_raw_fd(), &mut st) {
            0 => Ok(st),
            _ => Err(io::Error::last_os_error()),
        }
    }
}
