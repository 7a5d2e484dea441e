"""Hand-computed scenarios for the marts.

Every scenario writes a few raw Segment rows (segment_rows types them as Segment's
loader does) and states the rows the marts must hold, worked out by hand from the
rules (README, "What the numbers mean"; doc blocks identity_rules and session_rule)
with a comment saying why; nothing is copied from dbt's output.

The scenarios use disjoint ids, devices and event names, so they share one warehouse
and one `dbt run` (each dbt invocation costs seconds). The database's time zone is
America/New_York so that bucketing by UTC day and month is really tested.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import psycopg
import pytest
from psycopg import sql

from dbt_helpers import DbtRunner, libpq_env
from segment_rows import RawWarehouse, at

P = "production"
W = "web"
SCHEMAS = [P, W, "empty_source"]
# Listed by its *old* id: the whole alias component (staff-old, staff-1) goes.
EXCLUDED = ["staff-old"]
JUNK = ("undefined", "null", "", "anonymous", "0")


def fetch(conn: psycopg.Connection, query: str, params: tuple = ()) -> list[tuple]:
    return conn.execute(query, params or None).fetchall()


# --------------------------------------------------------------------------- data


def load_identity(wh: RawWarehouse) -> None:
    # Alias chain: chain-a -> chain-b (03-03), later chain-b -> chain-c (03-05). The
    # later alias is loaded first: order of loading must not matter.
    wh.page(P, "ch-p1", at("2024-03-01 10:00"), anonymous_id="anon-chain", path="/")
    wh.identify(P, "ch-i1", at("2024-03-02 09:00"), anonymous_id="anon-chain",
                user_id="chain-a")  # fmt: skip
    wh.track(P, "signed_up", "ch-t1", at("2024-03-02 09:05"),
             anonymous_id="anon-chain", user_id="chain-a")  # fmt: skip
    wh.track(P, "logged_in", "ch-t2", at("2024-03-04 10:00"),
             anonymous_id="anon-chain-2", user_id="chain-b")  # fmt: skip
    wh.alias(P, "ch-al2", at("2024-03-05 10:00"), "chain-b", "chain-c")
    wh.alias(P, "ch-al1", at("2024-03-03 10:00"), "chain-a", "chain-b",
             anonymous_id="anon-chain", loaded=at("2024-03-06 00:00"))  # fmt: skip
    wh.page(P, "ch-p2", at("2024-03-06 10:00"), user_id="chain-c", path="/c")
    wh.page(P, "ch-p3", at("2024-03-07 10:00"), anonymous_id="anon-chain-2", path="/")

    # Fork: fork-old1 and fork-old2 both aliased to fork-new. Traits: plan is 'free'
    # then 'pro'; fork-new's own identify sends only an email (its plan is null).
    wh.identify(P, "fk-i1", at("2024-02-25 09:00"), user_id="fork-old1",
                name="Fork One", plan="free")  # fmt: skip
    wh.identify(P, "fk-i2", at("2024-02-26 09:00"), user_id="fork-old2", plan="pro")
    wh.identify(P, "fk-i3", at("2024-03-03 09:00"), user_id="fork-new",
                email="fork@example.com")  # fmt: skip
    wh.track(P, "logged_in", "fk-t1", at("2024-02-25 10:00"), user_id="fork-old1")
    wh.track(P, "logged_in", "fk-t2", at("2024-02-26 10:00"), user_id="fork-old2")
    wh.track(P, "logged_in", "fk-t3", at("2024-03-03 10:00"), user_id="fork-new")
    wh.alias(P, "fk-al1", at("2024-03-01 12:00"), "fork-old1", "fork-new")
    wh.alias(P, "fk-al2", at("2024-03-02 12:00"), "fork-old2", "fork-new")

    # Canonical = user_id of the latest alias call, whichever direction it points:
    # flip-1 -> flip-2 (03-01), then flip-3 -> flip-1 (03-02): canonical flip-1.
    wh.alias(P, "fl-al1", at("2024-03-01 12:00"), "flip-1", "flip-2")
    wh.alias(P, "fl-al2", at("2024-03-02 12:00"), "flip-3", "flip-1")
    wh.track(P, "logged_in", "fl-t1", at("2024-03-01 13:00"), user_id="flip-2")

    # Shared device anon-shared: shared-x first, shared-y later (most recent link is
    # sh-t2). The shared-x rows are loaded last.
    wh.identify(P, "sh-i2", at("2024-03-02 10:00"), anonymous_id="anon-shared",
                user_id="shared-y")  # fmt: skip
    wh.track(P, "logged_in", "sh-t2", at("2024-03-02 10:05"),
             anonymous_id="anon-shared", user_id="shared-y")  # fmt: skip
    wh.page(P, "sh-p2", at("2024-03-02 10:10"), anonymous_id="anon-shared", path="/")
    wh.page(P, "sh-p1", at("2024-03-01 10:10"), anonymous_id="anon-shared", path="/")
    late = at("2024-03-09 00:00")
    wh.identify(P, "sh-i1", at("2024-03-01 10:00"), anonymous_id="anon-shared",
                user_id="shared-x", loaded=late)  # fmt: skip
    wh.track(P, "logged_in", "sh-t1", at("2024-03-01 10:05"),
             anonymous_id="anon-shared", user_id="shared-x", loaded=late)  # fmt: skip

    # Junk ids: none of these may link a device or merge two users.
    wh.identify(P, "jk-i1", at("2024-03-01 09:00"), anonymous_id="undefined",
                user_id="junk-u1", name="Junk One")  # fmt: skip
    wh.track(P, "clicked", "jk-t1", at("2024-03-01 10:00"), anonymous_id="undefined")
    wh.identify(P, "jk-i2", at("2024-03-01 09:00"), anonymous_id="anon-junk",
                user_id="null")  # fmt: skip
    wh.page(P, "jk-p1", at("2024-03-01 11:00"), anonymous_id="anon-junk", path="/")
    wh.alias(P, "jk-al1", at("2024-03-01 09:00"), "undefined", "junk-u4")
    wh.alias(P, "jk-al2", at("2024-03-01 09:10"), "undefined", "junk-u5")
    wh.alias(P, "jk-al3", at("2024-03-01 09:20"), "", "junk-u4")
    wh.alias(P, "jk-al4", at("2024-03-01 09:30"), "junk-u6", "  Anonymous ")
    wh.alias(P, "jk-al5", at("2024-03-01 09:40"), "0", "junk-u5")
    wh.alias(P, "jk-al6", at("2024-03-01 09:50"), "null", "junk-u4")
    wh.track(P, "clicked", "jk-t2", at("2024-03-01 12:00"), anonymous_id="null",
             user_id="junk-u4")  # fmt: skip
    wh.track(P, "clicked", "jk-t3", at("2024-03-01 12:05"), anonymous_id="0",
             user_id="junk-u5")  # fmt: skip
    wh.track(P, "clicked", "jk-t4", at("2024-03-01 12:10"), anonymous_id="")
    wh.track(P, "clicked", "jk-t5", at("2024-03-01 12:15"), anonymous_id="anon-junk2",
             user_id="0")  # fmt: skip
    wh.track(P, "clicked", "jk-t6", at("2024-03-01 12:20"),
             anonymous_id="  Anonymous ", user_id="junk-u6")  # fmt: skip
    wh.page(P, "jk-p2", at("2024-03-01 12:25"), anonymous_id="null", path="/")

    # Anonymous history: pages days before signing up.
    wh.page(P, "hs-p1", at("2024-02-20 10:00"), anonymous_id="anon-hist", path="/")
    wh.page(P, "hs-p2", at("2024-02-22 10:00"), anonymous_id="anon-hist", path="/")
    # an identify before signup, with a trait but no user id yet
    wh.identify(P, "hs-i0", at("2024-02-22 10:01"), anonymous_id="anon-hist",
                plan="trial")  # fmt: skip
    wh.identify(P, "hs-i1", at("2024-03-01 09:00"), anonymous_id="anon-hist",
                user_id="hist-u", name="Hist")  # fmt: skip
    wh.track(P, "signed_up", "hs-t1", at("2024-03-01 09:01"),
             anonymous_id="anon-hist", user_id="hist-u")  # fmt: skip

    # Alias of the call's own anonymous id. anon-al1 has no other link; anon-al2 has
    # an (older) identify link to al-u3, which wins over the (newer) alias to al-u2.
    wh.page(P, "as-p1", at("2024-03-01 09:00"), anonymous_id="anon-al1", path="/")
    wh.alias(P, "as-al1", at("2024-03-01 10:00"), "anon-al1", "al-u1",
             anonymous_id="anon-al1")  # fmt: skip
    wh.identify(P, "as-i2", at("2024-03-01 09:00"), anonymous_id="anon-al2",
                user_id="al-u3")  # fmt: skip
    wh.alias(P, "as-al2", at("2024-03-02 10:00"), "anon-al2", "al-u2",
             anonymous_id="anon-al2")  # fmt: skip
    wh.page(P, "as-p2", at("2024-03-03 10:00"), anonymous_id="anon-al2", path="/")

    # A server-side alias (no anonymous_id of its own) whose previous_id is the
    # anonymous id of a device that has no other link.
    wh.page(P, "sv-p1", at("2024-03-05 09:00"), anonymous_id="anon-srv", path="/")
    wh.alias(P, "sv-al1", at("2024-03-05 10:00"), "anon-srv", "srv-u")
    wh.track(P, "signed_up", "sv-t1", at("2024-03-05 10:05"), user_id="srv-u")

    # Excluded: staff-old (listed) was aliased to staff-1; anon-staff is its device.
    wh.page(P, "ex-p1", at("2024-02-27 10:00"), anonymous_id="anon-staff", path="/")
    wh.identify(P, "ex-i1", at("2024-02-28 10:00"), anonymous_id="anon-staff",
                user_id="staff-old", name="Staff Member")  # fmt: skip
    wh.alias(P, "ex-al1", at("2024-03-01 10:00"), "staff-old", "staff-1")
    wh.track(P, "staff_only_event", "ex-t1", at("2024-03-01 11:00"),
             anonymous_id="anon-staff", user_id="staff-old")  # fmt: skip
    wh.track(P, "staff_only_event", "ex-t2", at("2024-03-02 10:00"), user_id="staff-1")
    # anon-mixed: mix-u uses it, then the excluded staff-1 (its most recent link).
    wh.identify(P, "mx-i1", at("2024-03-08 09:00"), anonymous_id="anon-mixed",
                user_id="mix-u")  # fmt: skip
    wh.track(P, "clicked", "mx-t1", at("2024-03-08 09:05"), anonymous_id="anon-mixed",
             user_id="mix-u")  # fmt: skip
    wh.page(P, "mx-p1", at("2024-03-08 09:10"), anonymous_id="anon-mixed", path="/")
    wh.identify(P, "mx-i2", at("2024-03-08 12:00"), anonymous_id="anon-mixed",
                user_id="staff-1")  # fmt: skip
    wh.page(P, "mx-p2", at("2024-03-08 12:10"), anonymous_id="anon-mixed", path="/")


def load_sessions(wh: RawWarehouse) -> None:
    # One anonymous device: pairs 29:59 apart, 30:00 apart (a chain of three, so the
    # session outlasts the timeout), and 30:01 apart; tracks, pages and screens mixed.
    dev = {"anonymous_id": "anon-sess"}
    wh.page(P, "ss-1a", at("2024-04-01 10:00:00"), path="/pricing", **dev)
    wh.track(P, "clicked", "ss-1b", at("2024-04-01 10:29:59"), **dev)
    wh.screen(P, "ss-2a", at("2024-04-01 12:00:00"), name="Home", **dev)
    wh.page(P, "ss-2b", at("2024-04-01 12:30:00"), path="/docs", **dev)
    wh.track(P, "clicked", "ss-2c", at("2024-04-01 13:00:00"), **dev)
    wh.track(P, "clicked", "ss-3a", at("2024-04-01 14:00:00"), **dev)
    wh.screen(P, "ss-3b", at("2024-04-01 14:30:01"), name="Home", **dev)

    # 02:00 UTC is still the previous day in the database's time zone (New York).
    wh.page(P, "ss-night", at("2024-04-08 02:00"), anonymous_id="anon-night", path="/")

    # Two devices of sess-u (a laptop anon-d1, a phone anon-d2), interleaved in time.
    wh.page(P, "sd-p1", at("2024-04-02 09:00"), anonymous_id="anon-d1", path="/")
    wh.track(P, "clicked", "sd-t1", at("2024-04-02 09:10"), anonymous_id="anon-d1",
             user_id="sess-u")  # fmt: skip
    wh.screen(P, "sd-s1", at("2024-04-02 09:20"), anonymous_id="anon-d2",
              user_id="sess-u", name="Home")  # fmt: skip
    wh.screen(P, "sd-s2", at("2024-04-03 08:00"), anonymous_id="anon-d2", name="Home")
    wh.page(P, "sd-p2", at("2024-04-04 12:00"), anonymous_id="anon-d1", path="/")

    # anon-sw: an anonymous page, then sw-x in the same session; sw-y the next day.
    wh.page(P, "sw-p1", at("2024-04-05 10:00"), anonymous_id="anon-sw", path="/")
    wh.track(P, "clicked", "sw-t1", at("2024-04-05 10:10"), anonymous_id="anon-sw",
             user_id="sw-x")  # fmt: skip
    wh.track(P, "clicked", "sw-t2", at("2024-04-06 10:00"), anonymous_id="anon-sw",
             user_id="sw-y")  # fmt: skip


def load_deployments(wh: RawWarehouse) -> None:
    # deployments_show was copied in by another tool: no primary key.
    wh.table(P, "deployments_show", primary_key=False)
    orders = {"deployment_name": "orders-db", "deployment_type": "postgres"}
    anon = {"anonymous_id": "anon-dep"}
    user = {"anonymous_id": "anon-dep", "user_id": "dep-user"}
    # 3 anonymous views before the identify.
    for n, when in enumerate(["09:00", "09:05", "09:10"], start=1):
        wh.track(P, "deployments_show", f"dv-a{n}", at(f"2015-10-01 {when}"),
                 properties=orders, **anon)  # fmt: skip
    wh.identify(P, "dv-i1", at("2015-10-02 10:00"), name="Ada Lovelace",
                email="ada@example.com", **user)  # fmt: skip
    # 14 views as dep-user, one a day from 10-03 to 10-16; 4 of them only in the
    # event table (their tracks copy never arrived).
    for day in range(14):
        wh.track(P, "deployments_show", f"dv-u{day:02}",
                 at(f"2015-10-{3 + day:02} 10:00"), properties=orders,
                 in_tracks=day not in (2, 5, 8, 11), **user)  # fmt: skip
    # dv-u00 again in the PK-less table, loaded a day later: not a new view.
    wh.row(
        P,
        "deployments_show",
        {
            "id": "dv-u00",
            "received_at": at("2015-10-03 10:00:05"),
            "uuid_ts": at("2015-10-04 11:00"),
            "timestamp": at("2015-10-03 10:00"),
            **user,
            "event": "deployments_show",
            "event_text": "Deployments Show",
            **orders,
        },
    )
    # The 18th view: a client clock in 2031, received 2015-10-20 12:00; no type sent.
    wh.track(P, "deployments_show", "dv-u14", at("2031-01-01 00:00"),
             received=at("2015-10-20 12:00"),
             properties={"deployment_name": "orders-db"}, **user)  # fmt: skip
    # A later identify with only a new email: the name stays.
    wh.identify(P, "dv-i2", at("2015-10-10 10:00"), user_id="dep-user",
                email="ada@analytical.example")  # fmt: skip
    wh.track(P, "deployments_show", "dv-b1", at("2015-10-04 11:00"),
             properties={"deployment_name": "billing-api", "deployment_type": "redis"},
             **user)  # fmt: skip
    # A tracks copy whose event-table copy has not arrived: no deployment_name.
    wh.track(P, "deployments_show", "dv-t1", at("2015-10-09 12:00"),
             in_event_table=False, **user)  # fmt: skip
    # Another person, never identified, views orders-db 3 times.
    for n in range(1, 4):
        wh.track(P, "deployments_show", f"dv-o{n}", at(f"2015-10-0{4 + n} 10:00"),
                 properties=orders, anonymous_id="anon-other-dep")  # fmt: skip
    # An excluded user's view.
    wh.track(P, "deployments_show", "ex-ds", at("2015-10-08 10:00"),
             properties=orders, user_id="staff-1")  # fmt: skip

    def new(message_id: str, when: str, who: dict, **kwargs) -> None:
        wh.track(P, "deployments_new", message_id, at(when),
                 properties={"deployment_name": message_id}, **who,
                 **kwargs)  # fmt: skip

    c1, c2, c4, c5 = ({"user_id": f"c-{n}"} for n in (1, 2, 4, 5))
    new("dn-oct-1", "2015-10-15 10:00", user)
    new("dn-oct-2", "2015-10-31 23:59:59", c1)
    # happened in October, received (and loaded) in November
    new("dn-late", "2015-10-20 10:00", c5, received=at("2015-11-02 10:00"))
    new("dn-nov-1", "2015-11-01 00:00:00", c1)
    new("dn-nov-2", "2015-11-10 10:00", c2)
    new("dn-nov-3", "2015-11-20 10:00", c1)
    new("dn-nov-4", "2015-11-30 23:59:59", {"anonymous_id": "anon-c3"})
    # a client clock in 2016, received in November
    new("dn-nov-5", "2016-01-15 10:00", c2, received=at("2015-11-25 10:00"))
    new("dn-nov-7", "2015-11-12 10:00", c4, in_event_table=False)
    new("ex-dn", "2015-11-15 10:00", {"user_id": "staff-1"})
    new("dn-dec-1", "2015-12-01 00:00:00", c1)
    new("dn-dec-2", "2015-12-15 10:00", c5)


def load_odd_tables(wh: RawWarehouse) -> None:
    who = {"user_id": "odd-u"}
    wh.track(P, "PlanUpgraded", "od-pu1", at("2024-03-10 10:00"),
             event_text="Plan Upgraded", properties={"plan": "team", "seats": 5},
             context_ip="10.0.0.1", **who)  # fmt: skip
    wh.track(P, "2fa_enabled", "od-2fa", at("2024-03-10 10:05"),
             event_text="2FA Enabled", properties={"method": "totp"},
             **who)  # fmt: skip
    wh.track(P, "order", "od-ord", at("2024-03-10 10:10"), event_text="Order",
             properties={"total": Decimal("19.99"), "currency": "EUR"},
             **who)  # fmt: skip
    # Not event tables: a lookup without the envelope, and a backup of identifies
    # (full envelope but no `event` column).
    wh.row(P, "customer_lookup", {"id": "odd-u", "email": "odd@example.com"})
    wh.row(
        P,
        "identifies_backup",
        {
            "id": "bk-1",
            "received_at": at("2024-03-10 10:00"),
            "uuid_ts": at("2024-03-10 11:00"),
            "user_id": "backup-u",
            "email": "backup@example.com",
        },
    )


def load_type_drift(wh: RawWarehouse) -> None:
    # size_gb: bigint in production, numeric in web. age: bigint vs text.
    wh.track(P, "storage_resized", "dr-p1", at("2024-03-12 10:00"),
             properties={"size_gb": 100}, user_id="drift-p")  # fmt: skip
    wh.track(W, "storage_resized", "dr-w1", at("2024-03-12 11:00"),
             properties={"size_gb": Decimal("2.5")}, user_id="drift-w")  # fmt: skip
    wh.identify(P, "dr-ip", at("2024-03-12 09:00"), user_id="drift-p", age=41)
    wh.identify(W, "dr-iw", at("2024-03-12 09:00"), user_id="drift-w", age="forty")
    wh.identify(P, "dr-ib1", at("2024-03-11 09:00"), user_id="drift-both", age=30)
    wh.identify(W, "dr-ib2", at("2024-03-12 09:00"), user_id="drift-both",
                age="thirty-one")  # fmt: skip


def load_timestamps(wh: RawWarehouse) -> None:
    dev = {"anonymous_id": "anon-clock"}
    wh.track(P, "clock_check", "tc-normal", at("2024-06-01 10:00"), **dev)
    wh.track(P, "clock_check", "tc-future", at("2099-01-01 00:00"),
             received=at("2024-06-01 11:00"), **dev)  # fmt: skip
    wh.track(P, "clock_check", "tc-no-timestamp", None,
             received=at("2024-06-02 12:00"), **dev)  # fmt: skip
    wh.track(P, "clock_check", "tc-load-only", None, received=None,
             loaded=at("2024-06-03 13:00"), **dev)  # fmt: skip
    wh.track(P, "clock_check", "tc-past", at("2024-05-01 08:00"),
             received=at("2024-06-04 09:00"), **dev)  # fmt: skip

    # An identify with a client clock in 2099, received 03-01: it links anon-fut to
    # fut-x at 03-01 10:00, so fu-t1 (fut-y, 03-02) is the device's latest link.
    wh.identify(P, "fu-i1", at("2099-01-01 00:00"), received=at("2024-03-01 10:00"),
                anonymous_id="anon-fut", user_id="fut-x")  # fmt: skip
    wh.track(P, "clicked", "fu-t1", at("2024-03-02 10:00"), anonymous_id="anon-fut",
             user_id="fut-y")  # fmt: skip
    wh.page(P, "fu-p1", at("2024-03-03 10:00"), anonymous_id="anon-fut", path="/")


@pytest.fixture(scope="module")
def marts(pg_cluster, tmp_path_factory) -> Iterator[SimpleNamespace]:
    """The scenario warehouse after one `dbt run` of every model."""
    name = "m_test_scenarios"
    admin = pg_cluster.conninfo("postgres")
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        conn.execute(
            sql.SQL("alter database {} set timezone = 'America/New_York'").format(
                sql.Identifier(name)
            )
        )
    conninfo = pg_cluster.conninfo(name)
    try:
        with psycopg.connect(**conninfo, autocommit=True) as conn:
            wh = RawWarehouse()
            for load in (
                load_identity,
                load_sessions,
                load_deployments,
                load_odd_tables,
                load_type_drift,
                load_timestamps,
            ):
                load(wh)
            wh.load(conn)
            conn.execute("create schema empty_source")
            dbt = DbtRunner(libpq_env(conninfo), tmp_path_factory.mktemp("dbt"))
            result = dbt(
                "run",
                vars={
                    "segment_schemas": SCHEMAS,
                    "session_timeout_minutes": 30,
                    "excluded_user_ids": EXCLUDED,
                },
            )
            yield SimpleNamespace(conn=conn, output=result.stdout)
    finally:
        with psycopg.connect(**admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(
                    sql.Identifier(name)
                )
            )


def resolved(conn: psycopg.Connection, prefix: str) -> list[tuple]:
    """(event_id, anonymous_id, user_id, resolved_user_id, person_id) by event_id."""
    return fetch(
        conn,
        "select event_id, anonymous_id, user_id, resolved_user_id, person_id "
        "from analytics.events where event_id like %s order by event_id",
        (prefix + "%",),
    )


def users(conn: psycopg.Connection, where: str, params: tuple = ()) -> list[tuple]:
    return fetch(
        conn,
        "select user_id, merged_user_ids, event_count, session_count, first_seen_at, "
        f"last_seen_at from analytics.users where {where} order by user_id",
        params,
    )


# ----------------------------------------------------------------------- identity


def test_alias_chain_resolves_to_the_latest_alias_user(marts):
    # Components: {chain-a, chain-b, chain-c}; the latest alias call (ch-al2, 03-05)
    # has user_id chain-c. anon-chain's latest link is ch-t1 (chain-a), anon-chain-2's
    # is ch-t2 (chain-b): both map to the canonical chain-c.
    assert resolved(marts.conn, "ch-") == [
        ("ch-p1", "anon-chain", None, "chain-c", "chain-c"),
        ("ch-p2", None, "chain-c", "chain-c", "chain-c"),
        ("ch-p3", "anon-chain-2", None, "chain-c", "chain-c"),
        ("ch-t1", "anon-chain", "chain-a", "chain-c", "chain-c"),
        ("ch-t2", "anon-chain-2", "chain-b", "chain-c", "chain-c"),
    ]
    # One users row; 5 events; sessions: anon-chain 03-01 and 03-02, anon-chain-2
    # 03-04 and 03-07, user:chain-c 03-06 (days apart, so 5 sessions).
    assert users(marts.conn, "user_id like 'chain-%'") == [
        (
            "chain-c",
            ["chain-a", "chain-b"],
            5,
            5,
            at("2024-03-01 10:00"),
            at("2024-03-07 10:00"),
        )
    ]


def test_fork_merges_both_previous_ids_and_keeps_latest_non_null_traits(marts):
    conn = marts.conn
    assert [row[3:] for row in resolved(conn, "fk-")] == [("fork-new", "fork-new")] * 3
    # plan: fk-i2 ('pro', 02-26) is the latest non-null (fk-i3 sent none);
    # name only in fk-i1; email only in fk-i3; three identify calls resolve here.
    assert fetch(
        conn,
        "select user_id, merged_user_ids, name, email, plan, identify_count, "
        "event_count, session_count from analytics.users "
        "where user_id like 'fork-%'",
    ) == [
        (
            "fork-new",
            ["fork-old1", "fork-old2"],
            "Fork One",
            "fork@example.com",
            "pro",
            3,
            3,
            3,
        )
    ]


def test_the_canonical_id_is_the_user_id_of_the_latest_alias_call(marts):
    # fl-al2 (flip-3 -> flip-1) is later than fl-al1 (flip-1 -> flip-2).
    assert resolved(marts.conn, "fl-") == [
        ("fl-t1", None, "flip-2", "flip-1", "flip-1")
    ]
    assert [row[:2] for row in users(marts.conn, "user_id like 'flip-%'")] == [
        ("flip-1", ["flip-2", "flip-3"])
    ]


def test_a_shared_device_never_rewrites_an_event_with_its_own_user_id(marts):
    # anon-shared's most recent link is sh-t2 (shared-y, 03-02 10:05): both anonymous
    # pages follow it, even sh-p1 which happened while shared-x was using the device.
    assert resolved(marts.conn, "sh-") == [
        ("sh-p1", "anon-shared", None, "shared-y", "shared-y"),
        ("sh-p2", "anon-shared", None, "shared-y", "shared-y"),
        ("sh-t1", "anon-shared", "shared-x", "shared-x", "shared-x"),
        ("sh-t2", "anon-shared", "shared-y", "shared-y", "shared-y"),
    ]
    # Sessions on the device: [sh-t1 (x), sh-p1 (y)] and [sh-t2, sh-p2]; the first
    # one's latest event with a resolved user id is sh-p1, so both belong to shared-y.
    assert fetch(
        marts.conn,
        "select session_number, person_id, resolved_user_id, event_count "
        "from analytics.sessions where device_key = 'anon-shared' order by started_at",
    ) == [(1, "shared-y", "shared-y", 2), (2, "shared-y", "shared-y", 2)]
    assert [
        (row[0], row[2]) for row in users(marts.conn, "user_id like 'shared-%'")
    ] == [("shared-x", 1), ("shared-y", 3)]


def test_junk_ids_are_null_and_link_or_merge_nothing(marts):
    conn = marts.conn
    assert resolved(conn, "jk-") == [
        # anon-junk's only "link" has user_id 'null': no link
        ("jk-p1", "anon-junk", None, None, "anon-junk"),
        # anonymous_id 'null' is no device (else it would follow jk-t2 to junk-u4)
        ("jk-p2", None, None, None, None),
        ("jk-t1", None, None, None, None),
        ("jk-t2", None, "junk-u4", "junk-u4", "junk-u4"),
        ("jk-t3", None, "junk-u5", "junk-u5", "junk-u5"),
        ("jk-t4", None, None, None, None),
        ("jk-t5", "anon-junk2", None, None, "anon-junk2"),
        ("jk-t6", None, "junk-u6", "junk-u6", "junk-u6"),
    ]
    # Calls without any id belong to no device and no session.
    assert fetch(
        conn,
        "select event_id, device_key, session_id from analytics.events "
        "where event_id in ('jk-t1', 'jk-t4', 'jk-p2') order by event_id",
    ) == [("jk-p2", None, None), ("jk-t1", None, None), ("jk-t4", None, None)]
    # 'undefined' -> junk-u4 and 'undefined' -> junk-u5 must not merge them.
    assert [row[:2] for row in users(conn, "user_id like 'junk-%'")] == [
        ("junk-u1", []),
        ("junk-u4", []),
        ("junk-u5", []),
        ("junk-u6", []),
    ]
    assert users(conn, "lower(trim(user_id)) = any(%s)", (list(JUNK),)) == []
    assert users(conn, "user_id like 'anon-%'") == []


def test_anonymous_history_before_identify_resolves_to_the_user(marts):
    assert resolved(marts.conn, "hs-") == [
        ("hs-p1", "anon-hist", None, "hist-u", "hist-u"),
        ("hs-p2", "anon-hist", None, "hist-u", "hist-u"),
        ("hs-t1", "anon-hist", "hist-u", "hist-u", "hist-u"),
    ]
    # Three sessions (02-20, 02-22, 03-01), first seen on the anonymous page.
    assert users(marts.conn, "user_id = 'hist-u'") == [
        ("hist-u", [], 3, 3, at("2024-02-20 10:00"), at("2024-03-01 09:01"))
    ]
    # The anonymous identify hs-i0 resolves to hist-u too: its trait counts.
    assert fetch(
        marts.conn,
        "select name, plan, identify_count from analytics.users "
        "where user_id = 'hist-u'",
    ) == [("Hist", "trial", 2)]
    assert fetch(
        marts.conn,
        "select session_number, person_id from analytics.sessions "
        "where device_key = 'anon-hist' order by started_at",
    ) == [(1, "hist-u"), (2, "hist-u"), (3, "hist-u")]


def test_an_alias_of_the_own_anonymous_id_links_only_an_unlinked_device(marts):
    assert resolved(marts.conn, "as-") == [
        ("as-p1", "anon-al1", None, "al-u1", "al-u1"),
        # the identify link (al-u3) wins over the more recent device alias (al-u2)
        ("as-p2", "anon-al2", None, "al-u3", "al-u3"),
    ]
    # The anonymous ids are devices, not user ids merged into the users.
    assert [row[:3] for row in users(marts.conn, "user_id like 'al-%'")] == [
        ("al-u1", [], 1),
        ("al-u2", [], 0),
        ("al-u3", [], 1),
    ]
    assert users(marts.conn, "user_id like 'anon-al%'") == []


def test_a_server_side_alias_of_an_anonymous_id_links_that_device(marts):
    # Identity rules: an alias whose previous_id is an anonymous id links that device
    # to the alias's user, used only when the device has no link of its own (an
    # identify or a call carrying both ids). anon-srv is an anonymous id (sv-p1's)
    # and has no identify or event link, so its page belongs to srv-u; anon-srv is a
    # device, not a user id merged into srv-u.
    assert resolved(marts.conn, "sv-") == [
        ("sv-p1", "anon-srv", None, "srv-u", "srv-u"),
        ("sv-t1", None, "srv-u", "srv-u", "srv-u"),
    ]
    assert [
        row[:3] for row in users(marts.conn, "user_id in ('srv-u', 'anon-srv')")
    ] == [("srv-u", [], 2)]


STAFF = ("staff-old", "staff-1", "anon-staff")


def test_an_excluded_user_leaves_every_mart_with_its_component(marts):
    conn = marts.conn
    assert (
        fetch(
            conn,
            "select event_id from analytics.events where event_id like 'ex-%%' "
            "or person_id = any(%s) or user_id = any(%s) or anonymous_id = any(%s)",
            (list(STAFF),) * 3,
        )
        == []
    )
    assert (
        fetch(
            conn,
            "select session_id from analytics.sessions where person_id = any(%s) "
            "or anonymous_id = any(%s) or device_key in ('anon-staff', 'user:staff-1',"
            " 'user:staff-old')",
            (list(STAFF),) * 2,
        )
        == []
    )
    assert users(conn, "user_id like 'staff-%'") == []
    for mart in ("daily_event_counts", "monthly_event_counts"):
        assert (
            fetch(
                conn,
                f"select * from analytics.{mart} where event_name = 'staff_only_event'",
            )
            == []
        )
    assert (
        fetch(
            conn,
            "select * from analytics.deployment_views_by_user "
            "where person_id = any(%s) or user_id = any(%s)",
            (list(STAFF),) * 2,
        )
        == []
    )
    # 2024-02-27 only had ex-p1. Its 7- and 28-day windows hold hs-p2 (hist-u, 02-22),
    # fk-t1 and fk-t2 (fork-new, 02-25/26), hs-p1 (hist-u, 02-20): 2 persons.
    assert fetch(
        conn,
        "select active_users_1d, active_users_7d, active_users_28d, new_users "
        "from analytics.daily_active_users where activity_date = '2024-02-27'",
    ) == [(0, 2, 2, 0)]


def test_an_excluded_user_on_a_shared_device_takes_only_what_maps_to_it(marts):
    # anon-mixed's most recent link is mx-i2 (staff-1, excluded): both anonymous
    # pages follow it and leave; mx-t1 carries mix-u's own id and stays.
    assert resolved(marts.conn, "mx-") == [
        ("mx-t1", "anon-mixed", "mix-u", "mix-u", "mix-u")
    ]
    assert fetch(
        marts.conn,
        "select person_id, event_count from analytics.sessions "
        "where device_key = 'anon-mixed'",
    ) == [("mix-u", 1)]
    assert users(marts.conn, "user_id = 'mix-u'") == [
        ("mix-u", [], 1, 1, at("2024-03-08 09:05"), at("2024-03-08 09:05"))
    ]


# ----------------------------------------------------------------------- sessions


def test_a_gap_of_exactly_the_timeout_does_not_start_a_session(marts):
    conn = marts.conn
    groups = fetch(
        conn,
        "select array_agg(event_id order by occurred_at) from analytics.events "
        "where device_key = 'anon-sess' group by session_id order by min(occurred_at)",
    )
    # 29:59 and 30:00 gaps stay in the session; only the 30:01 gap splits.
    assert [row[0] for row in groups] == [
        ["ss-1a", "ss-1b"],
        ["ss-2a", "ss-2b", "ss-2c"],
        ["ss-3a"],
        ["ss-3b"],
    ]
    assert fetch(
        conn,
        "select event_id, event_type, event_name from analytics.events "
        "where device_key = 'anon-sess' order by event_id",
    ) == [
        ("ss-1a", "page", "page_view"),
        ("ss-1b", "track", "clicked"),
        ("ss-2a", "screen", "screen_view"),
        ("ss-2b", "page", "page_view"),
        ("ss-2c", "track", "clicked"),
        ("ss-3a", "track", "clicked"),
        ("ss-3b", "screen", "screen_view"),
    ]
    # No link anywhere: the person is the anonymous id.
    assert fetch(
        conn,
        "select session_number, person_id, resolved_user_id, anonymous_id, "
        "started_at, ended_at, duration_seconds, event_count, page_view_count, "
        "landing_page_path, exit_page_path from analytics.sessions "
        "where device_key = 'anon-sess' order by started_at",
    ) == [
        (1, "anon-sess", None, "anon-sess", at("2024-04-01 10:00:00"),
         at("2024-04-01 10:29:59"), 1799, 2, 1, "/pricing", "/pricing"),
        (2, "anon-sess", None, "anon-sess", at("2024-04-01 12:00:00"),
         at("2024-04-01 13:00:00"), 3600, 3, 1, "/docs", "/docs"),
        (3, "anon-sess", None, "anon-sess", at("2024-04-01 14:00:00"),
         at("2024-04-01 14:00:00"), 0, 1, 0, None, None),
        (4, "anon-sess", None, "anon-sess", at("2024-04-01 14:30:01"),
         at("2024-04-01 14:30:01"), 0, 1, 0, None, None),
    ]  # fmt: skip
    # Every event's session is a row of the sessions mart.
    assert fetch(
        conn,
        "select count(*) from analytics.events as e where device_key = 'anon-sess' "
        "and not exists (select from analytics.sessions as s "
        "where s.session_id = e.session_id)",
    ) == [(0,)]


def test_days_are_utc_days(marts):
    assert fetch(
        marts.conn,
        "select session_date, started_at from analytics.sessions "
        "where device_key = 'anon-night'",
    ) == [(date(2024, 4, 8), at("2024-04-08 02:00"))]
    assert fetch(
        marts.conn,
        "select activity_date from analytics.events where event_id = 'ss-night'",
    ) == [(date(2024, 4, 8),)]


def test_session_numbers_count_per_person_across_stitched_devices(marts):
    # Both devices link to sess-u (sd-t1, sd-s1); sessions numbered by start time
    # over both devices: d1 04-02 09:00, d2 04-02 09:20, d2 04-03, d1 04-04.
    assert fetch(
        marts.conn,
        "select session_number, device_key, resolved_user_id, started_at, "
        "event_count from analytics.sessions where person_id = 'sess-u' "
        "order by session_number",
    ) == [
        (1, "anon-d1", "sess-u", at("2024-04-02 09:00"), 2),
        (2, "anon-d2", "sess-u", at("2024-04-02 09:20"), 1),
        (3, "anon-d2", "sess-u", at("2024-04-03 08:00"), 1),
        (4, "anon-d1", "sess-u", at("2024-04-04 12:00"), 1),
    ]
    assert users(marts.conn, "user_id = 'sess-u'") == [
        ("sess-u", [], 5, 4, at("2024-04-02 09:00"), at("2024-04-04 12:00"))
    ]


def test_a_session_belongs_to_its_latest_resolved_event(marts):
    # anon-sw maps to sw-y (latest link sw-t2), so sw-p1 resolves to sw-y; but the
    # latest event of the first session is sw-t1 (its own user id sw-x).
    assert resolved(marts.conn, "sw-") == [
        ("sw-p1", "anon-sw", None, "sw-y", "sw-y"),
        ("sw-t1", "anon-sw", "sw-x", "sw-x", "sw-x"),
        ("sw-t2", "anon-sw", "sw-y", "sw-y", "sw-y"),
    ]
    assert fetch(
        marts.conn,
        "select session_number, person_id, resolved_user_id, anonymous_id, "
        "event_count from analytics.sessions where device_key = 'anon-sw' "
        "order by started_at",
    ) == [(1, "sw-x", "sw-x", "anon-sw", 2), (1, "sw-y", "sw-y", "anon-sw", 1)]


# ------------------------------------------------------------ the seed's queries


def test_deployment_views_joined_to_the_viewer(marts):
    ada = ("dep-user", "Ada Lovelace", "ada@analytical.example")
    rows = fetch(
        marts.conn,
        "select deployment_name, person_id, user_id, user_name, user_email, "
        "deployment_type, view_count, first_viewed_at, last_viewed_at "
        "from analytics.deployment_views_by_user "
        "order by deployment_name nulls last, person_id",
    )
    assert rows == [
        ("billing-api", *ada[:1], *ada, "redis", 1, at("2015-10-04 11:00"),
         at("2015-10-04 11:00")),
        # never identified: no user, no traits
        ("orders-db", "anon-other-dep", None, None, None, "postgres", 3,
         at("2015-10-05 10:00"), at("2015-10-07 10:00")),
        # 3 anonymous views + 14 daily + dv-u14 = 18 (dv-u00's second copy and
        # staff-1's view do not count); the first is the anonymous 10-01 09:00, the
        # last dv-u14 capped at its received_at; deployment_type is the latest
        # non-null ('postgres': dv-u14 sent none); the email is dv-i2's, the name
        # dv-i1's.
        ("orders-db", *ada[:1], *ada, "postgres", 18, at("2015-10-01 09:00"),
         at("2015-10-20 12:00")),
        # dv-t1 is only in tracks: a deployments_show with no properties
        (None, *ada[:1], *ada, None, 1, at("2015-10-09 12:00"),
         at("2015-10-09 12:00")),
    ]  # fmt: skip


def test_monthly_deployments_created(marts):
    # Oct: dn-oct-1 (dep-user), dn-oct-2 (c-1, 10-31 23:59:59Z), dn-late (c-5,
    # happened 10-20, received 11-02).
    # Nov: dn-nov-1 (c-1, 11-01 00:00:00Z), -2 (c-2), -3 (c-1), -4 (anon-c3,
    # 11-30 23:59:59Z), -5 (c-2, clock in 2016, received 11-25), -7 (c-4, tracks
    # only); ex-dn is excluded: 6 deployments by c-1, c-2, anon-c3, c-4.
    # Dec: dn-dec-1 (c-1, 12-01 00:00:00Z), dn-dec-2 (c-5).
    assert fetch(
        marts.conn,
        "select event_month, deployments_created, creators "
        "from analytics.monthly_deployments_created order by event_month",
    ) == [
        (date(2015, 10, 1), 3, 3),
        (date(2015, 11, 1), 6, 4),
        (date(2015, 12, 1), 2, 2),
    ]


# ---------------------------------------------------------- odd names and sources


def test_odd_event_table_names_keep_their_name_and_properties(marts):
    assert fetch(
        marts.conn,
        "select event_id, event_name, event_text, properties from analytics.events "
        "where event_id like 'od-%' order by event_id",
    ) == [
        ("od-2fa", "2fa_enabled", "2FA Enabled", {"method": "totp"}),
        ("od-ord", "order", "Order", {"total": 19.99, "currency": "EUR"}),
        # context_ip is context, not a property
        ("od-pu1", "PlanUpgraded", "Plan Upgraded", {"plan": "team", "seats": 5}),
    ]
    assert fetch(
        marts.conn,
        "select event_name, event_count from analytics.daily_event_counts "
        "where activity_date = '2024-03-10' order by event_name collate \"C\"",
    ) == [("2fa_enabled", 1), ("PlanUpgraded", 1), ("order", 1)]


def test_tables_without_the_envelope_are_ignored(marts):
    conn = marts.conn
    assert (
        fetch(
            conn,
            "select event_id from analytics.events where event_name in "
            "('customer_lookup', 'identifies_backup') or event_id = 'bk-1'",
        )
        == []
    )
    assert users(conn, "user_id = 'backup-u'") == []
    assert "customer_lookup" in marts.output
    assert "identifies_backup" in marts.output


def test_an_empty_source_contributes_nothing(marts):
    conn = marts.conn
    for mart in ("events", "sessions"):
        assert fetch(
            conn,
            f"select source_schema, count(*) from analytics.{mart} "
            "where source_schema in ('web', 'empty_source') group by 1",
        ) == [("web", 1)]


def test_a_missing_source_schema_is_an_error_naming_it(conn, dbt):
    conn.execute("create schema production")
    result = dbt("run", vars={"segment_schemas": [P, "no_such_source"]}, check=False)
    assert result.returncode != 0
    assert "no_such_source" in result.stdout


# --------------------------------------------------------- type drift and clocks


def test_type_drift_between_sources_keeps_the_values(marts):
    conn = marts.conn
    assert fetch(
        conn,
        "select source_schema, event_id, event_name, properties "
        "from analytics.events where event_id like 'dr-%' order by event_id",
    ) == [
        ("production", "dr-p1", "storage_resized", {"size_gb": 100}),
        ("web", "dr-w1", "storage_resized", {"size_gb": 2.5}),
    ]
    # drift-both: 30 (production, 03-11), then 'thirty-one' (web, 03-12)
    assert fetch(
        conn,
        "select user_id, age::text from analytics.users "
        "where user_id like 'drift-%' order by user_id",
    ) == [("drift-both", "thirty-one"), ("drift-p", "41"), ("drift-w", "forty")]


def test_occurred_at_is_capped_at_received_at_with_fallbacks(marts):
    assert fetch(
        marts.conn,
        "select event_id, occurred_at, activity_date from analytics.events "
        "where event_id like 'tc-%' order by event_id",
    ) == [
        ("tc-future", at("2024-06-01 11:00"), date(2024, 6, 1)),  # 2099 -> received
        ("tc-load-only", at("2024-06-03 13:00"), date(2024, 6, 3)),  # uuid_ts
        ("tc-no-timestamp", at("2024-06-02 12:00"), date(2024, 6, 2)),  # received
        ("tc-normal", at("2024-06-01 10:00"), date(2024, 6, 1)),
        ("tc-past", at("2024-05-01 08:00"), date(2024, 5, 1)),  # late, stays old
    ]
    assert fetch(
        marts.conn,
        "select activity_date, event_count, person_count "
        "from analytics.daily_event_counts where event_name = 'clock_check' "
        "order by activity_date",
    ) == [
        (date(2024, 5, 1), 1, 1),
        (date(2024, 6, 1), 2, 1),
        (date(2024, 6, 2), 1, 1),
        (date(2024, 6, 3), 1, 1),
    ]


def test_a_future_clock_does_not_make_the_latest_identity_link(marts):
    assert resolved(marts.conn, "fu-") == [
        ("fu-p1", "anon-fut", None, "fut-y", "fut-y"),
        ("fu-t1", "anon-fut", "fut-y", "fut-y", "fut-y"),
    ]


def test_future_clocks_reach_no_future_day(marts):
    # The latest occurred_at of the whole warehouse is tc-load-only (2024-06-03):
    # tc-past was received 06-04 but happened 05-01; 2031, 2099 and 2016 clocks are
    # capped at their received_at.
    conn = marts.conn
    for mart in ("daily_event_counts", "daily_active_users"):
        assert fetch(conn, f"select max(activity_date) from analytics.{mart}") == [
            (date(2024, 6, 3),)
        ]
    assert fetch(
        conn, "select max(event_month) from analytics.monthly_event_counts"
    ) == [(date(2024, 6, 1),)]
    assert fetch(conn, "select max(session_date) from analytics.sessions") == [
        (date(2024, 6, 3),)
    ]
