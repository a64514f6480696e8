"""doorstep's server and worker as subprocesses of a test, to be killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.api.world import OPERATOR_TOKEN


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(database_url: str, **extra: str) -> dict[str, str]:
    return os.environ | {
        "DOORSTEP_ENVIRONMENT": "test",
        "DOORSTEP_DATABASE_URL": database_url,
        "DOORSTEP_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "DOORSTEP_RATE_LIMIT": "",  # one key sends the whole load
        "DOORSTEP_AUTH_FAILURE_LIMIT": "",
        "DOORSTEP_LOG_LEVEL": "WARNING",
        **extra,
    }


class Process:
    """A doorstep command running in a subprocess; its output goes to ``log``."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("ab") as out:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "doorstep", *args],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        """SIGKILL: no clean-up, no finishing what is in flight."""
        os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait(10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def start_server(database_url: str, log: Path) -> tuple[Process, str]:
    """``doorstep serve`` on a free port, once /readyz answers 200; and its base URL."""
    port = free_port()
    server = Process(["serve", "--port", str(port)], environment(database_url), log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.popen.poll() is not None:
            raise AssertionError(f"the server exited:\n{server.output()}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return server, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.kill()
    raise AssertionError(f"the server was not ready in 60 s:\n{server.output()}")


@contextmanager
def running(process: Process) -> Iterator[Process]:
    try:
        yield process
    finally:
        process.stop()
