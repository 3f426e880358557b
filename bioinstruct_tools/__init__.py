"""Tooling around the BioInstruct loading script: validation checks, the Hub layout export, publishing, CLI."""

import os
import signal
import sys

__version__ = "1.0.0"


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
    code = main()
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
