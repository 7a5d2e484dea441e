"""Where CLI commands connect: the libpq environment, else the local warehouse.

Settings come from the standard libpq variables (`PGHOST`, `PGPORT`, `PGUSER`,
`PGDATABASE`, `PGPASSFILE`/`~/.pgpass`). The password may also come from
`DBT_ENV_SECRET_PGPASSWORD`, the variable dbt reads and never logs. When
`PGHOST` is unset and the local warehouse is running, its settings are used.
"""

from __future__ import annotations

import os

import psycopg

from .warehouse import LocalWarehouse

SECRET_PASSWORD_VAR = "DBT_ENV_SECRET_PGPASSWORD"


def libpq_env() -> tuple[dict[str, str], str]:
    """The libpq variables to use and a label saying where they came from."""
    if not os.environ.get("PGHOST"):
        local = LocalWarehouse.here()
        if local.running():
            return local.settings(), "the local warehouse (.warehouse/)"
    keys = ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSFILE", "PGSSLMODE")
    return {k: os.environ[k] for k in keys if os.environ.get(k)}, "the PG* environment"


def child_env() -> dict[str, str]:
    """Environment for child processes (dbt): libpq settings merged into os.environ."""
    env = dict(os.environ)
    settings, _ = libpq_env()
    env.update(settings)
    # dbt-postgres passes an empty password explicitly, which makes libpq ignore
    # PGPASSWORD: hand it over in the variable the profile reads (and dbt scrubs).
    if env.get("PGPASSWORD") and not env.get(SECRET_PASSWORD_VAR):
        env[SECRET_PASSWORD_VAR] = env["PGPASSWORD"]
    return env


def connect(**kwargs) -> psycopg.Connection:
    """A psycopg connection from `libpq_env()`; the password never goes in argv."""
    settings, _ = libpq_env()
    params = {
        "host": settings.get("PGHOST"),
        "port": settings.get("PGPORT"),
        "user": settings.get("PGUSER"),
        "dbname": settings.get("PGDATABASE"),
        "passfile": settings.get("PGPASSFILE"),
    }
    secret = os.environ.get(SECRET_PASSWORD_VAR)
    if secret and not os.environ.get("PGPASSWORD"):
        params["password"] = secret
    params.update(kwargs)
    return psycopg.connect(**{k: v for k, v in params.items() if v is not None})


def describe() -> str:
    """host:port/database as user, for messages (never the password)."""
    settings, origin = libpq_env()
    host = settings.get("PGHOST", "localhost")
    port = settings.get("PGPORT", "5432")
    return (
        f"{settings.get('PGUSER', os.environ.get('USER', '?'))}@{host}:{port}/"
        f"{settings.get('PGDATABASE', '?')} (from {origin})"
    )
