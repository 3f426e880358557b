"""The `bioinstruct` command's entry point: it holds a Ctrl-C that lands while the CLI's libraries import, and a
signal that lands after the command's work, and ends both in one line and their exit code.
"""

import os
import signal
import sys


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
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)
    return code


def _late_signal(signum, frame) -> None:
    name, code = ("interrupted", 130) if signum == signal.SIGINT else ("terminated", 143)
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    print(f"bioinstruct: {name} (after the command had finished its work)", file=sys.stderr)
    sys.stderr.flush()
    os._exit(code)
