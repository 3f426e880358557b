"""Work spread over the cores by forked processes: the categories and personal information of a large batch, the
report's figures.

Fork, not spawn: a forked worker starts with everything its parent has loaded (modules, compiled patterns, the
texts to work on), so it costs milliseconds, not a second of imports. Fork is safe on Linux only; elsewhere, and
on one core, `cores()` is 1 and callers do the work themselves.

Each worker has its own pipe and its own fixed share of the chunks, and nothing else is shared: no queue, no lock,
no thread in the parent. A `multiprocessing.Pool` shares a lock between its workers, and a worker killed while
holding it (a SIGTERM to the process group catches an idle one waiting for its next task) left the parent's
`terminate` waiting forever; its helper thread also forks replacements for the killed workers. Here, stopping is
a SIGKILL and a wait for each worker, which nothing can hold up.
"""

import contextlib
import ctypes
import os
import pickle
import signal
import sys
import threading
from typing import Any, BinaryIO, Callable, Sequence

from bioinstruct_tools.errors import Unavailable

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def cores() -> int:
    """The processors this process may run on, where forking is safe; else 1."""
    return len(os.sched_getaffinity(0)) if sys.platform == "linux" else 1


class ForkedMap:
    """`function` over consecutive chunks of `items` in forked workers, started at once; `results` collects them.

    The workers inherit `function` and `items` (nothing is pickled to them) and send back one result per item,
    chunk by chunk: worker k takes chunks k, k + n, k + 2n... of n workers, so the results are read back in order.
    With fewer than `parallel_from` items, or one core, the caller's process does the work when `results` is
    asked for. `stop` ends the workers; call it however the run ends (a `with` block does). The workers die with
    the thread that makes the map (Linux's parent-death signal): make it on the thread that waits for it.
    """

    def __init__(self, function: Callable[[Any], Any], items: Sequence, parallel_from: int, chunk: int):
        self.function, self.items, self._chunk = function, items, chunk
        self._bounds = [(start, min(start + chunk, len(items))) for start in range(0, len(items), chunk)]
        self._workers: list[tuple[int, BinaryIO]] = []  # (process id, the read end of its pipe)
        processes = 1 if len(items) < parallel_from else min(cores(), len(items) // chunk)
        if processes > 1:
            try:
                with _signals_held():  # one that lands meanwhile is raised here once every worker is listed
                    for number in range(processes):
                        self._workers.append(_fork_worker(function, items, self._bounds[number::processes]))
            except BaseException:
                self.stop()
                raise

    @property
    def forked(self) -> bool:
        return bool(self._workers)

    def results(self, progress: Callable[[int], None] = lambda done: None) -> list:
        """Every item's result, in order, with `progress(done)` after each chunk. A worker's exception is raised
        here; a worker killed before it answered raises `errors.Unavailable`."""
        found = []
        if not self._workers:
            for start, end in self._bounds:
                found += [self.function(item) for item in self.items[start:end]]
                progress(end - start)
            return found
        for number, (start, end) in enumerate(self._bounds):
            found += self._received(self._workers[number % len(self._workers)])
            progress(end - start)
        self.stop()
        return found

    def _received(self, worker: tuple[int, BinaryIO]) -> list:
        pid, reader = worker
        try:
            succeeded, answer = pickle.load(reader)
        except EOFError:
            _, status = os.waitpid(pid, 0)
            self._workers.remove(worker)
            how = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit code {os.WEXITSTATUS(status)}"
            raise Unavailable(f"a worker process ended before it answered ({how}; out of memory?)") from None
        if not succeeded:
            raise answer
        return answer

    def stop(self) -> None:
        running, self._workers = self._workers, []
        for pid, _ in running:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for pid, reader in running:
            reader.close()
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)

    def __enter__(self) -> "ForkedMap":
        return self

    def __exit__(self, *exception) -> None:
        self.stop()


_HELD = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def _signals_held():
    """Ctrl-C and SIGTERM wait while workers are forked, then act in the parent as they would have.

    Python runs at-fork hooks (`logging`'s, `threading`'s) around each fork, and an exception a signal handler
    raises inside one of them is printed and dropped: a SIGTERM to the process group would be lost in the parent,
    and in a worker, before `_quiet_worker` drops the command's handlers, it could raise outside the worker's `try`
    and run on as a second copy of the command. So the signals are blocked on this thread (a worker inherits the
    mask: a signal waits there until its own handlers are in place), and the parent's handlers only note a signal
    (another thread may take it) until the forks are done; then it is raised again, to the command's handler.
    """
    noted: list[int] = []
    on_main_thread = threading.current_thread() is threading.main_thread()  # the only one that may set handlers
    handlers = {number: signal.signal(number, lambda number, frame: noted.append(number))
                for number in _HELD} if on_main_thread else {}
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        for number, handler in handlers.items():
            signal.signal(number, handler)
        for number in dict.fromkeys(noted):
            signal.raise_signal(number)


def _fork_worker(function: Callable[[Any], Any], items: Sequence,
                 bounds: list[tuple[int, int]]) -> tuple[int, BinaryIO]:
    """A forked process that writes (True, results) for each of `bounds`, in order, to a pipe, or (False, error)
    once and stops; its id and the pipe's read end."""
    parent = os.getpid()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid:
        os.close(write_end)
        return pid, os.fdopen(read_end, "rb")
    code = 1
    try:  # the worker: nothing it raises may reach the caller's code, which lives on in this copy of the process
        os.close(read_end)
        _quiet_worker(parent)
        # The parent reads only when it asks for the results, and the pipe holds 64 KB: a worker that waited for it
        # to read would do its work then, not in the background. Each chunk's answer is sent as far as the pipe
        # takes it without waiting (the parent's progress moves with it); the rest waits here until the work is done.
        os.set_blocking(write_end, False)
        unsent = bytearray()
        for start, end in bounds:
            try:
                answer = (True, [function(item) for item in items[start:end]])
            except Exception as error:
                answer = (False, error)
            try:
                unsent += pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as error:  # an exception that does not pickle
                unsent += pickle.dumps((False, RuntimeError(f"in a worker: {answer[1]!r} ({error})")))
            _send_what_fits(write_end, unsent)
            if not answer[0]:
                break
        os.set_blocking(write_end, True)
        _send_what_fits(write_end, unsent)
        os.close(write_end)
        code = 0
    finally:
        os._exit(code)  # no exit handlers and no flush of buffers copied from the parent


def _send_what_fits(pipe: int, unsent: bytearray) -> None:
    """Write `unsent` to `pipe` and drop what was written: all of it on a blocking pipe, else what fits now."""
    while unsent:
        try:
            written = os.write(pipe, unsent)
        except BlockingIOError:
            return
        del unsent[:written]


def _quiet_worker(parent: int) -> None:
    """A worker leaves Ctrl-C to its parent, which stops it, and dies at once on SIGTERM: it drops the handlers
    it inherited (the command's would raise, and print a traceback per worker)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)  # held since before the fork (`_signals_held`)
    # and it dies with its parent (SIGKILL, an OOM kill), instead of living on to fail writing to nobody
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before that call
        os._exit(1)
