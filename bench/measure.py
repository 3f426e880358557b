"""Run one command in a child process and measure it: wall time and the child's own peak RSS."""

import os
import subprocess
import time


def run_measured(command: list[str], **popen) -> tuple[float, float, int, str]:
    """(seconds, peak RSS in MB, exit code, stderr) of `command`; the RSS is this child's alone (wait4)."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **popen)
    stderr = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - start, usage.ru_maxrss / 1024, child.returncode, stderr
