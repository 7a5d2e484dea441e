"""Diagnose a warehouse connection the way Segment's troubleshooting guide does.

`run_checks()` returns ordered `CheckResult`s (no printing): name resolution, TCP
reachability, authentication, CONNECT on the database, then the checks of the
chosen role. A check whose prerequisite failed is SKIPped. Every FAIL and WARN
carries the exact fix with the real host, database, user and schema names. The
password is read by libpq (`PGPASSWORD`, `PGPASSFILE`) or from
`DBT_ENV_SECRET_PGPASSWORD` and never appears in a result.
"""

from __future__ import annotations

import os
import socket
import struct
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from . import connection

PASS, WARN, FAIL, SKIP = "PASS", "WARN", "FAIL", "SKIP"
ROLES = ("loader", "transformer", "reporter")
TIMEOUT_SECONDS = 3.0
STALE_AFTER = timedelta(hours=26)
# The first message of PostgreSQL's protocol: SSLRequest (length 8, code 80877103).
# A PostgreSQL server answers it with one byte, "S" or "N".
_SSL_REQUEST = struct.pack("!ii", 8, 80877103)


@dataclass
class CheckResult:
    name: str
    status: str
    reason: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def quote_ident(name: str) -> str:
    """A double-quoted SQL identifier (always quoted, embedded quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass
class Target:
    host: str
    port: int
    user: str
    dbname: str

    @classmethod
    def from_env(cls) -> Target:
        settings, _ = connection.libpq_env()
        user = settings.get("PGUSER") or os.environ.get("USER") or "postgres"
        return cls(
            host=settings.get("PGHOST") or "localhost",
            port=int(settings.get("PGPORT") or 5432),
            user=user,
            dbname=settings.get("PGDATABASE") or user,
        )

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def unix_socket(self) -> bool:
        return self.host.startswith("/")


def configured_source_schemas() -> list[str]:
    """The dbt var `segment_schemas` from dbt_project.yml (default: production)."""
    import yaml

    from .warehouse import project_dir

    try:
        project = yaml.safe_load((project_dir() / "dbt_project.yml").read_text())
        schemas = (project.get("vars") or {}).get("segment_schemas")
    except (OSError, yaml.YAMLError, AttributeError):
        schemas = None
    if isinstance(schemas, str):
        schemas = [schemas]
    return [str(s) for s in schemas] if schemas else ["production"]


def marts_schema() -> str:
    return os.environ.get("DBT_SCHEMA") or "analytics"


# --- connectivity


def check_name_resolution(target: Target) -> CheckResult:
    name = "name resolution"
    if target.unix_socket:
        return CheckResult(name, PASS, f"unix socket directory {target.host}")
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        return CheckResult(
            name,
            FAIL,
            f"no such host: {target.host} does not resolve ({exc})",
            f"Check the host name {target.host!r} (PGHOST) for typos; it must be the "
            "warehouse's public DNS name that Segment can resolve.",
        )
    addresses = sorted({info[4][0] for info in infos})
    return CheckResult(name, PASS, f"{target.host} resolves to {', '.join(addresses)}")


def check_tcp(target: Target, timeout: float = TIMEOUT_SECONDS) -> CheckResult:
    """Connect and send PostgreSQL's SSLRequest: a server answers with one byte."""
    name = "tcp reachability"
    fix = (
        f"Check that PostgreSQL listens on {target.address} (listen_addresses, port) "
        "and that the firewall / security group allows inbound connections to it, "
        "including from Segment's IP addresses (allow-list them)."
    )
    if target.unix_socket:
        return CheckResult(name, PASS, "unix socket: no TCP connection needed")
    try:
        with socket.create_connection((target.host, target.port), timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(_SSL_REQUEST)
            answer = sock.recv(1)
    except TimeoutError:
        return CheckResult(
            name,
            FAIL,
            f"i/o timeout: no answer from {target.address} within {timeout:g} s",
            fix,
        )
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return CheckResult(
            name, FAIL, f"cannot connect to {target.address}: {reason}", fix
        )
    if answer not in (b"S", b"N"):
        return CheckResult(
            name,
            FAIL,
            f"{target.address} answered but is not a PostgreSQL server",
            f"Check the port: {target.port} (PGPORT) must be PostgreSQL's port.",
        )
    return CheckResult(name, PASS, f"PostgreSQL answers on {target.address}")


def _connect(timeout: float) -> psycopg.Connection:
    return connection.connect(connect_timeout=max(1, round(timeout)), autocommit=True)


def check_login(
    target: Target, timeout: float = TIMEOUT_SECONDS
) -> tuple[list[CheckResult], psycopg.Connection | None]:
    """Authentication, then CONNECT on the database; returns the open connection."""
    auth, privilege = "authentication", "connect privilege"
    grant = (
        f"GRANT CONNECT ON DATABASE {quote_ident(target.dbname)} "
        f"TO {quote_ident(target.user)};"
    )
    try:
        conn = _connect(timeout)
    except psycopg.OperationalError as exc:
        message = str(exc)
        lower = message.lower()
        if "permission denied for database" in lower or "connect privilege" in lower:
            return [
                CheckResult(auth, PASS, f"password accepted for {target.user}"),
                CheckResult(
                    privilege,
                    FAIL,
                    f"permission denied for database {target.dbname}: "
                    f"{target.user} has no CONNECT privilege",
                    f"As an admin, run: {grant}",
                ),
            ], None
        if "database" in lower and "does not exist" in lower:
            return [
                CheckResult(auth, PASS, f"password accepted for {target.user}"),
                CheckResult(
                    privilege,
                    FAIL,
                    f"database {target.dbname} does not exist",
                    f"Check PGDATABASE, or as an admin run: CREATE DATABASE "
                    f"{quote_ident(target.dbname)}; {grant}",
                ),
            ], None
        if "password" in lower or ("role" in lower and "does not exist" in lower):
            reason = f"password authentication failed for user {target.user}"
            if "no password supplied" in lower:
                reason = f"no password supplied for user {target.user}"
            return [
                CheckResult(
                    auth,
                    FAIL,
                    reason,
                    f"Check the user name {target.user!r} (PGUSER) and its password"
                    " (PGPASSWORD, DBT_ENV_SECRET_PGPASSWORD or ~/.pgpass); an admin"
                    " can reset it with: ALTER ROLE "
                    f"{quote_ident(target.user)} PASSWORD ...;",
                ),
                CheckResult(privilege, SKIP, "not logged in"),
            ], None
        if "timeout" in lower:
            return [
                CheckResult(
                    auth,
                    FAIL,
                    "i/o timeout: the server did not complete the login in "
                    f"{timeout:g} s",
                    f"Check that {target.address} is PostgreSQL and not overloaded, "
                    "and that no firewall or proxy holds the connection.",
                ),
                CheckResult(privilege, SKIP, "not logged in"),
            ], None
        first_line = message.strip().splitlines()[0] if message.strip() else "error"
        return [
            CheckResult(
                auth,
                FAIL,
                f"cannot log in: {first_line}",
                f"Check the server's pg_hba.conf allows {target.user} to reach "
                f"{target.dbname} from this address, and the SSL settings (PGSSLMODE).",
            ),
            CheckResult(privilege, SKIP, "not logged in"),
        ], None
    return [
        CheckResult(auth, PASS, f"logged in as {target.user}"),
        CheckResult(privilege, PASS, f"{target.user} may connect to {target.dbname}"),
    ], conn


# --- role checks (need a connection)


def _role_name(conn: psycopg.Connection) -> str:
    return conn.execute("select current_user").fetchone()[0]


def check_loader(conn: psycopg.Connection, target: Target) -> CheckResult:
    name = "create and temporary on database"
    create, temporary = conn.execute(
        "select has_database_privilege(current_database(), 'CREATE'),"
        " has_database_privilege(current_database(), 'TEMPORARY')"
    ).fetchone()
    missing = [p for p, ok in (("CREATE", create), ("TEMPORARY", temporary)) if not ok]
    if not missing:
        return CheckResult(
            name, PASS, f"{target.user} may create schemas and temp tables"
        )
    user = _role_name(conn)
    return CheckResult(
        name,
        FAIL,
        f"permission denied for database {target.dbname}: {user} lacks "
        f"{' and '.join(missing)} (Segment creates its schemas and temp tables)",
        f"As an admin, run: GRANT CREATE, TEMPORARY ON DATABASE "
        f"{quote_ident(target.dbname)} TO {quote_ident(user)};",
    )


def _schema_owner(conn: psycopg.Connection, schema: str) -> str | None:
    row = conn.execute(
        "select pg_get_userbyid(nspowner) from pg_namespace where nspname = %s",
        (schema,),
    ).fetchone()
    return row[0] if row else None


def _unreadable_tables(conn: psycopg.Connection, schema: str) -> list[str]:
    rows = conn.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = %s and c.relkind in ('r', 'p', 'v', 'm', 'f')"
        " and not has_table_privilege(c.oid, 'SELECT') order by c.relname",
        (schema,),
    ).fetchall()
    return [r[0] for r in rows]


def _grant_read(schema: str, owner: str, user: str) -> str:
    s, u = quote_ident(schema), quote_ident(user)
    return (
        f"As an admin, run: GRANT USAGE ON SCHEMA {s} TO {u}; "
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {u}; "
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {quote_ident(owner)} IN SCHEMA {s} "
        f"GRANT SELECT ON TABLES TO {u};"
    )


def check_schema_exists(conn: psycopg.Connection, schema: str) -> CheckResult:
    name = f"schema exists: {schema}"
    if _schema_owner(conn, schema) is not None:
        return CheckResult(name, PASS, f"schema {schema} exists")
    return CheckResult(
        name,
        FAIL,
        f"schema {schema} does not exist",
        f"Check the schema name of the Segment source ({schema!r}; set it with "
        "--schema or the dbt var segment_schemas) and that Segment has synced to "
        "this warehouse at least once (it creates the schema on the first sync).",
    )


def check_schema_readable(
    conn: psycopg.Connection, schema: str, label: str = "schema access"
) -> CheckResult:
    name = f"{label}: {schema}"
    user = _role_name(conn)
    owner = _schema_owner(conn, schema) or user
    usage = conn.execute(
        "select has_schema_privilege(%s, 'USAGE')", (schema,)
    ).fetchone()[0]
    if not usage:
        return CheckResult(
            name,
            FAIL,
            f"permission denied for schema {schema}: {user} has no USAGE",
            _grant_read(schema, owner, user),
        )
    unreadable = _unreadable_tables(conn, schema)
    if unreadable:
        shown = ", ".join(unreadable[:5]) + (" ..." if len(unreadable) > 5 else "")
        return CheckResult(
            name,
            FAIL,
            f"permission denied for table: {user} cannot SELECT {len(unreadable)} "
            f"table(s) in {schema} ({shown})",
            _grant_read(schema, owner, user),
        )
    return CheckResult(
        name, PASS, f"{user} has USAGE on {schema} and SELECT on its tables"
    )


def check_indexes(conn: psycopg.Connection, schema: str) -> CheckResult:
    name = f"raw-table indexes: {schema}"
    rows = conn.execute(
        "select i.relname from pg_index x"
        " join pg_class i on i.oid = x.indexrelid"
        " join pg_class t on t.oid = x.indrelid"
        " join pg_namespace n on n.oid = t.relnamespace"
        " join pg_am a on a.oid = i.relam"
        " where n.nspname = %s and not x.indisprimary and a.amname <> 'brin'"
        " order by i.relname",
        (schema,),
    ).fetchall()
    if not rows:
        return CheckResult(name, PASS, "no indexes beyond primary keys and BRIN")
    names = [r[0] for r in rows]
    drops = " ".join(
        f"DROP INDEX {quote_ident(schema)}.{quote_ident(n)};" for n in names[:5]
    )
    return CheckResult(
        name,
        WARN,
        f"{len(names)} index(es) beyond primary keys and BRIN on raw tables in "
        f"{schema}: they slow Segment's loads",
        f"Unless a query needs them: {drops}"
        + (" ..." if len(names) > 5 else "")
        + " (a BRIN index on uuid_ts is cheap).",
    )


def check_mixed_case(conn: psycopg.Connection, schema: str) -> CheckResult:
    name = f"mixed-case tables: {schema}"
    rows = conn.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = %s and c.relkind in ('r', 'p', 'v', 'm', 'f')"
        " and c.relname <> lower(c.relname) order by c.relname",
        (schema,),
    ).fetchall()
    if not rows:
        return CheckResult(name, PASS, "all table names are lower case")
    names = [r[0] for r in rows]
    example = f"{quote_ident(schema)}.{quote_ident(names[0])}"
    return CheckResult(
        name,
        WARN,
        f"{len(names)} mixed-case table name(s) in {schema}: "
        + ", ".join(names[:5])
        + (" ..." if len(names) > 5 else ""),
        "These were created with double quotes, so PostgreSQL keeps their case; "
        f"unquoted names are folded to lower case. Quote them in SQL: select * from "
        f"{example};",
    )


# Segment's call tables, whose uuid_ts says when a sync last loaded rows.
CALL_TABLES = ("tracks", "pages", "screens", "identifies", "groups", "aliases")


def readable_load_tables(
    conn: psycopg.Connection, schema: str, names: tuple[str, ...]
) -> list[str]:
    """Those of `names` in `schema` that have uuid_ts and that we may read."""
    return [
        r[0]
        for r in conn.execute(
            "select c.relname from pg_class c"
            " join pg_namespace n on n.oid = c.relnamespace"
            " join pg_attribute a on a.attrelid = c.oid and a.attname = 'uuid_ts'"
            " and not a.attisdropped"
            " where n.nspname = %s and c.relname = any(%s)"
            " and c.relkind in ('r', 'p', 'v', 'f')"
            " and has_table_privilege(c.oid, 'SELECT') order by c.relname",
            (schema, list(names)),
        ).fetchall()
    ]


def last_load(
    conn: psycopg.Connection, schema: str, names: tuple[str, ...] = CALL_TABLES
) -> datetime | None:
    """The newest uuid_ts of those tables, in UTC (Segment writes it without a
    time zone, in UTC; read as stored, whatever the session's zone); None when
    there is no such table or it is empty."""
    tables = readable_load_tables(conn, schema, names)
    if not tables:
        return None
    from psycopg import sql

    query = sql.SQL(" union all ").join(
        sql.SQL("select max(uuid_ts) from {}").format(sql.Identifier(schema, t))
        for t in tables
    )
    latest = conn.execute(
        sql.SQL("select max(m) from ({}) as loads(m)").format(query)
    ).fetchone()[0]
    if latest is None:
        return None
    if latest.tzinfo is None:
        latest = latest.replace(tzinfo=UTC)
    return latest.astimezone(UTC)


def check_last_load(
    conn: psycopg.Connection, schema: str, now: datetime | None = None
) -> CheckResult:
    name = f"last load: {schema}"
    tables = readable_load_tables(conn, schema, ("pages", "tracks"))
    if not tables:
        return CheckResult(
            name,
            WARN,
            f"no readable tracks or pages table with uuid_ts in {schema}",
            "Check that Segment has synced this source at least once.",
        )
    latest = last_load(conn, schema, tuple(tables))
    if latest is None:
        return CheckResult(
            name,
            WARN,
            f"{' and '.join(tables)} in {schema} are empty",
            "Check the Segment source's sync status in the Segment app.",
        )
    now = now or datetime.now(UTC)
    age = now - latest
    stamp = latest.isoformat(timespec="seconds")
    if age > STALE_AFTER:
        hours = age.total_seconds() / 3600
        return CheckResult(
            name,
            WARN,
            f"last load {stamp} ({hours:.0f} h ago)",
            "Segment has not loaded for over a day: check the sync schedule and the "
            "warehouse's sync history in the Segment app.",
        )
    return CheckResult(name, PASS, f"last load {stamp}")


# --- orchestration


def _skip(names: list[str], reason: str) -> list[CheckResult]:
    return [CheckResult(n, SKIP, reason) for n in names]


def _source_checks(
    conn: psycopg.Connection | None, schemas: list[str], role: str | None
) -> list[CheckResult]:
    results: list[CheckResult] = []
    for schema in schemas:
        later = [
            f"raw-table indexes: {schema}",
            f"mixed-case tables: {schema}",
            f"last load: {schema}",
            f"ignored tables: {schema}",
        ]
        if role != "loader":
            later.insert(0, f"schema access: {schema}")
        if conn is None:
            results += _skip([f"schema exists: {schema}", *later], "not connected")
            continue
        exists = check_schema_exists(conn, schema)
        if exists.status == FAIL and role == "loader":
            exists = CheckResult(
                exists.name, SKIP, f"{schema} does not exist yet (Segment creates it)"
            )
        results.append(exists)
        if exists.status != PASS:
            results += _skip(later, f"schema {schema} does not exist")
            continue
        if role != "loader":
            access = check_schema_readable(conn, schema)
            results.append(access)
            if access.status == FAIL:
                results += _skip(later[1:], f"{schema} is not readable")
                continue
        results.append(check_indexes(conn, schema))
        results.append(check_mixed_case(conn, schema))
        results.append(check_last_load(conn, schema))
        results.append(check_ignored_tables(conn, schema))
    return results


def check_ignored_tables(conn: psycopg.Connection, schema: str) -> CheckResult:
    """Tables of `schema` the last build did not read (<target>_ops.ignored_tables)."""
    name = f"ignored tables: {schema}"
    listing = f"{quote_ident(marts_schema() + '_ops')}.ignored_tables"
    row = conn.execute("select to_regclass(%s) is not null", (listing,)).fetchone()
    if not row or not row[0]:
        return CheckResult(name, SKIP, f"{listing} is not built yet")
    try:
        ignored = conn.execute(
            f"select table_name, reason from {listing}"
            " where source_schema = %s order by table_name",
            (schema,),
        ).fetchall()
    except psycopg.errors.InsufficientPrivilege:
        return CheckResult(name, SKIP, f"{listing} is not readable by this user")
    if not ignored:
        return CheckResult(name, PASS, "the last build read every table")
    return CheckResult(
        name,
        WARN,
        "not read by the last build: "
        + "; ".join(f"{table} ({reason})" for table, reason in ignored),
        "Nothing to do for tables that are not Segment's (imports, copies, views);"
        " a Segment table listed here has lost its envelope columns or their types.",
    )


def run_checks(
    role: str | None = None,
    schemas: list[str] | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> list[CheckResult]:
    """All checks in order; `role` is None or one of ROLES."""
    if role is not None and role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    target = Target.from_env()
    schemas = list(schemas) if schemas else configured_source_schemas()
    results = [check_name_resolution(target)]
    if results[-1].status == PASS:
        results.append(check_tcp(target, timeout))
    else:
        results.append(CheckResult("tcp reachability", SKIP, "host does not resolve"))
    conn = None
    if results[-1].status == PASS:
        login, conn = check_login(target, timeout)
        results += login
    else:
        results += _skip(["authentication", "connect privilege"], "server unreachable")
    try:
        if role == "loader":
            name = "create and temporary on database"
            results.append(
                check_loader(conn, target)
                if conn
                else CheckResult(name, SKIP, "not connected")
            )
        if role == "reporter":
            marts = marts_schema()
            if conn is None:
                results += _skip(
                    [f"marts exist: {marts}", f"marts access: {marts}"], "not connected"
                )
            else:
                exists = check_schema_exists(conn, marts)
                if exists.status == FAIL:
                    exists = CheckResult(
                        f"marts exist: {marts}",
                        FAIL,
                        f"schema {marts} does not exist",
                        "Build the marts first (segment-reports run), or set"
                        " DBT_SCHEMA to the schema the reports are built in.",
                    )
                else:
                    exists.name = f"marts exist: {marts}"
                results.append(exists)
                if exists.status == PASS:
                    results.append(check_schema_readable(conn, marts, "marts access"))
                else:
                    results += _skip(
                        [f"marts access: {marts}"], f"{marts} does not exist"
                    )
        else:
            results += _source_checks(conn, schemas, role)
    finally:
        if conn is not None:
            conn.close()
    return results


def failed(results: list[CheckResult]) -> bool:
    return any(r.status == FAIL for r in results)
