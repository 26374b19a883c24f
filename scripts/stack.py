"""Start the whole assistant (back office, action server, Rasa server) as real
processes on free ports, for end-to-end tests and the benchmark.

Each process gets its own log file in the work folder; `Stack.stop()` ends
them all. Readiness is polled over HTTP, so nothing depends on timing.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import requests

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
# The development identity provider needs pydantic 2: it has a virtualenv of its own (idp/README.md).
IDP_PYTHON = ROOT / ".venv-idp" / "bin" / "python"
STARTUP_LIMIT_S = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, processes: List[subprocess.Popen], limit_s: float = STARTUP_LIMIT_S) -> None:
    """Poll `url` until it answers 2xx; fail early if a process died."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        for proc in processes:
            if proc.poll() is not None:
                raise RuntimeError(f"process {proc.args[:3]} exited with {proc.returncode} before {url} answered")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {limit_s}s")


@dataclass
class Stack:
    model: str
    workdir: Path
    database_url: Optional[str] = None
    rasa_token: str = "test-rasa-token"
    extra_env: Dict[str, str] = field(default_factory=dict)
    # Also start the development identity provider (idp/run.py) and sign in through it.
    with_idp: bool = False
    processes: Dict[str, subprocess.Popen] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.workdir = Path(self.workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.rasa_port = free_port()
        self.actions_port = free_port()
        self.backoffice_port = free_port()
        # The back office's OIDC settings always point here, started or not: a stack
        # never signs in at a provider a developer happens to run on 9400.
        self.idp_port = free_port()
        self.database_url = self.database_url or f"sqlite:///{self.workdir / 'backoffice.db'}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def backoffice_url(self) -> str:
        return f"http://127.0.0.1:{self.backoffice_port}"

    @property
    def idp_url(self) -> str:
        return f"http://127.0.0.1:{self.idp_port}"

    @property
    def rest_webhook(self) -> str:
        return f"{self.rasa_url}/webhooks/rest/webhook"

    def env(self) -> Dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "RASA_PORT": str(self.rasa_port),
                "ACTIONS_PORT": str(self.actions_port),
                "BACKOFFICE_PORT": str(self.backoffice_port),
                "BACKOFFICE_URL": self.backoffice_url,
                "RASA_URL": self.rasa_url,
                "RASA_TOKEN": self.rasa_token,
                "DATABASE_URL": self.database_url,
                "IDP_PORT": str(self.idp_port),
                "OIDC_ISSUER": self.idp_url,
                "OIDC_REDIRECT_URL": f"{self.backoffice_url}/identity/callback",
                "BACKOFFICE_PUBLIC_URL": self.backoffice_url,
                "DEV_OUTBOX": "1",
                "PYTHONPATH": str(ROOT),
                "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
                "TF_CPP_MIN_LOG_LEVEL": "3",
                "RASA_TELEMETRY_ENABLED": "false",
            }
        )
        env.update(self.extra_env)
        return env

    def _spawn(self, name: str, args: List[str]) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "wb")
        proc = subprocess.Popen(
            args, cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes[name] = proc
        return proc

    def write_endpoints(self) -> Path:
        path = self.workdir / "endpoints.yml"
        path.write_text(
            "action_endpoint:\n"
            f"  url: http://127.0.0.1:{self.actions_port}/webhook\n"
            "tracker_store:\n"
            "  type: SQL\n"
            "  dialect: sqlite\n"
            f"  db: {self.workdir / 'tracker.db'}\n"
            "lock_store:\n"
            "  type: in_memory\n",
            encoding="utf-8",
        )
        return path

    def start_backoffice(self) -> None:
        self._spawn("backoffice", [str(VENV_BIN / "python"), "-m", "backoffice"])
        wait_until_up(f"{self.backoffice_url}/health", list(self.processes.values()))

    def stop_backoffice(self) -> None:
        self._stop("backoffice")

    def start_idp(self) -> None:
        """The development identity provider on the stack's IDP port, with the
        back office (the stack's OIDC_* settings) registered as its client."""
        if not IDP_PYTHON.exists():
            raise RuntimeError(
                f"{IDP_PYTHON} not found: set up the development identity provider with\n"
                "  /root/.pyenv/versions/3.10.13/bin/python -m venv .venv-idp\n"
                "  .venv-idp/bin/pip install -r idp/requirements.txt\n(see idp/README.md)"
            )
        self._spawn("idp", [str(IDP_PYTHON), str(ROOT / "idp" / "run.py"), "--port", str(self.idp_port)])
        wait_until_up(f"{self.idp_url}/.well-known/openid-configuration", list(self.processes.values()))

    def stop_idp(self) -> None:
        self._stop("idp")

    def start(self) -> "Stack":
        try:
            if self.with_idp:
                self.start_idp()
            self.start_backoffice()
            self._spawn(
                "actions",
                [str(VENV_BIN / "rasa"), "run", "actions", "--port", str(self.actions_port), "--actions", "actions"],
            )
            self._spawn(
                "rasa",
                [
                    str(VENV_BIN / "rasa"), "run", "--model", self.model, "--port", str(self.rasa_port),
                    "--enable-api", "--auth-token", self.rasa_token,
                    "--credentials", str(ROOT / "credentials.yml"), "--endpoints", str(self.write_endpoints()),
                ],
            )
            procs = list(self.processes.values())
            wait_until_up(f"http://127.0.0.1:{self.actions_port}/health", procs)
            wait_until_up(f"{self.rasa_url}/status?token={self.rasa_token}", procs)
        except Exception:
            self.dump_logs()
            self.stop()
            raise
        return self

    def _stop(self, name: str) -> None:
        proc = self.processes.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def stop(self) -> None:
        for name in list(self.processes):
            self._stop(name)

    def dump_logs(self, lines: int = 40) -> None:
        for log in sorted(self.workdir.glob("*.log")):
            tail = log.read_text(errors="replace").splitlines()[-lines:]
            print(f"----- {log.name} -----", *tail, sep="\n", file=sys.stderr)

    def peak_rss_mb(self) -> float:
        """Sum of each process tree's peak resident memory (VmHWM), in MB."""
        total_kb = 0
        for proc in self.processes.values():
            for pid in _tree(proc.pid):
                try:
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            total_kb += int(line.split()[1])
                except OSError:
                    continue
        return total_kb / 1024

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _tree(pid: int) -> List[int]:
    """A process and its descendants, read from /proc."""
    children: Dict[int, List[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found
