"""What the interop launchers share: children that die with the launcher, and waiting
until the test process goes away (stdin closes) or asks us to stop (SIGTERM/SIGINT)."""

import ctypes
import os
import select
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent():
    """preexec_fn: the child gets SIGKILL when the launcher dies, however it dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def wait_for_eof_or_signal(*procs):
    """Returns when stdin reaches end of file, on SIGTERM/SIGINT/SIGHUP, or when one of
    `procs` exits (a server that died is reported on stderr)."""
    stop = []

    def on_signal(signum, frame):
        stop.append(signum)

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    fd = sys.stdin.fileno()
    while not stop:
        try:
            ready, _, _ = select.select([fd], [], [], 0.5)
        except InterruptedError:
            continue
        if ready and not os.read(fd, 4096):
            return
        for p in procs:
            if p.poll() is not None:
                print(f"launcher: {p.args[0]} exited with {p.returncode}", file=sys.stderr)
                return
