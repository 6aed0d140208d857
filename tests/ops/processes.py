"""Real Guanxi processes for the crash tests: `guanxi serve` and `guanxi worker` as subprocesses, killed for real."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.ops.tcpproxy import free_port


class Process:
    """A child in its own process group (so `kill -9` can take the worker with its pool children)."""

    def __init__(self, args: list[str], env: dict, log: Path):
        self.log = log
        self._file = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "guanxi.cli", *args],
            env=env,
            stdout=self._file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def kill9(self) -> None:
        """SIGKILL to the whole process group: the process and every child it started, with no chance to clean up."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
                self.popen.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                self.kill9()
        self._file.close()

    def output(self) -> str:
        self._file.flush()
        return self.log.read_text(errors="replace")[-4000:]


def guanxi_env(*, database_url: str, home: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUANXI_", "DJANGO_", "REDIS_", "PYTEST"))}
    env.pop("DATABASE_URL", None)
    env.update(
        DATABASE_URL=database_url,
        GUANXI_HOME=str(home),
        GUANXI_FAST_PASSWORD_HASHER="1",
        GUANXI_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def start_server(env: dict, log: Path, *, worker: bool = False) -> tuple[Process, str]:
    port = free_port()
    args = ["serve", "--port", str(port), "--workers", "1", "--threads", "4", "--worker" if worker else "--no-worker"]
    process = Process(args, env, log)
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: _listening(port), timeout=30, what="guanxi serve to listen", process=process)
    return process, base


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_until(condition, *, timeout: float, what: str, process: Process | None = None, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process is not None and process.popen.poll() is not None:
            raise AssertionError(f"{what}: the process exited ({process.popen.returncode}):\n{process.output()}")
        time.sleep(every)
    detail = f"\n{process.output()}" if process is not None else ""
    raise AssertionError(f"timed out after {timeout} s waiting for {what}{detail}")


def token(base: str, username: str, password: str) -> str:
    response = httpx.post(f"{base}/api/v1/auth/token", json={"username": username, "password": password}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["token"]
