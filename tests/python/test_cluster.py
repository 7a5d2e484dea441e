"""The throwaway cluster behaves like the servers the project talks to."""

import psycopg
import pytest


def test_server_is_postgres_15_or_newer_on_loopback(conn: psycopg.Connection) -> None:
    version = conn.execute("show server_version_num").fetchone()[0]
    assert int(version) >= 150000
    assert conn.execute("show listen_addresses").fetchone()[0] == "127.0.0.1"


def test_password_authentication_is_enforced(pg_database: dict) -> None:
    wrong = dict(pg_database, password="not-the-password")
    with pytest.raises(psycopg.OperationalError, match="password authentication"):
        psycopg.connect(**wrong)


def test_each_test_gets_its_own_empty_database(conn: psycopg.Connection) -> None:
    tables = conn.execute(
        "select count(*) from information_schema.tables"
        " where table_schema not in ('pg_catalog', 'information_schema')"
    ).fetchone()[0]
    assert tables == 0
    conn.execute("create table leftover (id int)")
