"""Least-privilege warehouse roles: plan, apply, add users.

Group roles are NOLOGIN (`loader`, `transformer`, `analyst`, `reporter` by
default); people and tools log in as LOGIN users that are members of them.
The plan is computed from the catalog, so applying it twice changes nothing
the second time. Every identifier goes through `psycopg.sql.Identifier` and
passwords are sent as client-side SCRAM verifiers
(`PGconn.encrypt_password`), so the clear password never reaches the server.
This module never prints; the CLI does.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import yaml
from psycopg import sql

GROUPS = ("loader", "transformer", "analyst", "reporter")
PASSWORD_ENV_PREFIX = "SEGMENT_REPORTS_PASSWORD_"
DEFAULT_CONFIG = "roles.yml"
REDACTED = sql.SQL("'***'")
# Segment's call tables: a schema holding one of them is a Segment source.
SEGMENT_CALL_TABLES = ("tracks", "pages", "screens", "identifies", "aliases", "groups")
# Which group roles read which analytics schema (by suffix of the target schema);
# macros/reader_roles.sql gives dbt the same map.
READERS = {"": ("analyst", "reporter"), "_staging": ("analyst",), "_ops": ("analyst",)}


class RolesError(Exception):
    """A problem with the roles configuration or the warehouse state."""


@dataclass
class RolesConfig:
    """Group role names, their login users and the reporter limits."""

    groups: dict[str, str] = field(default_factory=lambda: {g: g for g in GROUPS})
    logins: dict[str, list[str]] = field(
        default_factory=lambda: {g: [] for g in GROUPS}
    )
    statement_timeout: str = "60s"
    connection_limit: int = 10
    analytics_schema: str = "analytics"
    # Segment source schemas; empty: the schemas that hold Segment's call tables.
    segment_schemas: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RolesConfig:
        data = data or {}
        unknown = set(data) - {
            "groups",
            "logins",
            "reporter",
            "analytics_schema",
            "segment_schemas",
        }
        if unknown:
            raise RolesError(f"unknown keys in roles config: {sorted(unknown)}")
        groups = {g: g for g in GROUPS}
        for key, name in (data.get("groups") or {}).items():
            if key not in GROUPS:
                raise RolesError(f"unknown group {key!r}: expected one of {GROUPS}")
            groups[key] = str(name)
        logins: dict[str, list[str]] = {g: [] for g in GROUPS}
        for key, names in (data.get("logins") or {}).items():
            if key not in GROUPS:
                raise RolesError(f"unknown group {key!r}: expected one of {GROUPS}")
            if isinstance(names, str):
                names = [names]
            logins[key] = [str(n) for n in names or []]
        reporter = data.get("reporter") or {}
        return cls(
            groups=groups,
            logins=logins,
            statement_timeout=str(reporter.get("statement_timeout", "60s")),
            connection_limit=int(reporter.get("connection_limit", 10)),
            analytics_schema=str(data.get("analytics_schema", "analytics")),
            segment_schemas=[str(s) for s in data.get("segment_schemas") or []],
        )

    @classmethod
    def load(cls, path: str | Path) -> RolesConfig:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise RolesError(f"cannot read roles config {path}: {exc}") from exc
        return cls.from_dict(yaml.safe_load(text) or {})

    @property
    def analytics_schemas(self) -> list[str]:
        base = self.analytics_schema
        return [base] + [f"{base}_{s}" for s in ("staging", "intermediate", "ops")]


@dataclass
class Step:
    """One statement of the plan; `password_for` steps get a verifier at apply."""

    statement: sql.Composable
    password_for: str | None = None

    def compose(self, conn: psycopg.Connection, password: str | None) -> sql.Composed:
        if self.password_for is None:
            return sql.Composed([self.statement])
        if password is None:
            raise RolesError(f"no password for {self.password_for}")
        verifier = conn.pgconn.encrypt_password(
            password.encode(), self.password_for.encode(), b"scram-sha-256"
        ).decode()
        return sql.SQL("{} PASSWORD {}").format(self.statement, sql.Literal(verifier))

    def redacted(self, conn: psycopg.Connection) -> str:
        if self.password_for is None:
            return self.statement.as_string(conn)
        return (
            sql.SQL("{} PASSWORD {}").format(self.statement, REDACTED).as_string(conn)
        )


# --- catalog state ---------------------------------------------------------


@dataclass
class Catalog:
    database: str
    roles: dict[str, dict[str, Any]]
    members: set[tuple[str, str]]  # (group, member)
    db_acl: set[tuple[str, str]]  # (grantee or '' for PUBLIC, privilege)
    schemas: dict[str, str]  # name -> owner
    schema_acl: set[tuple[str, str, str]]  # (schema, grantee, privilege)
    default_acl: set[tuple[str, str, str, str, str]]
    # (for role, schema or '', objtype r/n, grantee, privilege)
    segment_sources: set[str]  # schemas holding one of Segment's call tables
    objects: list[tuple[str, str, str, str | None, str]]
    # (schema, TABLE/VIEW/.../ROUTINE, name, routine arguments, owner) in analytics
    current_user: str
    superuser: bool

    @classmethod
    def read(cls, conn: psycopg.Connection, analytics: list[str] = ()) -> Catalog:
        """The catalog; `objects` lists the relations and routines in `analytics`."""
        with conn.cursor() as cur:
            database, current_user, superuser = cur.execute(
                "select current_database(), current_user,"
                " (select rolsuper from pg_roles where rolname = current_user)"
            ).fetchone()
            roles = {
                name: {"login": login, "connlimit": limit, "config": config or []}
                for name, login, limit, config in cur.execute(
                    "select rolname, rolcanlogin, rolconnlimit, rolconfig from pg_roles"
                )
            }
            members = set(
                cur.execute(
                    "select g.rolname, m.rolname from pg_auth_members a"
                    " join pg_roles g on g.oid = a.roleid"
                    " join pg_roles m on m.oid = a.member"
                )
            )
            db_acl = set(
                cur.execute(
                    "select coalesce(r.rolname, ''), a.privilege_type"
                    " from pg_database d,"
                    " aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a"
                    " left join pg_roles r on r.oid = a.grantee"
                    " where d.datname = current_database()"
                )
            )
            schemas = dict(
                cur.execute(
                    "select n.nspname, pg_get_userbyid(n.nspowner) from pg_namespace n"
                    " where n.nspname !~ '^pg_'"
                )
            )
            schema_acl = set(
                cur.execute(
                    "select n.nspname, coalesce(r.rolname, ''), a.privilege_type"
                    " from pg_namespace n,"
                    " aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a"
                    " left join pg_roles r on r.oid = a.grantee"
                )
            )
            default_acl = set(
                cur.execute(
                    "select r.rolname, coalesce(n.nspname, ''), d.defaclobjtype::text,"
                    " coalesce(g.rolname, ''), a.privilege_type"
                    " from pg_default_acl d join pg_roles r on r.oid = d.defaclrole"
                    " left join pg_namespace n on n.oid = d.defaclnamespace,"
                    " aclexplode(d.defaclacl) a"
                    " left join pg_roles g on g.oid = a.grantee"
                )
            )
            segment_sources = {
                schema
                for (schema,) in cur.execute(
                    "select distinct n.nspname from pg_class c"
                    " join pg_namespace n on n.oid = c.relnamespace"
                    " where c.relkind in ('r', 'p', 'f') and c.relname = any(%s)",
                    (list(SEGMENT_CALL_TABLES),),
                )
            }
            objects = cur.execute(
                "select n.nspname, case c.relkind when 'v' then 'VIEW'"
                "   when 'm' then 'MATERIALIZED VIEW' when 'f' then 'FOREIGN TABLE'"
                "   else 'TABLE' end, c.relname, null, pg_get_userbyid(c.relowner)"
                " from pg_class c join pg_namespace n on n.oid = c.relnamespace"
                " where n.nspname = any(%s) and c.relkind in ('r', 'p', 'v', 'm', 'f')"
                " union all"
                " select n.nspname, 'ROUTINE', p.proname,"
                " pg_get_function_identity_arguments(p.oid),"
                " pg_get_userbyid(p.proowner)"
                " from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
                " where n.nspname = any(%s) and p.prokind in ('f', 'p')"
                " order by 1, 3, 4",
                (list(analytics), list(analytics)),
            ).fetchall()
        return cls(
            database,
            roles,
            members,
            db_acl,
            schemas,
            schema_acl,
            default_acl,
            segment_sources,
            objects,
            current_user,
            bool(superuser),
        )


def _tables_missing_select(conn: psycopg.Connection, schema: str, grantee: str) -> bool:
    """True when some table or view in `schema` lacks SELECT for `grantee`."""
    row = conn.execute(
        "select exists (select 1 from pg_class c"
        " join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = %s and c.relkind in ('r', 'v', 'm', 'p', 'f')"
        " and not exists (select 1 from aclexplode("
        "   coalesce(c.relacl, acldefault('r', c.relowner))) a"
        "   join pg_roles g on g.oid = a.grantee"
        "   where g.rolname = %s and a.privilege_type = 'SELECT'))",
        (schema, grantee),
    ).fetchone()
    return bool(row and row[0])


# --- planning --------------------------------------------------------------


def _ident(name: str) -> sql.Identifier:
    return sql.Identifier(name)


def segment_schemas(conn: psycopg.Connection, config: RolesConfig) -> list[str]:
    """The configured Segment schemas, or the schemas holding Segment call tables."""
    return _segment_schemas(Catalog.read(conn), config)


def _segment_schemas(cat: Catalog, config: RolesConfig) -> list[str]:
    if config.segment_schemas:
        return [s for s in config.segment_schemas if s in cat.schemas]
    # A schema without a call table (hr, public, ...) is never granted: sources
    # Segment creates later are covered by the loader's default privileges.
    ours = _transformers(config)
    analytics = set(config.analytics_schemas)
    return sorted(
        name
        for name in cat.segment_sources
        if name not in analytics and cat.schemas.get(name) not in ours
    )


def _transformers(config: RolesConfig) -> set[str]:
    """The roles whose objects count as dbt's: the group and its logins."""
    return {config.groups["transformer"], *config.logins["transformer"]}


def _role_steps(
    cat: Catalog, config: RolesConfig, rotate: bool, only: set[str] | None = None
) -> list[Step]:
    steps: list[Step] = []
    for key in GROUPS:
        group = config.groups[key]
        role = cat.roles.get(group)
        if only is None or group in only:
            if role is None:
                steps.append(
                    Step(sql.SQL("CREATE ROLE {} NOLOGIN").format(_ident(group)))
                )
            elif role["login"]:
                steps.append(
                    Step(sql.SQL("ALTER ROLE {} NOLOGIN").format(_ident(group)))
                )
    for key in GROUPS:
        group = config.groups[key]
        for login in config.logins[key]:
            if only is not None and login not in only:
                continue
            steps += _login_steps(cat, config, key, login, rotate)
    return steps


def _login_steps(
    cat: Catalog, config: RolesConfig, key: str, login: str, rotate: bool
) -> list[Step]:
    group = config.groups[key]
    role = cat.roles.get(login)
    steps: list[Step] = []
    if login in config.groups.values():
        raise RolesError(f"login {login!r} has the name of a group role")
    if role is None:
        steps.append(Step(sql.SQL("CREATE ROLE {} LOGIN").format(_ident(login)), login))
    else:
        if not role["login"]:
            steps.append(Step(sql.SQL("ALTER ROLE {} LOGIN").format(_ident(login))))
        if rotate:
            steps.append(Step(sql.SQL("ALTER ROLE {}").format(_ident(login)), login))
    if (group, login) not in cat.members:
        steps.append(
            Step(sql.SQL("GRANT {} TO {}").format(_ident(group), _ident(login)))
        )
    if key == "reporter":
        if role is None or role["connlimit"] != config.connection_limit:
            steps.append(
                Step(
                    sql.SQL("ALTER ROLE {} CONNECTION LIMIT {}").format(
                        _ident(login), sql.Literal(config.connection_limit)
                    )
                )
            )
        wanted = f"statement_timeout={config.statement_timeout}"
        if role is None or wanted not in role["config"]:
            steps.append(
                Step(
                    sql.SQL("ALTER ROLE {} SET statement_timeout = {}").format(
                        _ident(login), sql.Literal(config.statement_timeout)
                    )
                )
            )
    return steps


def _grant_db(cat: Catalog, grantee: str, privs: list[str]) -> list[Step]:
    missing = [p for p in privs if (grantee, p) not in cat.db_acl]
    if not missing:
        return []
    return [
        Step(
            sql.SQL("GRANT {} ON DATABASE {} TO {}").format(
                sql.SQL(", ").join(sql.SQL(p) for p in missing),
                _ident(cat.database),
                _ident(grantee),
            )
        )
    ]


def _grant_read_schema(
    conn: psycopg.Connection, cat: Catalog, schema: str, grantee: str
) -> list[Step]:
    steps = []
    if (schema, grantee, "USAGE") not in cat.schema_acl:
        steps.append(
            Step(
                sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
                    _ident(schema), _ident(grantee)
                )
            )
        )
    if grantee not in cat.roles or _tables_missing_select(conn, schema, grantee):
        steps.append(
            Step(
                sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(
                    _ident(schema), _ident(grantee)
                )
            )
        )
    return steps


def _default_grant(
    cat: Catalog, for_role: str, schema: str, objtype: str, grantee: str
) -> list[Step]:
    priv, objects = {"r": ("SELECT", "TABLES"), "n": ("USAGE", "SCHEMAS")}[objtype]
    if (for_role, schema, objtype, grantee, priv) in cat.default_acl:
        return []
    where = sql.SQL(" IN SCHEMA {}").format(_ident(schema)) if schema else sql.SQL("")
    return [
        Step(
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES FOR ROLE {}{} GRANT {} ON {} TO {}"
            ).format(
                _ident(for_role),
                where,
                sql.SQL(priv),
                sql.SQL(objects),
                _ident(grantee),
            )
        )
    ]


def _acts_as(conn: psycopg.Connection, cat: Catalog, role: str) -> bool:
    """True when the current user has the privileges of `role` (superusers do)."""
    if cat.superuser:
        return True
    if role not in cat.roles:
        return False
    row = conn.execute("select pg_has_role(%s, 'USAGE')", (role,)).fetchone()
    return bool(row and row[0])


def _may_create_schema(conn: psycopg.Connection) -> bool:
    row = conn.execute(
        "select has_database_privilege(current_database(), 'CREATE')"
    ).fetchone()
    return bool(row and row[0])


def _analytics_owner_steps(
    conn: psycopg.Connection, cat: Catalog, config: RolesConfig
) -> tuple[list[Step], list[Step], set[str]]:
    """Create the analytics schemas, or hand them and their tables to transformer.

    Returns (steps, fixes, blocked): `fixes` are the statements the current user
    may not run (ALTER ... OWNER needs the privileges of the old and the new
    owner), `blocked` the schemas they concern, left alone until someone who may
    runs them.
    """
    owner = config.groups["transformer"]
    ours = _transformers(config)
    steps: list[Step] = []
    fixes: list[Step] = []
    blocked: set[str] = set()
    for schema in config.analytics_schemas:
        if schema not in cat.schemas:
            create = Step(
                sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(
                    _ident(schema), _ident(owner)
                )
            )
            if _acts_as(conn, cat, owner) and _may_create_schema(conn):
                steps.append(create)
            else:
                fixes.append(create)
                blocked.add(schema)
            continue
        handover: list[tuple[Step, str]] = []
        if cat.schemas[schema] not in ours:
            statement = sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(
                _ident(schema), _ident(owner)
            )
            handover.append((Step(statement), cat.schemas[schema]))
        for in_schema, kind, name, arguments, old_owner in cat.objects:
            if in_schema == schema and old_owner not in ours:
                target = sql.Identifier(schema, name)
                if arguments is not None:
                    # The server's own rendering of the argument types.
                    target = sql.SQL("{}({})").format(target, sql.SQL(arguments))
                statement = sql.SQL("ALTER {} {} OWNER TO {}").format(
                    sql.SQL(kind), target, _ident(owner)
                )
                handover.append((Step(statement), old_owner))
        if not handover:
            continue
        if _acts_as(conn, cat, owner) and all(
            _acts_as(conn, cat, old) for _, old in handover
        ):
            steps += [step for step, _ in handover]
        else:
            fixes += [step for step, _ in handover]
            blocked.add(schema)
    return steps, fixes, blocked


def _plan(
    conn: psycopg.Connection, config: RolesConfig, rotate: bool
) -> tuple[list[Step], list[Step]]:
    cat = Catalog.read(conn, config.analytics_schemas)
    g = config.groups
    steps = _role_steps(cat, config, rotate)

    # PUBLIC hardening.
    if any(grantee == "" for grantee, _ in cat.db_acl):
        steps.append(
            Step(
                sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(
                    _ident(cat.database)
                )
            )
        )
    if ("public", "", "CREATE") in cat.schema_acl:
        steps.append(Step(sql.SQL("REVOKE CREATE ON SCHEMA public FROM PUBLIC")))

    steps += _grant_db(cat, g["loader"], ["CONNECT", "CREATE", "TEMPORARY"])
    steps += _grant_db(cat, g["transformer"], ["CONNECT", "CREATE", "TEMPORARY"])
    steps += _grant_db(cat, g["analyst"], ["CONNECT"])
    steps += _grant_db(cat, g["reporter"], ["CONNECT"])

    # Transformer reads every Segment schema, now and later.
    for schema in _segment_schemas(cat, config):
        steps += _grant_read_schema(conn, cat, schema, g["transformer"])
    for login in config.logins["loader"]:
        steps += _default_grant(cat, login, "", "n", g["transformer"])
        steps += _default_grant(cat, login, "", "r", g["transformer"])

    # Transformer owns the analytics schemas; creating them now (when a first
    # build has not) lets the default privileges below cover that first build.
    owned, fixes, blocked = _analytics_owner_steps(conn, cat, config)
    steps += owned

    # Readers: exactly the privileges and grantees dbt's grant_select_to_readers
    # and grant_reader_access hooks give, so after a run this plan is empty.
    for suffix, keys in READERS.items():
        schema = config.analytics_schema + suffix
        if schema in blocked:
            continue
        for grantee in (g[key] for key in keys):
            steps += _grant_read_schema(conn, cat, schema, grantee)
            for login in config.logins["transformer"]:
                steps += _default_grant(cat, login, schema, "r", grantee)
    return steps, fixes


def plan(
    conn: psycopg.Connection, config: RolesConfig, *, rotate: bool = False
) -> list[Step]:
    """The statements that bring the warehouse to the configured roles; [] if none.

    Statements the current user may not run are left out: `ownership_fixes`
    lists them.
    """
    return _plan(conn, config, rotate)[0]


def ownership_fixes(conn: psycopg.Connection, config: RolesConfig) -> list[str]:
    """SQL a superuser must run to give the analytics schemas to transformer.

    Empty when setup-roles can do it itself (as a superuser, or as a member of
    both the current owners and the transformer group). The schemas concerned
    get no reader grants until then.
    """
    return render(conn, _plan(conn, config, rotate=False)[1])


# --- applying --------------------------------------------------------------


def password_env_var(login: str) -> str:
    return PASSWORD_ENV_PREFIX + re.sub(r"[^A-Z0-9]", "_", login.upper())


def env_password(login: str) -> str | None:
    return os.environ.get(password_env_var(login)) or None


def generate_password() -> str:
    return secrets.token_urlsafe(24)


def default_password_source(login: str) -> tuple[str, bool]:
    """(password, generated): the environment variable, else a generated one."""
    found = env_password(login)
    if found:
        return found, False
    return generate_password(), True


PasswordSource = Callable[[str], tuple[str, bool]]


def apply(
    conn: psycopg.Connection,
    steps: list[Step],
    passwords: PasswordSource = default_password_source,
) -> dict[str, str]:
    """Run the plan in one transaction; returns the generated passwords by login."""
    resolved: dict[str, str] = {}
    generated: dict[str, str] = {}
    for step in steps:
        login = step.password_for
        if login and login not in resolved:
            resolved[login], was_generated = passwords(login)
            if was_generated:
                generated[login] = resolved[login]
    with conn.transaction():
        for step in steps:
            password = resolved.get(step.password_for) if step.password_for else None
            conn.execute(step.compose(conn, password))
    return generated


def render(conn: psycopg.Connection, steps: list[Step]) -> list[str]:
    """The plan as SQL text with passwords redacted."""
    return [step.redacted(conn) + ";" for step in steps]


def add_user(
    conn: psycopg.Connection,
    name: str,
    role: str,
    password: str | None,
    config: RolesConfig | None = None,
) -> list[str]:
    """Create LOGIN user `name` in group `role` (or bring it in); returns the plan.

    An existing user keeps its password unless `password` is given.
    """
    config = config or RolesConfig()
    if role not in GROUPS:
        raise RolesError(f"unknown role {role!r}: expected one of {GROUPS}")
    cat = Catalog.read(conn)
    group = config.groups[role]
    if group not in cat.roles:
        raise RolesError(
            f"group role {group} does not exist: "
            "run 'segment-reports setup-roles' first"
        )
    rotate = password is not None and name in cat.roles
    steps = _login_steps(cat, config, role, name, rotate)
    needs = any(step.password_for for step in steps)
    if needs and password is None:
        raise RolesError(f"a password is needed to create {name}")
    apply(conn, steps, lambda _login: (password or "", False))
    return render(conn, steps)
