"""The `bioinstruct` command's entry point: it holds a Ctrl-C that lands while the CLI's libraries import, and a
signal that lands after the command's work, and ends both in one line and their exit code.
"""

import atexit
import os
import signal
import sys
import threading


def console() -> int:
    """The `bioinstruct` command. Ctrl-C while its libraries load ends as quietly as a Ctrl-C later on.

    A KeyboardInterrupt raised inside an import can be swallowed by importlib ("Exception ignored in
    ..."), and the command would then run on: during the import a Ctrl-C is only noted.
    """
    interrupted = []
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.append(True))
    try:
        from bioinstruct_tools.cli import main
    finally:
        signal.signal(signal.SIGINT, previous)
    if interrupted:
        print("bioinstruct: interrupted", file=sys.stderr)
        return 130
    # A signal after the command's work (its output already in place) still ends in one line and its exit code,
    # never a bare -15 or -2: main restores this SIGTERM handler when it returns, and SIGINT gets it then.
    signal.signal(signal.SIGTERM, _late_signal)
    code = main()
    signal.signal(signal.SIGINT, _late_signal)
    if code in (130, 143):
        # Interrupted or terminated: every clean-up has run; a compiled kernel may still be finishing its
        # chunk on a worker thread, and a normal exit would wait for it. End now.
        _flushed()
        os._exit(code)
    _end_without_teardown(code)
    return code  # a thread still at work, or a stream that could not be flushed: Python's own exit


def _end_without_teardown(code: int) -> None:
    """End the process as a normal exit would, minus the interpreter's teardown.

    The command's files are written and closed by now, and what is left is freeing every object and unloading
    every module: 0.1-0.3 s once numba and its compiled kernels are loaded, for nothing the user sees. So the
    `atexit` handlers run and the streams are flushed, as in a normal exit, and the process ends. Not while a
    thread that is not a daemon still runs: the interpreter's own shutdown waits for it, and first tells the
    thread pools that a library left open to stop, which only it can do; that exit is left to Python.
    """
    if any(thread is not threading.current_thread() and not thread.daemon and thread.is_alive()
           for thread in threading.enumerate()):
        return
    atexit._run_exitfuncs()
    if _flushed():
        os._exit(code)


def _flushed() -> bool:
    done = True
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            done = False
    return done


def _late_signal(signum, frame) -> None:
    name, code = ("interrupted", 130) if signum == signal.SIGINT else ("terminated", 143)
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    print(f"bioinstruct: {name} (after the command had finished its work)", file=sys.stderr)
    sys.stderr.flush()
    os._exit(code)
