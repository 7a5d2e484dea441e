"""The demo-data generator against a real PostgreSQL: Segment's layout and rules.

Expectations are derived from the database itself (catalog, SQL over the raw
tables), never copied from the generator's output. A module-scoped database
holds two batches of a web and a mobile source; tests that need their own
history create their own databases.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from segment_reports.generator import (
    GeneratorError,
    generate_batch,
    parse_source,
    read_batches,
)
from segment_reports.generator.command import generate

START = datetime(2024, 3, 4, tzinfo=UTC)  # a Monday
FIRST_EVENTS = 12_000
FIRST_DAYS = 10
SECOND_DAYS = 7
SOURCES = ["production:web", "ios:mobile"]
UPSERTED = {"users", "accounts"}
ALLOWED_TYPES = {
    "character varying",
    "text",
    "bigint",
    "numeric",
    "boolean",
    "timestamp with time zone",
}


# --- helpers -------------------------------------------------------------------------
def tables(conn: psycopg.Connection, schema: str) -> list[str]:
    rows = conn.execute(
        """
        select table_name from information_schema.tables
        where table_schema = %s and table_type = 'BASE TABLE' order by 1
        """,
        (schema,),
    ).fetchall()
    return [r[0] for r in rows]


def columns(conn: psycopg.Connection, schema: str, table: str) -> list[tuple]:
    """(name, position, data_type, max length, nullable) in column order."""
    return conn.execute(
        """
        select column_name, ordinal_position, data_type, character_maximum_length,
            is_nullable
        from information_schema.columns
        where table_schema = %s and table_name = %s order by ordinal_position
        """,
        (schema, table),
    ).fetchall()


def column_names(conn, schema: str, table: str) -> list[str]:
    return [c[0] for c in columns(conn, schema, table)]


def ident(schema: str, table: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))


def event_tables(conn, schema: str) -> list[str]:
    """Tables other than the default ones that carry an `event` column."""
    default = {"tracks", "pages", "screens", "identifies", "groups", "aliases"}
    return [
        t
        for t in tables(conn, schema)
        if t not in default | UPSERTED and "event" in column_names(conn, schema, t)
    ]


def table_digest(conn, schema: str, table: str, cols: list[str] | None = None) -> str:
    """md5 over all rows (ordered by id) of the given columns (default: all)."""
    cols = cols or column_names(conn, schema, table)
    query = sql.SQL(
        "select count(*), md5(string_agg(row({cols})::text, E'\\n' order by id)) "
        "from {table}"
    ).format(
        cols=sql.SQL(", ").join(map(sql.Identifier, cols)), table=ident(schema, table)
    )
    count, digest = conn.execute(query).fetchone()
    return f"{count}:{digest}"


def schema_digests(conn, schema: str) -> dict[str, str]:
    return {t: table_digest(conn, schema, t) for t in tables(conn, schema)}


def events_loaded(conn, schema: str, uuid_ts) -> int:
    total = 0
    for table in ("tracks", "pages", "screens"):
        if table in tables(conn, schema):
            total += conn.execute(
                sql.SQL("select count(*) from {} where uuid_ts = %s").format(
                    ident(schema, table)
                ),
                (uuid_ts,),
            ).fetchone()[0]
    return total


@pytest.fixture
def make_database(pg_cluster) -> Iterator:
    """Creates extra databases on the test cluster (dropped afterwards)."""
    created: list[str] = []
    admin = pg_cluster.conninfo("postgres")

    def make(name: str) -> dict:
        with psycopg.connect(**admin, autocommit=True) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        created.append(name)
        return pg_cluster.conninfo(name)

    yield make
    with psycopg.connect(**admin, autocommit=True) as conn:
        for name in created:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(
                    sql.Identifier(name)
                )
            )


# --- a shared history: two batches of a web and a mobile source -----------------------
@pytest.fixture(scope="module")
def history(pg_cluster) -> Iterator[dict]:
    name = "generator_history"
    admin = pg_cluster.conninfo("postgres")
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    info = pg_cluster.conninfo(name)
    state: dict = {"info": info}
    with psycopg.connect(**info, autocommit=True) as conn:
        first = generate_batch(
            conn, SOURCES, events=FIRST_EVENTS, days=FIRST_DAYS, seed=42, start=START
        )
        state["first"] = first
        state["after_first"] = {
            schema: {
                t: (column_names(conn, schema, t), table_digest(conn, schema, t))
                for t in tables(conn, schema)
            }
            for schema in ("production", "ios")
        }
        state["second"] = generate_batch(conn, SOURCES, days=SECOND_DAYS)
    yield state
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(
                sql.Identifier(name)
            )
        )


@pytest.fixture
def hconn(history) -> Iterator[psycopg.Connection]:
    with psycopg.connect(**history["info"], autocommit=True) as connection:
        yield connection


def test_call_tables_have_segment_layout(hconn):
    for schema in ("production", "ios"):
        found = tables(hconn, schema)
        assert {"tracks", "identifies", "users"} <= set(found)
        for table in found:
            cols = columns(hconn, schema, table)
            head = [(c[0], c[2]) for c in cols[:3]]
            assert head == [
                ("id", "character varying"),
                ("received_at", "timestamp with time zone"),
                ("uuid_ts", "timestamp with time zone"),
            ], (schema, table)
            assert cols[0][3] == 1024 and cols[0][4] == "NO", (schema, table)
            types = {c[0]: c[2] for c in cols}
            assert set(types.values()) <= ALLOWED_TYPES, (schema, table)
            for name in ("original_timestamp", "sent_at", "timestamp"):
                if name in types:
                    assert types[name] == "timestamp with time zone"
            indexes = hconn.execute(
                """
                select i.indisprimary, array_agg(a.attname order by a.attnum)
                from pg_index i
                join pg_attribute a on a.attrelid = i.indrelid
                    and a.attnum = any(i.indkey)
                where i.indrelid = %s::regclass
                group by i.indexrelid, i.indisprimary
                """,
                (ident(schema, table).as_string(hconn),),
            ).fetchall()
            assert indexes == [(True, ["id"])], (schema, table)


def test_no_empty_table_and_no_all_null_column(hconn):
    for schema in ("production", "ios"):
        for table in tables(hconn, schema):
            names = column_names(hconn, schema, table)
            counts = hconn.execute(
                sql.SQL("select count(*), {} from {}").format(
                    sql.SQL(", ").join(
                        sql.SQL("count({})").format(sql.Identifier(c)) for c in names
                    ),
                    ident(schema, table),
                )
            ).fetchone()
            assert counts[0] > 0, f"{schema}.{table} is empty"
            empty = [c for c, n in zip(names, counts[1:], strict=True) if n == 0]
            assert not empty, f"{schema}.{table}: all-null columns {empty}"


def test_late_property_column_appears_in_a_later_batch(history, hconn):
    before = history["after_first"]["production"]["deployments_new"][0]
    assert "region" not in before
    after = column_names(hconn, "production", "deployments_new")
    assert after[: len(before)] == before, "existing columns keep their order"
    assert after[-1] == "region", "a new column is appended at the end"
    second = history["second"].sources[0]
    assert "deployments_new.region" in second.added_columns
    counts = hconn.execute(
        "select count(region), count(*) filter (where uuid_ts = %s and region is null)"
        " from production.deployments_new",
        (second.uuid_ts,),
    ).fetchone()
    assert counts == (counts[0], 0) and counts[0] > 0
    first_uuid_ts = history["first"].sources[0].uuid_ts
    assert (
        hconn.execute(
            "select count(*) from production.deployments_new "
            "where uuid_ts = %s and region is not null",
            (first_uuid_ts,),
        ).fetchone()[0]
        == 0
    )


def test_tracks_and_event_tables_match_one_to_one(hconn):
    for schema in ("production", "ios"):
        names = event_tables(hconn, schema)
        assert len(names) >= 5
        union = sql.SQL(" union all ").join(
            sql.SQL("select id, event, event_text, {name} as tbl from {table}").format(
                name=sql.Literal(t), table=ident(schema, t)
            )
            for t in names
        )
        mismatches = hconn.execute(
            sql.SQL(
                """
                with e as ({union}),
                per_id as (select id, count(*) as n from e group by id)
                select
                    (select count(*) from per_id where n <> 1),
                    (select count(*) from e where event <> tbl),
                    (select count(*) from {tracks} t full join e using (id)
                     where t.id is null or e.id is null
                        or t.event is distinct from e.event
                        or t.event_text is distinct from e.event_text)
                """
            ).format(union=union, tracks=ident(schema, "tracks"))
        ).fetchone()
        assert mismatches == (0, 0, 0), schema


def test_second_batch_leaves_first_batch_rows_alone(history, hconn):
    first = {s.schema: s.uuid_ts for s in history["first"].sources}
    for schema, snapshot in history["after_first"].items():
        for table, (cols, digest) in snapshot.items():
            if table in UPSERTED:
                continue
            query = sql.SQL(
                "select count(*),"
                " md5(string_agg(row({cols})::text, E'\\n' order by id))"
                " from {table} where uuid_ts = %s"
            ).format(
                cols=sql.SQL(", ").join(map(sql.Identifier, cols)),
                table=ident(schema, table),
            )
            count, md5 = hconn.execute(query, (first[schema],)).fetchone()
            assert f"{count}:{md5}" == digest, f"{schema}.{table} changed"
        for table in tables(hconn, schema):
            newer = hconn.execute(
                sql.SQL("select count(*) from {} where uuid_ts > %s").format(
                    ident(schema, table)
                ),
                (first[schema],),
            ).fetchone()[0]
            assert newer > 0 or table not in ("tracks", "pages", "screens")


def _check_upserted(conn, schema: str, target: str, source: str, key: str) -> None:
    target_cols = column_names(conn, schema, target)
    source_cols = column_names(conn, schema, source)
    traits = [c for c in target_cols if c not in ("id", "received_at", "uuid_ts")]
    assert traits and set(traits) <= set(source_cols)
    valid = sql.SQL("{k} is not null and {k} <> ''").format(k=sql.Identifier(key))
    missing, extra = conn.execute(
        sql.SQL(
            """
            select
                (select count(*) from (select {k} from {src} where {valid}
                    except select id from {tgt}) m),
                (select count(*) from (select id from {tgt}
                    except select {k} from {src} where {valid}) x)
            """
        ).format(
            k=sql.Identifier(key),
            src=ident(schema, source),
            tgt=ident(schema, target),
            valid=valid,
        )
    ).fetchone()
    assert (missing, extra) == (0, 0), f"{schema}.{target} keys"
    for trait in traits:
        wrong = conn.execute(
            sql.SQL(
                """
                select count(*) from {tgt} u
                where u.{c} is distinct from (
                    select s.{c} from {src} s
                    where s.{k} = u.id and s.{c} is not null
                    order by s.uuid_ts desc, s.received_at desc, s.id desc
                    limit 1)
                """
            ).format(
                tgt=ident(schema, target),
                src=ident(schema, source),
                c=sql.Identifier(trait),
                k=sql.Identifier(key),
            )
        ).fetchone()[0]
        assert wrong == 0, f"{schema}.{target}.{trait}"
    # a trait column the target lacks was never sent with a valid key
    for trait in set(source_cols) - set(target_cols):
        if trait in ("name", "email", "plan", "company", "role", "created_at"):
            sent = conn.execute(
                sql.SQL("select count({c}) from {src} where {valid}").format(
                    c=sql.Identifier(trait), src=ident(schema, source), valid=valid
                )
            ).fetchone()[0]
            assert sent == 0, f"{schema}.{target} lacks {trait}"


def test_users_and_accounts_hold_latest_non_null_traits(hconn):
    _check_upserted(hconn, "production", "users", "identifies", "user_id")
    _check_upserted(hconn, "ios", "users", "identifies", "user_id")
    _check_upserted(hconn, "production", "accounts", "groups", "group_id")
    # the merge matters: some user got traits from more than one identify call
    merged = hconn.execute(
        """
        select count(*) from (
            select user_id from production.identifies
            where user_id <> '' group by user_id having count(*) > 1
        ) m
        """
    ).fetchone()[0]
    assert merged > 0


def test_mobile_source_has_screens_and_type_drift(hconn):
    web, mobile = set(tables(hconn, "production")), set(tables(hconn, "ios"))
    assert "screens" in mobile and "screens" not in web
    assert "pages" in web and "pages" not in mobile
    mobile_cols = dict((c[0], c[2]) for c in columns(hconn, "ios", "tracks"))
    assert mobile_cols["context_network_wifi"] == "boolean"
    assert {"context_device_model", "context_os_name", "context_app_version"} <= set(
        mobile_cols
    )
    drift = []
    for table in web & mobile:
        web_types = {c[0]: c[2] for c in columns(hconn, "production", table)}
        for name, data_type in ((c[0], c[2]) for c in columns(hconn, "ios", table)):
            if name in web_types and web_types[name] != data_type:
                drift.append((table, name, web_types[name], data_type))
    assert ("deployments_scale", "from_size_gb", "bigint", "numeric") in drift
    shared_users, shared_devices = hconn.execute(
        """
        select
            (select count(*) from (select user_id from ios.tracks
                intersect select user_id from production.tracks) u),
            (select count(*) from (select anonymous_id from ios.tracks
                intersect select anonymous_id from production.pages) d
             where anonymous_id <> '')
        """
    ).fetchone()
    assert shared_users > 0, "people use both sources"
    assert shared_devices == 0, "devices are per source"


def test_odd_table_names(hconn):
    names = tables(hconn, "production")
    assert "PlanUpgraded" in names and "planupgraded" not in names
    assert "2fa_enabled" in names
    rows = hconn.execute(
        """
        select event, event_text, count(*) from production.tracks
        where event in ('PlanUpgraded', '2fa_enabled') group by 1, 2 order by 1
        """
    ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [
        ("2fa_enabled", "2FA Enabled"),
        ("PlanUpgraded", "PlanUpgraded"),
    ]
    planned = hconn.execute(
        'select count(*) from production."PlanUpgraded" where to_plan is not null'
    ).fetchone()[0]
    assert planned == rows[1][2]


def test_timestamps_follow_segment_rules(hconn):
    batches = {(b["schema_name"], b["uuid_ts"]): b for b in read_batches(hconn)}
    for schema in ("production", "ios"):
        for table in tables(hconn, schema):
            if table in UPSERTED:
                continue
            checks = hconn.execute(
                sql.SQL(
                    """
                    select uuid_ts, min(received_at), max(received_at),
                        count(*) filter (where "timestamp"
                            <> received_at - (sent_at - original_timestamp))
                    from {} group by uuid_ts
                    """
                ).format(ident(schema, table))
            ).fetchall()
            for uuid_ts, lowest, highest, wrong in checks:
                batch = batches[(schema, uuid_ts)]
                assert wrong == 0, f"{schema}.{table}: timestamp formula"
                assert batch["period_start"] <= lowest <= highest < batch["period_end"]
                assert uuid_ts > batch["period_end"]


def test_realistic_faults_are_present(hconn):
    period = {(b["schema_name"], b["batch_number"]): b for b in read_batches(hconn)}
    for schema, calls in (("production", "pages"), ("ios", "screens")):
        start = period[(schema, 1)]["period_start"]
        found = {"late": 0, "future": 0, "skewed": 0}
        for table in (calls, "tracks"):
            late, future, skewed = hconn.execute(
                sql.SQL(
                    """
                    select
                        count(*) filter (where "timestamp" < %s - interval '1 day'),
                        count(*) filter (
                            where "timestamp" > received_at + interval '1 day'),
                        count(*) filter (
                            where abs(extract(epoch from sent_at - received_at)) > 600
                            and abs(extract(epoch from "timestamp" - received_at)) < 60)
                    from {}
                    """
                ).format(ident(schema, table)),
                (start,),
            ).fetchone()
            found["late"] += late
            found["future"] += future
            found["skewed"] += skewed
        assert all(found.values()), (schema, found)
        junk_ids, empty_anonymous = hconn.execute(
            sql.SQL(
                """
                select array_agg(distinct user_id order by user_id)
                    filter (where user_id in ('undefined', 'null', '')),
                    count(*) filter (where anonymous_id = '')
                from {}
                """
            ).format(ident(schema, calls))
        ).fetchone()
        assert empty_anonymous > 0, f"{schema}: empty anonymous ids"
        assert junk_ids is not None and len(junk_ids) >= 2, f"{schema}: junk user ids"
        identified = hconn.execute(
            sql.SQL(
                "select count(distinct user_id) from {} "
                "where user_id in ('undefined', 'null', '')"
            ).format(ident(schema, "identifies"))
        ).fetchone()[0]
        assert identified == 3


def test_sessions_shared_devices_and_aliases(hconn):
    gaps = hconn.execute(
        """
        select
            count(*) filter (where gap = interval '30 minutes'),
            count(*) filter (where gap between interval '25 minutes'
                and interval '35 minutes'),
            count(*) filter (where gap > interval '1 day')
        from (
            select "timestamp" - lag("timestamp") over (
                partition by anonymous_id order by "timestamp", id) as gap
            from production.pages where anonymous_id <> ''
        ) g
        """
    ).fetchone()
    assert gaps[0] > 0 and gaps[1] > gaps[0] and gaps[2] > 0
    shared = hconn.execute(
        """
        select count(*) from (
            select anonymous_id from production.pages
            where user_id like 'usr\\_%' and anonymous_id <> ''
            group by anonymous_id having count(distinct user_id) > 1
        ) s
        """
    ).fetchone()[0]
    assert shared > 0, "some devices are shared by two people"
    devices = hconn.execute(
        """
        select count(*) from (
            select user_id from production.pages where user_id like 'usr\\_%'
            group by user_id having count(distinct anonymous_id) > 1
        ) d
        """
    ).fetchone()[0]
    assert devices > 0, "people use several devices"
    assert hconn.execute("select count(*) from production.aliases").fetchone()[0] > 0


def test_event_volume_and_batch_log(history, hconn):
    first, second = history["first"], history["second"]
    loaded = sum(events_loaded(hconn, s.schema, s.uuid_ts) for s in first.sources)
    assert abs(loaded - FIRST_EVENTS) <= 0.15 * FIRST_EVENTS
    assert loaded == first.events
    later = sum(events_loaded(hconn, s.schema, s.uuid_ts) for s in second.sources)
    per_day = FIRST_EVENTS / FIRST_DAYS
    assert abs(later / SECOND_DAYS - per_day) <= 0.25 * per_day
    log = read_batches(hconn)
    assert [(b["schema_name"], b["batch_number"]) for b in log] == [
        ("ios", 1),
        ("ios", 2),
        ("production", 1),
        ("production", 2),
    ]
    assert {b["population"] for b in log} == {first.population}
    production = [b for b in log if b["schema_name"] == "production"]
    assert production[1]["period_start"] == production[0]["period_end"]
    assert production[1]["period_end"] - production[1]["period_start"] == timedelta(
        days=SECOND_DAYS
    )
    assert production[0]["period_start"] == START
    assert "segment_reports_generator" not in {s.schema for s in first.sources}


# --- determinism ----------------------------------------------------------------------
def test_same_seed_gives_identical_data_and_another_seed_does_not(make_database):
    def run(name: str, seed: int, workers: int) -> dict[str, dict[str, str]]:
        info = make_database(name)
        with psycopg.connect(**info, autocommit=True) as conn:
            for days in (4, 1):
                generate_batch(
                    conn,
                    SOURCES,
                    events=5000 if days == 4 else None,
                    days=days,
                    seed=seed,
                    start=START if days == 4 else None,
                    workers=workers,
                    connect=lambda: psycopg.connect(**info),
                )
            return {s: schema_digests(conn, s) for s in ("production", "ios")}

    one = run("gen_same_a", 42, workers=1)
    two = run("gen_same_b", 42, workers=2)  # other processes and connections
    other = run("gen_other", 7, workers=1)
    assert one == two
    assert one["production"]["tracks"] != other["production"]["tracks"]
    assert one["ios"]["screens"] != other["ios"]["screens"]


def test_two_half_batches_equal_one_batch(make_database):
    def run(name: str, pieces: list[float]) -> dict[str, str]:
        info = make_database(name)
        with psycopg.connect(**info, autocommit=True) as conn:
            generate_batch(
                conn, ["web:web"], events=3000, days=3, start=START, faults=False
            )
            for days in pieces:
                generate_batch(conn, ["web:web"], days=days, faults=False)
            cutoff = START + timedelta(days=3)
            digests = {}
            for table in tables(conn, "web"):
                if table in UPSERTED:
                    continue
                cols = sorted(
                    c for c in column_names(conn, "web", table) if c != "uuid_ts"
                )
                digests[table] = conn.execute(
                    sql.SQL(
                        "select count(*),"
                        " md5(string_agg(row({c})::text, ',' order by id))"
                        " from {t} where received_at >= %s"
                    ).format(
                        c=sql.SQL(", ").join(map(sql.Identifier, cols)),
                        t=ident("web", table),
                    ),
                    (cutoff,),
                ).fetchone()
            return digests

    whole = run("gen_whole", [1.0])
    halves = run("gen_halves", [0.5, 0.5])
    assert whole == halves
    assert whole["pages"][0] > 0


def test_overlapping_start_appends_fresh_rows(conn):
    generate_batch(conn, ["web"], events=2000, days=2, start=START)
    before = conn.execute("select count(*) from web.pages").fetchone()[0]
    result = generate_batch(conn, ["web"], days=1, start=START + timedelta(days=1))
    assert any("overlaps batch 1" in note for note in result.notes)
    after = conn.execute("select count(*) from web.pages").fetchone()[0]
    assert after > before
    gap = generate_batch(conn, ["web"], days=1, start=START + timedelta(days=5))
    assert any("has no data" in note for note in gap.notes)


def test_same_arguments_give_same_data_whenever_they_run(make_database):
    """The default end is the start of the UTC day, not the clock: any hour of one
    day gives the same rows, and an explicit --end gives them on any day."""

    def run(name: str, now: datetime, end: datetime | None = None) -> dict:
        info = make_database(name)
        with psycopg.connect(**info, autocommit=True) as conn:
            generate_batch(conn, ["web:web"], events=2000, days=3, end=end, now=now)
            generate_batch(conn, ["web:web"], days=0.01, now=now)  # to 00:14
            return schema_digests(conn, "web")

    day = datetime(2026, 12, 2, tzinfo=UTC)
    just_after_midnight = run("gen_clock_a", day + timedelta(minutes=20))
    late_evening = run("gen_clock_b", day + timedelta(hours=23, minutes=50))
    months_later = run("gen_clock_c", day + timedelta(days=100, hours=7), end=day)
    assert just_after_midnight == late_evening == months_later
    assert just_after_midnight["pages"].split(":")[0] != "0"


def test_no_batch_holds_future_events(conn):
    now = datetime(2026, 12, 2, 10, 15, tzinfo=UTC)
    midnight = datetime(2026, 12, 2, tzinfo=UTC)
    generate_batch(conn, ["web:web", "app:mobile"], events=3000, days=5, now=now)
    log = read_batches(conn)
    assert {b["period_end"] for b in log} == {midnight}
    before = {s: schema_digests(conn, s) for s in ("web", "app")}

    # one more day would end tomorrow: refused, naming the largest that fits
    # (10 h 15 min = 0.4270... days)
    with pytest.raises(GeneratorError, match=r"after the current time") as refused:
        generate_batch(conn, ["web:web", "app:mobile"], days=1, now=now)
    assert "--days 0.427 or less" in str(refused.value)
    with pytest.raises(GeneratorError, match="after the current time"):
        generate_batch(conn, ["web:web"], end=now + timedelta(minutes=1), now=now)
    assert {s: schema_digests(conn, s) for s in ("web", "app")} == before
    assert len(read_batches(conn)) == 2

    generate_batch(conn, ["web:web", "app:mobile"], days=0.427, now=now)
    for schema in ("web", "app"):
        for table in tables(conn, schema):
            names = column_names(conn, schema, table)
            if "received_at" not in names:
                continue
            occurred = (
                'least("timestamp", received_at)'
                if "timestamp" in names
                else "received_at"
            )
            latest = conn.execute(
                sql.SQL("select max(received_at), max({}) from {}").format(
                    sql.SQL(occurred), ident(schema, table)
                )
            ).fetchone()
            assert all(v is None or v <= now for v in latest), (schema, table)


def test_cli_refuses_arguments_out_of_range_before_any_work(pg_env, conn):
    runner = CliRunner()
    many = [f"s{n}" for n in range(21)]
    cases = [
        (["--events", "1000000000000"], "'--events'"),
        (["--events", "0"], "'--events'"),
        (["--days", "0"], "'--days'"),
        (["--days", "3651"], "'--days'"),
        (["--days", "0.0001"], "--days must be at least one minute"),
        (["--seed", "-1"], "'--seed'"),
        (["--workers", "0"], "'--workers'"),
        (["--workers", "1000"], "'--workers'"),
        (["--start", "1999-12-31"], "--start must be 2000-01-01 or later"),
        (["--start", "soon"], "--start: 'soon' is not an ISO 8601"),
        (["--end", "2024-13-01"], "--end: '2024-13-01' is not an ISO 8601"),
        (["--start", "2024-01-01", "--end", "2024-02-01"], "--start and --end"),
        ([a for name in many for a in ("--source", name)], "at most 20 sources"),
        (["--source", "shop:desktop"], "unknown kind 'desktop'"),
    ]
    for args, message in cases:
        result = runner.invoke(generate, args, env=pg_env)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
    created = conn.execute(
        "select count(*) from pg_namespace where nspname !~ '^(pg_|information_)'"
        " and nspname <> 'public'"
    ).fetchone()[0]
    assert created == 0


def test_bad_arguments_are_named(conn):
    with pytest.raises(GeneratorError, match="unknown kind 'desktop'"):
        parse_source("shop:desktop")
    with pytest.raises(GeneratorError, match="not a valid schema name"):
        parse_source("9shop")
    assert parse_source("Shop").name == "shop"
    with pytest.raises(GeneratorError, match="own log schema"):
        parse_source("segment_reports_generator")
    with pytest.raises(GeneratorError, match="--days"):
        generate_batch(conn, ["web"], days=-1)
    with pytest.raises(GeneratorError, match="--events"):
        generate_batch(conn, ["web"], events=0)
    with pytest.raises(GeneratorError, match="--events must be between"):
        generate_batch(conn, ["web"], events=10**12)
    with pytest.raises(GeneratorError, match="more than once"):
        generate_batch(conn, ["web", "web:web"])
    with pytest.raises(GeneratorError, match="--start"):
        generate_batch(conn, ["web"], start="last tuesday")
    generate_batch(conn, ["web"], events=500, days=1, start=START)
    with pytest.raises(GeneratorError, match="generated as a web source"):
        generate_batch(conn, ["web:mobile"], days=1)


# --- the command ----------------------------------------------------------------------
def test_cli_generates_and_reports(pg_env):
    runner = CliRunner()
    args = ["--source", "shop", "--events", "2000", "--days", "2"]
    result = runner.invoke(generate, [*args, "--start", "2024-01-01"], env=pg_env)
    assert result.exit_code == 0, result.output
    assert "shop (web) batch 1" in result.output
    assert "events/s" in result.output
    again = runner.invoke(generate, ["--source", "shop"], env=pg_env)
    assert again.exit_code == 0, again.output
    assert "shop (web) batch 2" in again.output
    bad = runner.invoke(generate, ["--source", "shop:desktop"], env=pg_env)
    assert bad.exit_code == 2 and "unknown kind 'desktop'" in bad.output
    bad = runner.invoke(generate, ["--days", "0"], env=pg_env)
    assert bad.exit_code == 2 and "--days" in bad.output
    with psycopg.connect(
        host=pg_env["PGHOST"],
        port=pg_env["PGPORT"],
        user=pg_env["PGUSER"],
        password=pg_env["PGPASSWORD"],
        dbname=pg_env["PGDATABASE"],
    ) as conn:
        assert [b["batch_number"] for b in read_batches(conn, "shop")] == [1, 2]


def test_cli_subprocess_with_worker_processes(pg_env):
    command = Path(sys.executable).with_name("segment-reports")
    result = subprocess.run(
        [
            str(command),
            "generate",
            "--source",
            "app:mobile",
            "--events",
            "50000",
            "--days",
            "20",
            "--start",
            "2024-02-01T00:00:00Z",
            "--workers",
            "2",
        ],
        env={**os.environ, **pg_env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "app (mobile) batch 1" in result.stderr
    assert "screens" in result.stderr
