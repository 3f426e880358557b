"""The `bioinstruct` console command: the parser built from `commands/`, and the one error boundary.

Exit codes: 0 done; 1 a gate failed (or the data is contaminated, or nothing would be kept); 2 an input
cannot be read, an output path is refused, or an argument is wrong; 3 the environment stopped the
command (network, disk, permissions, another run writing the same output); 130 interrupted, 143
terminated. Errors are one line on stderr, never a traceback: `main` turns every expected failure into one.
"""

import argparse
import os
import signal
import sys
from typing import Optional

from bioinstruct_tools import __version__
from bioinstruct_tools.commands import COMMANDS
from bioinstruct_tools.errors import Failed, Refused, Unavailable
from bioinstruct_tools.redaction import redact_tokens
from bioinstruct_tools.text import terminal_safe

EXIT_OK, EXIT_FAILED, EXIT_UNREADABLE, EXIT_ENVIRONMENT = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143


class Terminated(BaseException):
    """SIGTERM, raised like Ctrl-C so that every `finally` and staging clean-up runs."""


def _terminate(signum, frame):
    raise Terminated()


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bioinstruct", description="Validate, build and publish BioInstruct.",
                                     epilog="Exit codes: 0 done, 1 a gate failed, 2 unreadable input, refused output "
                                            "or wrong argument, 3 the environment stopped the command (network, "
                                            "disk, another run writing the same output).")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def _exit_code(error: BaseException) -> Optional[int]:
    """The exit code of an expected failure, by its kind; None for anything else (a bug keeps its traceback)."""
    for kind, code in ((Failed, EXIT_FAILED), (Refused, EXIT_UNREADABLE), (Unavailable, EXIT_ENVIRONMENT)):
        if isinstance(error, kind):
            return code
    return None


def main(argv: Optional[list[str]] = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # a lone surrogate or an undecodable file name must not break output
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8", errors="backslashreplace")
    args = make_parser().parse_args(argv)
    previous_handler = signal.signal(signal.SIGTERM, _terminate)

    def fail(message: str, code: int) -> int:
        text = terminal_safe(" ".join(str(message).split()))
        print(redact_tokens(f"bioinstruct {args.command}: {text}"), file=sys.stderr)
        return code

    try:
        code = args.run(args)
        sys.stdout.flush()  # a full disk or closed pipe shows here, inside the boundary
        return code
    except BrokenPipeError:  # `bioinstruct validate ... | head`: the reader left, nothing to say
        _silence_stdout()
        return EXIT_FAILED
    except KeyboardInterrupt:
        return fail("interrupted", EXIT_INTERRUPTED)
    except Terminated:
        return fail("terminated", EXIT_TERMINATED)
    except Exception as e:
        code = _exit_code(e)
        if code is not None:
            return fail(str(e), code)
        if isinstance(e, OSError):  # the environment: disk full, read-only, permissions, no temporary folder
            _silence_stdout()
            return fail(_environment_message(e), EXIT_ENVIRONMENT)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous_handler)


def _environment_message(error: OSError) -> str:
    if error.filename:
        return f"{error.filename}: cannot be written ({error.strerror or error})"
    if "temporary directory" in str(error):
        return "no writable temporary folder (set TMPDIR to one)"
    return f"standard output: cannot be written ({error.strerror or error})"


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's last flush cannot fail again at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
