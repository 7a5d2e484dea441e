"""accounts and account_members, from group calls and Segment's accounts tables.

Hand-worked scenario (README, "For analysts", accounts); the latest event day of
the warehouse is 2024-05-31, so the 28-day window is 05-04 to 05-31.

- g1: anon-acc-1 groups it (name Acme, plan free) and is then identified as acc-u1,
  who groups it again (plan pro), then twice at the same instant (plan team-a as
  ac-g3a, team-b as ac-g3b: the later message id wins the tie). acc-u2 groups it
  in April. The excluded acc-x groups it too. Its accounts-table row says industry
  Retail and plan enterprise: the group calls' plan wins, the table fills industry.
- g2: acc-u2 alone (name Beta): acc-u2 is a member of two accounts.
- g3: only in the accounts table.
- g4: only acc-x's call: no account.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import psycopg
import pytest

from dbt_helpers import DbtRunner, libpq_env
from segment_rows import RawWarehouse, at

P = "production"


def _load(wh: RawWarehouse) -> None:
    wh.page(P, "ac-p1", at("2024-05-01 10:00"), anonymous_id="anon-acc-1", path="/")
    wh.call(P, "groups", "ac-g1", at("2024-05-01 10:05"), anonymous_id="anon-acc-1",
            group_id="g1", name="Acme", plan="free")  # fmt: skip
    wh.identify(P, "ac-i1", at("2024-05-02 09:00"), anonymous_id="anon-acc-1",
                user_id="acc-u1")  # fmt: skip
    wh.call(P, "groups", "ac-g2", at("2024-05-03 09:00"), user_id="acc-u1",
            group_id="g1", plan="pro")  # fmt: skip
    for message_id, plan in (("ac-g3b", "team-b"), ("ac-g3a", "team-a")):
        wh.call(P, "groups", message_id, at("2024-05-04 12:00"), user_id="acc-u1",
                group_id="g1", plan=plan)  # fmt: skip
    wh.page(P, "ac-p2", at("2024-05-31 09:00"), user_id="acc-u1", path="/")
    wh.track(P, "logged_in", "ac-t1", at("2024-04-10 08:00"), user_id="acc-u2")
    wh.call(P, "groups", "ac-g4", at("2024-04-10 08:05"), user_id="acc-u2",
            group_id="g1")  # fmt: skip
    wh.call(P, "groups", "ac-g5", at("2024-04-11 08:00"), user_id="acc-u2",
            group_id="g2", name="Beta")  # fmt: skip
    wh.call(P, "groups", "ac-g6", at("2024-05-05 08:00"), user_id="acc-x",
            group_id="g1", plan="hidden")  # fmt: skip
    wh.call(P, "groups", "ac-g7", at("2024-05-05 08:00"), user_id="acc-x",
            group_id="g4", name="Hidden")  # fmt: skip
    for account, traits in (
        ("g1", {"industry": "Retail", "plan": "enterprise"}),
        ("g3", {"name": "Gamma", "plan": "free"}),
    ):
        wh.row(P, "accounts", {
            "id": account,
            "received_at": at("2024-05-06 00:00"),
            "uuid_ts": at("2024-05-06 01:00"),
            **traits,
        })  # fmt: skip


@pytest.fixture(scope="module")
def warehouse(pg_database_in_zone, tmp_path_factory) -> Iterator[SimpleNamespace]:
    conninfo = pg_database_in_zone("Asia/Kolkata")
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        wh = RawWarehouse()
        _load(wh)
        wh.load(conn)
        dbt = DbtRunner(libpq_env(conninfo), tmp_path_factory.mktemp("dbt"))
        dbt("run", vars={"excluded_user_ids": ["acc-x"]})
        yield SimpleNamespace(conn=conn)


def test_accounts(warehouse):
    rows = warehouse.conn.execute(
        "select group_id, name, plan, industry, group_call_count, member_count,"
        " active_members_28d, first_seen_at, last_seen_at"
        " from analytics.accounts order by group_id"
    ).fetchall()
    assert rows == [
        # five kept calls (acc-x's is left out); acc-u1 active on 05-31, acc-u2
        # last on 04-10 (group calls are not events)
        ("g1", "Acme", "team-b", "Retail", 5, 2, 1,
         at("2024-04-10 08:05"), at("2024-05-04 12:00")),
        ("g2", "Beta", None, None, 1, 1, 0,
         at("2024-04-11 08:00"), at("2024-04-11 08:00")),
        ("g3", "Gamma", "free", None, 0, 0, 0, None, None),
    ]  # fmt: skip


def test_account_members(warehouse):
    rows = warehouse.conn.execute(
        "select group_id, person_id, first_grouped_at, last_grouped_at"
        " from analytics.account_members order by group_id, person_id"
    ).fetchall()
    assert rows == [
        # the anonymous call of 05-01 counts for acc-u1, who identified later
        ("g1", "acc-u1", at("2024-05-01 10:05"), at("2024-05-04 12:00")),
        ("g1", "acc-u2", at("2024-04-10 08:05"), at("2024-04-10 08:05")),
        ("g2", "acc-u2", at("2024-04-11 08:00"), at("2024-04-11 08:00")),
    ]
