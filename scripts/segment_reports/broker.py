"""A throwaway RabbitMQ broker on loopback, for the test suite and `make demo`.

Debian's `rabbitmq-server` started by hand, everything (config, data, logs, the
Erlang cookie) in a directory of its own, listening on 127.0.0.1 only, with its
own AMQP, distribution and epmd ports so that it never meets another broker. As
root it runs as the `rabbitmq` OS user. `guest`/`guest` may connect from
loopback. Stopping it sends SIGTERM to the broker and then to the `epmd` it
spawned (epmd outlives the broker otherwise).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .cluster import free_port, is_root

OS_USER = "rabbitmq"
INSTALL_HINT = (
    "install it with 'apt-get install -y --no-install-recommends rabbitmq-server' "
    "(as root, Debian/Ubuntu; .ci/run does it)"
)


class BrokerError(RuntimeError):
    """The broker could not be found, started or reached."""


def server_binary() -> str | None:
    return shutil.which("rabbitmq-server") or next(
        (p for p in ("/usr/sbin/rabbitmq-server",) if Path(p).exists()), None
    )


@dataclass
class Broker:
    """One throwaway broker; `start()` it, use `url`, `stop()` it."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="rmq-")))
    port: int = field(default_factory=free_port)
    dist_port: int = field(default_factory=free_port)
    epmd_port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"amqp://127.0.0.1:{self.port}/%2F"

    @property
    def nodename(self) -> str:
        return f"sr{self.port}@localhost"

    def env(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "HOME": str(self.root),
            "RABBITMQ_CONFIG_FILE": str(self.root / "rabbitmq.conf"),
            "RABBITMQ_MNESIA_BASE": str(self.root / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.root / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.root / "enabled_plugins"),
            "RABBITMQ_NODENAME": self.nodename,
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "LANG": "C.UTF-8",
        }

    def start(self, timeout: float = 90) -> None:
        """Start the broker and wait until it accepts an AMQP connection."""
        binary = server_binary()
        if binary is None:
            raise BrokerError(f"rabbitmq-server is not installed: {INSTALL_HINT}")
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "rabbitmq.conf").write_text(
            f"listeners.tcp.1 = 127.0.0.1:{self.port}\nloopback_users.guest = true\n"
        )
        (self.root / "enabled_plugins").write_text("[].\n")
        command = [binary]
        if is_root():
            shutil.chown(self.root, OS_USER, OS_USER)
            for path in self.root.iterdir():
                shutil.chown(path, OS_USER, OS_USER)
            command = ["runuser", "-u", OS_USER, "--", "env", *self._env_args(), binary]
        self.process = subprocess.Popen(
            command,
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def _env_args(self) -> list[str]:
        return [f"{key}={value}" for key, value in self.env().items()]

    def _wait_ready(self, timeout: float) -> None:
        import pika

        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BrokerError(
                    f"rabbitmq-server exited with {self.process.returncode} while "
                    f"starting; see the logs in {self.root / 'log'}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    pass
                pika.BlockingConnection(self.parameters()).close()
                return
            except (OSError, pika.exceptions.AMQPError) as exc:
                last = exc
                time.sleep(0.5)
        raise BrokerError(
            f"rabbitmq-server did not accept connections on 127.0.0.1:{self.port} "
            f"within {timeout:g} s ({last!r}); see the logs in {self.root / 'log'}"
        )

    def parameters(self):
        """pika connection parameters as guest (allowed from loopback only)."""
        import pika

        return pika.ConnectionParameters(
            "127.0.0.1",
            self.port,
            socket_timeout=5,
            blocked_connection_timeout=5,
            connection_attempts=1,
        )

    def _pids(self, name: str) -> list[int]:
        """Processes named `name` whose environment names this broker's epmd port
        (the broker's beam.smp and the epmd it spawned)."""
        found = []
        marker = f"ERL_EPMD_PORT={self.epmd_port}".encode()
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                if (proc / "comm").read_text().strip() != name:
                    continue
                if marker in (proc / "environ").read_bytes().split(b"\0"):
                    found.append(int(proc.name))
            except OSError:
                continue
        return found

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM the broker, then its epmd; SIGKILL what is left after `timeout`."""
        for name in ("beam.smp", "epmd"):
            pids = self._pids(name)
            for pid in pids:
                _signal(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while pids and time.monotonic() < deadline:
                pids = [pid for pid in pids if _alive(pid)]
                time.sleep(0.2)
            for pid in pids:
                _signal(pid, signal.SIGKILL)
        if self.process is not None:
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1]
    except OSError:
        return False
    return state != "Z"
