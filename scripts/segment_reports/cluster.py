"""Start and stop a real PostgreSQL cluster on a loopback port.

Used by the local warehouse (`segment-reports warehouse`) and by the test suite.
`initdb` refuses to run as root, so when the current user is root every server
command runs as the `postgres` OS user through `runuser`, and the data directory
is handed to that user.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

SUPPORTED_MAJORS = (15, 16, 17, 18)
SERVER_OS_USER = "postgres"
# IANA names (America/Argentina/Buenos_Aires, Etc/GMT+5) and abbreviations (UTC):
# nothing that could end the quoted value in postgresql.conf.
_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*")


class ClusterError(RuntimeError):
    """A PostgreSQL server could not be found, created, started or stopped."""


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def find_bindir() -> Path | None:
    """Directory holding `initdb` and `pg_ctl` for PostgreSQL 15 or newer.

    Looks at `$PG_BINDIR`, then Debian's `/usr/lib/postgresql/<major>/bin`
    (lowest supported major first, so 15 wins when several are installed),
    then `initdb` on `PATH`.
    """
    candidates: list[Path] = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(Path(os.environ["PG_BINDIR"]))
    candidates += [Path(f"/usr/lib/postgresql/{m}/bin") for m in SUPPORTED_MAJORS]
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    return None


def install_server() -> Path:
    """Install Debian's `postgresql-15` with apt (root only) and return its bindir.

    Debian's package normally creates and starts a `main` cluster on port 5432;
    `createcluster.conf` is set first so that it does not, since this project
    runs its own clusters.
    """
    if not is_root() or not shutil.which("apt-get"):
        raise ClusterError(
            "PostgreSQL 15 server binaries not found. Install them with "
            "'sudo apt-get install postgresql-15' (Debian/Ubuntu), or set PG_BINDIR "
            "to the directory that holds initdb and pg_ctl."
        )
    conf = Path("/etc/postgresql-common/createcluster.conf")
    conf.parent.mkdir(parents=True, exist_ok=True)
    if not conf.exists():
        conf.write_text("create_main_cluster = false\n")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "postgresql-15"],
    ):
        result = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise ClusterError(
                f"'{' '.join(cmd)}' failed (exit {result.returncode}):\n"
                f"{result.stderr.strip()[-2000:]}"
            )
    bindir = find_bindir()
    if bindir is None:
        raise ClusterError("postgresql-15 was installed but initdb is still missing")
    return bindir


def ensure_bindir(*, install: bool = True) -> Path:
    bindir = find_bindir()
    if bindir is None:
        if not install:
            raise ClusterError("PostgreSQL server binaries not found (set PG_BINDIR)")
        bindir = install_server()
    return bindir


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _accessible_to_server_user(path: Path) -> bool:
    """True when the `postgres` OS user can traverse every parent of `path`."""
    probe = path if path.exists() else path.parent
    result = subprocess.run(
        ["runuser", "-u", SERVER_OS_USER, "--", "test", "-x", str(probe)],
        capture_output=True,
    )
    return result.returncode == 0


@dataclass
class Cluster:
    """One PostgreSQL cluster: a data directory, a loopback port, a superuser.

    `settings` are written to `postgresql.auto.conf` at creation time. `timezone`
    is the server's `TimeZone` and `log_timezone`, written to `postgresql.conf` as
    a server administrator would; None keeps the zone initdb took from the machine.
    """

    datadir: Path
    port: int
    superuser: str = "postgres"
    password: str | None = None
    settings: dict[str, str] = field(default_factory=dict)
    logfile: Path | None = None
    bindir: Path | None = None
    timezone: str | None = None

    def __post_init__(self) -> None:
        self.datadir = Path(self.datadir).absolute()
        if self.timezone is not None and not _ZONE_NAME.fullmatch(self.timezone):
            raise ClusterError(
                f"'{self.timezone}' is not a time zone name "
                "(for example UTC, America/New_York or Asia/Kolkata)"
            )
        if self.logfile is None:
            self.logfile = self.datadir.parent / "postgresql.log"

    # --- running server commands -------------------------------------------------
    def _bin(self, name: str) -> str:
        if self.bindir is None:
            self.bindir = ensure_bindir()
        return str(self.bindir / name)

    def _run(
        self, args: list[str], *, check: bool = True
    ) -> subprocess.CompletedProcess:
        if is_root():
            args = ["runuser", "-u", SERVER_OS_USER, "--", *args]
        result = subprocess.run(
            args, capture_output=True, text=True, stdin=subprocess.DEVNULL, cwd="/"
        )
        if check and result.returncode != 0:
            program = next(Path(a).name for a in args if a.startswith("/"))
            raise ClusterError(
                f"{program} failed (exit {result.returncode}):\n"
                f"{(result.stderr or result.stdout).strip()[-3000:]}"
            )
        return result

    def _hand_to_server_user(self, path: Path) -> None:
        if is_root():
            shutil.chown(path, user=SERVER_OS_USER, group=SERVER_OS_USER)

    # --- lifecycle -----------------------------------------------------------------
    @property
    def initialized(self) -> bool:
        return (self.datadir / "PG_VERSION").exists()

    def init(self) -> None:
        """Run initdb with scram-sha-256 auth on a fresh data directory."""
        if self.initialized:
            return
        parent = self.datadir.parent
        parent.mkdir(parents=True, exist_ok=True)
        if is_root():
            parent.chmod(0o755)
            if not _accessible_to_server_user(parent):
                raise ClusterError(
                    f"the '{SERVER_OS_USER}' OS user cannot reach {parent}; "
                    "move the checkout to a directory other users can traverse "
                    "(for example under /work or /srv)"
                )
        self.datadir.mkdir(mode=0o700, exist_ok=True)
        self._hand_to_server_user(self.datadir)
        args = [
            self._bin("initdb"),
            "-D",
            str(self.datadir),
            "-U",
            self.superuser,
            "--encoding=UTF8",
            "--locale=C",
            "--auth-local=scram-sha-256",
            "--auth-host=scram-sha-256",
        ]
        pwfile = None
        if self.password is not None:
            # initdb wants an empty data directory: the password file sits beside it,
            # readable by the server's OS user only, and is removed right after.
            fd, name = tempfile.mkstemp(prefix=".pwfile-", dir=parent)
            pwfile = Path(name)
            with os.fdopen(fd, "w") as handle:
                handle.write(self.password + "\n")
            self._hand_to_server_user(pwfile)
            args.append(f"--pwfile={pwfile}")
        else:
            args[-2:] = ["--auth-local=trust", "--auth-host=trust"]
        try:
            self._run(args)
        finally:
            if pwfile is not None:
                pwfile.unlink(missing_ok=True)
        base = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": "''",
            "password_encryption": "'scram-sha-256'",
        }
        base.update(self.settings)
        lines = [f"{key} = {value}" for key, value in base.items()]
        auto = self.datadir / "postgresql.auto.conf"
        text = auto.read_text() if auto.exists() else ""
        auto.write_text(text + "\n".join(lines) + "\n")
        self._hand_to_server_user(auto)
        if self.timezone is not None:
            self._set_zone_in_postgresql_conf(self.timezone)

    def _set_zone_in_postgresql_conf(self, zone: str) -> None:
        """Replace the `timezone` and `log_timezone` lines initdb wrote."""
        conf = self.datadir / "postgresql.conf"
        text = conf.read_text()
        for name in ("timezone", "log_timezone"):
            line = f"{name} = '{zone}'"
            text, found = re.subn(
                rf"^#?\s*{name}\s*=.*$", line, text, count=1, flags=re.MULTILINE
            )
            if not found:
                text += line + "\n"
        conf.write_text(text)

    def running(self) -> bool:
        if not self.initialized:
            return False
        result = self._run(
            [self._bin("pg_ctl"), "status", "-D", str(self.datadir)], check=False
        )
        return result.returncode == 0

    def start(self) -> None:
        if self.running():
            return
        if port_in_use(self.port):
            raise ClusterError(
                f"port {self.port} on 127.0.0.1 is already taken by another program; "
                "set SEGMENT_REPORTS_PORT to a free port"
            )
        assert self.logfile is not None
        self.logfile.touch(exist_ok=True)
        self._hand_to_server_user(self.logfile)
        logged_before = self.logfile.stat().st_size
        try:
            self._run(
                [
                    self._bin("pg_ctl"),
                    "start",
                    "-w",
                    "-t",
                    "60",
                    "-D",
                    str(self.datadir),
                    "-l",
                    str(self.logfile),
                    "-o",
                    f"-p {self.port}",
                ]
            )
        except ClusterError as error:
            # pg_ctl only says "examine the log output": the reason (a bad setting,
            # for one) is in the server's log.
            with self.logfile.open(errors="replace") as log:
                log.seek(logged_before)
                reason = log.read().strip()[-2000:]
            raise ClusterError(f"{error}\n{self.logfile}:\n{reason}") from None

    def stop(self) -> None:
        if self.running():
            self._run(
                [
                    self._bin("pg_ctl"),
                    "stop",
                    "-w",
                    "-m",
                    "fast",
                    "-D",
                    str(self.datadir),
                ]
            )

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.datadir, ignore_errors=True)

    def conninfo(self, dbname: str = "postgres") -> dict[str, str]:
        """Keyword arguments for psycopg.connect (the password included)."""
        info = {
            "host": "127.0.0.1",
            "port": str(self.port),
            "user": self.superuser,
            "dbname": dbname,
        }
        if self.password is not None:
            info["password"] = self.password
        return info
