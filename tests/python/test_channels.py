"""Acquisition channels: `sessions.channel` and `users.first_touch_channel`.

Each case is one anonymous device with one session whose first call carries the
referrer and utm fields of the case; its channel is worked out by hand from Google
Analytics 4's default channel group rules (README, "For analysts", channels) and
the seed seeds/referrer_domains.csv, with the reason beside it. The site's own
domain is harbordb.example (var internal_domains). The server runs in
Asia/Kolkata; nothing here depends on it, which is the point.

Changing the rules (the var, or the seed's file) must reclassify every stored
session on the next run, which must then equal a full build.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest

from dbt_helpers import (
    REPO_ROOT,
    SEEDS_AND_MODELS,
    DbtRunner,
    libpq_env,
    project_copy,
)
from incremental_helpers import describe, mart_differences
from segment_rows import RawWarehouse, at

P = "production"
INTERNAL = ["harbordb.example"]
START = at("2024-04-01 08:00")

# (case, referrer, utm_source, utm_medium, utm_campaign, channel): why
# fmt: off
CASES = [
    # no utm fields: the referrer decides
    ("none", None, None, None, None, "Direct"),  # no referrer
    ("internal-sub", "https://app.harbordb.example/account", None, None, None,
     "Direct"),  # a subdomain of an internal domain counts as no referrer
    ("internal", "https://harbordb.example/", None, None, None, "Direct"),
    ("lookalike", "https://notharbordb.example/", None, None, None,
     "Referral"),  # ends with the domain but not with "." + it: external
    ("google", "https://www.google.com/search?q=x", None, None, None,
     "Organic Search"),  # www.google.com ends with .google.com (search)
    ("bing-odd", "HTTPS://user@WWW.Bing.com:443/search", None, None, None,
     "Organic Search"),  # scheme, user info, port and case do not matter
    ("tco", "https://t.co/abc", None, None, None, "Organic Social"),
    ("hn", "https://news.ycombinator.com/item?id=1", None, None, None,
     "Organic Social"),
    ("youtube", "https://m.youtube.com/watch?v=1", None, None, None,
     "Organic Video"),
    ("amazon", "https://www.amazon.com/dp/1", None, None, None,
     "Organic Shopping"),
    ("gmail", "https://mail.google.com/mail/u/0/", None, None, None,
     "Email"),  # the longest match (mail.google.com, email) beats google.com
    ("blog", "https://blog.example.org/post", None, None, None,
     "Referral"),  # external and in no list
    ("blank-utm", "https://www.google.com/", "", " ", None,
     "Organic Search"),  # blank utm fields are not campaign fields
    # utm fields: GA4's rules in order, source matched against the seed
    ("cpc", None, "google", "cpc", "brand", "Paid Search"),
    ("cpc-case", None, "Google", "CPC", None, "Paid Search"),  # no case
    ("paid-social", None, "linkedin", "paid_social", None,
     "Paid Social"),  # paid_social matches ^paid.*
    ("social", None, "twitter", "social", None, "Organic Social"),
    ("email", "https://www.google.com/", "newsletter", "email", None,
     "Email"),  # utm fields win over the referrer
    ("referral", None, "partner", "referral", None, "Referral"),
    ("video-ad", None, "youtube", "cpc", None, "Paid Video"),
    ("shop-ad", None, "amazon", "ppc", None, "Paid Shopping"),
    ("shop-campaign", None, "bing", "cpc", "summer_shop",
     "Paid Shopping"),  # campaign matches the shopping regex before search
    ("workshop", None, "bing", "cpc", "workshop",
     "Paid Search"),  # "kshop" is not a shop word in GA4's regex
    ("display", None, "adnetwork", "display", None, "Display"),
    ("cpm", None, "adnetwork", "cpm", None, "Display"),
    ("paid-other", None, "adnetwork", "cpc", None,
     "Paid Other"),  # paid medium, source in no list
    ("affiliate", None, "coupons", "affiliate", None, "Affiliates"),
    ("sms", None, "sms", None, None, "SMS"),
    ("audio", None, "podcast", "audio", None, "Audio"),
    ("push", None, "app", "app-push", None, "Mobile Push Notifications"),
    ("cross", None, "google", "cpc", "q4 cross-network",
     "Cross-network"),  # before every paid rule
    ("utm-direct", None, "(direct)", "(none)", None, "Direct"),
    ("organic", None, "someengine", "organic", None, "Organic Search"),
    ("video-medium", None, "someplayer", "video", None, "Organic Video"),
    ("source-only", None, "foo", None, None,
     "Unassigned"),  # campaign traffic that no rule knows
    ("campaign-only", "https://www.google.com/", None, None, "spring",
     "Unassigned"),  # a utm field is set, so the referrer is not read
]
# fmt: on


def _load_cases(wh: RawWarehouse) -> None:
    for number, (case, referrer, source, medium, campaign, _) in enumerate(CASES):
        wh.page(
            P,
            f"ch-{case}",
            START + timedelta(minutes=number),
            anonymous_id=f"anon-{case}",
            path="/",
            referrer=referrer,
            context_page_referrer=referrer,
            context_campaign_source=source,
            context_campaign_medium=medium,
            context_campaign_name=campaign,
        )


def _load_first_touch(wh: RawWarehouse) -> None:
    # One user, two devices. Device 1: a paid search visit on 04-02, anonymous, then
    # a sign-in; device 2: a newsletter click on 04-05. Their first session is the
    # paid one, so first_touch_channel is Paid Search.
    wh.page(P, "ft-p1", at("2024-04-02 09:00"), anonymous_id="anon-ft-1", path="/",
            context_campaign_source="google",
            context_campaign_medium="cpc")  # fmt: skip
    wh.identify(P, "ft-i1", at("2024-04-02 09:05"), anonymous_id="anon-ft-1",
                user_id="ft-user")  # fmt: skip
    wh.page(P, "ft-p2", at("2024-04-05 09:00"), anonymous_id="anon-ft-2",
            user_id="ft-user", path="/",
            context_campaign_source="newsletter",
            context_campaign_medium="email")  # fmt: skip
    # The first event of a session decides: a track from t.co, then a paid page.
    wh.track(P, "clicked", "ft-t3", at("2024-04-03 10:00"), anonymous_id="anon-ft-3",
             context_page_referrer="https://t.co/x")  # fmt: skip
    wh.page(P, "ft-p3", at("2024-04-03 10:05"), anonymous_id="anon-ft-3", path="/",
            context_campaign_source="google",
            context_campaign_medium="cpc")  # fmt: skip


@pytest.fixture(scope="module")
def warehouse(pg_database_in_zone, tmp_path_factory) -> Iterator[SimpleNamespace]:
    conninfo = pg_database_in_zone("Asia/Kolkata")
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        wh = RawWarehouse()
        _load_cases(wh)
        _load_first_touch(wh)
        wh.load(conn)
        dbt = DbtRunner(libpq_env(conninfo), tmp_path_factory.mktemp("dbt"))
        dbt("run", vars={"internal_domains": INTERNAL})
        yield SimpleNamespace(conn=conn, conninfo=conninfo, dbt=dbt)


def channels(conn: psycopg.Connection, schema: str = "analytics") -> dict[str, str]:
    rows = conn.execute(
        f"select anonymous_id, channel from {schema}.sessions "
        "where anonymous_id like 'anon-%'"
    ).fetchall()
    return {anonymous_id.removeprefix("anon-"): name for anonymous_id, name in rows}


@pytest.mark.parametrize(
    ("case", "expected"), [(case[0], case[-1]) for case in CASES], ids=lambda v: v
)
def test_session_channel(warehouse, case, expected):
    assert channels(warehouse.conn)[case] == expected


def test_the_first_event_of_the_session_decides(warehouse):
    # anon-ft-3's session starts with the t.co track; the paid page comes later.
    assert channels(warehouse.conn)["ft-3"] == "Organic Social"


def test_first_touch_channel_is_the_first_sessions(warehouse):
    rows = warehouse.conn.execute(
        "select first_touch_channel, session_count from analytics.users "
        "where user_id = 'ft-user'"
    ).fetchall()
    assert rows == [("Paid Search", 2)]


def _rebuilt_fresh(warehouse, tmp_path: Path, vars: dict, project: Path = REPO_ROOT):
    """A full build of the same raw data in schema `fresh`."""
    fresh = DbtRunner(
        libpq_env(warehouse.conninfo), tmp_path / "fresh", "fresh", project_dir=project
    )
    fresh("run", "--full-refresh", vars=vars)


def test_changing_internal_domains_reclassifies_stored_sessions(warehouse, tmp_path):
    # Without internal domains, the app's own referrers are external: Referral.
    wider = {"internal_domains": []}
    warehouse.dbt("run", vars=wider)
    found = channels(warehouse.conn)
    assert (found["internal-sub"], found["internal"]) == ("Referral", "Referral")
    _rebuilt_fresh(warehouse, tmp_path, wider)
    assert describe(mart_differences(warehouse.conn, "analytics", "fresh")) == ""
    warehouse.dbt("run", vars={"internal_domains": INTERNAL})
    assert channels(warehouse.conn)["internal-sub"] == "Direct"


def test_editing_the_seed_reclassifies_stored_sessions(warehouse, tmp_path):
    # A copy of the project whose seed lists blog.example.org as social: the next
    # run of the existing marts reclassifies the blog referrer, and equals a full
    # build with the edited seed.
    seed = (REPO_ROOT / "seeds" / "referrer_domains.csv").read_text()
    project = project_copy(
        tmp_path / "project",
        {"referrer_domains": seed + "blog.example.org,social\n"},
    )
    edited = DbtRunner(
        libpq_env(warehouse.conninfo), tmp_path / "edited", project_dir=project
    )
    internal = {"internal_domains": INTERNAL}
    edited("run", vars=internal)  # the edited seed too: a runner's first run
    assert channels(warehouse.conn)["blog"] == "Organic Social"
    _rebuilt_fresh(warehouse, tmp_path, internal, project)
    assert describe(mart_differences(warehouse.conn, "analytics", "fresh")) == ""
    # Back to the checkout's seed: Referral again.
    warehouse.dbt("build", *SEEDS_AND_MODELS, vars=internal)
    assert channels(warehouse.conn)["blog"] == "Referral"


def test_a_wrong_internal_domain_is_refused(warehouse):
    result = warehouse.dbt(
        "run", vars={"internal_domains": ["https://harbordb.example/"]}, check=False
    )
    assert result.returncode != 0
    assert "internal_domains must hold host names" in result.stdout
