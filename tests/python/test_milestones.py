"""Milestone actions: actions.yml, the outbox, RabbitMQ and webhooks.

Real `segment-reports run` processes against a test database built from raw
Segment tables written by hand, a real RabbitMQ broker (the `rabbitmq` session
fixture) and a real HTTP endpoint on loopback. The expected person behind each
threshold comes from the test's own data:

- five users whose first `signed_up` events are at known times, in an order
  unlike their ids (SIGNUPS);
- 1,003 customers (the demo's meaning: persons who downloaded an invoice), each
  with an identify call carrying an email, whose first downloads follow a
  shuffled order (CUSTOMERS). The first sync holds the 998 earliest; a later one
  the next three, the 1000th among them; a last one the two latest.

Runs build only what the milestones read (`--select events users`) unless a
sync brought new raw data (`--select +events +users`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import subprocess
import threading
import uuid
from collections import Counter
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pika
import psycopg
import pytest
import yaml
from psycopg import sql

from conftest import _fresh_database
from dbt_helpers import CLI, REPO_ROOT, cli_environment, libpq_env, sr
from segment_reports import milestones as actions
from segment_rows import RawWarehouse, at

# user: (first sign-up, plan); u2 signs up a second time later, which counts once
SIGNUPS = {
    "u4": ("2024-03-01 10:00", "pro"),
    "u2": ("2024-03-01 11:00", "free"),
    "u5": ("2024-03-01 12:00", "pro"),
    "u1": ("2024-03-01 13:00", "free"),
    "u3": ("2024-03-01 14:00", "pro"),
}
ORDER = sorted(SIGNUPS, key=lambda user: SIGNUPS[user][0])  # u4, u2, u5, u1, u3


# customer k's first invoice download: minute (k * 7919) % 1009 of 2024-03-04,
# all distinct (1009 is prime); the order of the times is the order they count in
CUSTOMERS = sorted(
    (at("2024-03-04 00:00") + timedelta(minutes=(k * 7919) % 1009), f"c{k:04d}")
    for k in range(1, 1004)
)
SYNCS = (CUSTOMERS[:998], CUSTOMERS[998:1001], CUSTOMERS[1001:])
THOUSANDTH = CUSTOMERS[999]
MARTS_ONLY = ("--select", "events", "users")
NEW_DATA = ("--select", "+events", "+users")


def customers(raw: RawWarehouse, batch, loaded=None) -> None:
    """An identify and an invoice download per customer; one in ten downloads a
    second invoice a day later (a person counts once)."""
    later = {} if loaded is None else {"loaded": loaded}
    for number, (when, user) in enumerate(batch):
        raw.identify("production", f"i-{user}", when - timedelta(seconds=30),
                     user_id=user, email=f"{user}@example.com", **later)  # fmt: skip
        for repeat in range(2 if number % 10 == 0 else 1):
            raw.track("production", "invoice_downloaded", f"d{repeat}-{user}",
                      when + timedelta(days=repeat), user_id=user,
                      properties={"invoice_id": f"inv-{user}-{repeat}"},
                      **later)  # fmt: skip


def raw_data() -> RawWarehouse:
    raw = RawWarehouse()
    for number, (user, (when, plan)) in enumerate(SIGNUPS.items()):
        raw.track("production", "signed_up", f"s-{user}", at(when),
                  anonymous_id=f"a-{user}", user_id=user)  # fmt: skip
        raw.identify("production", f"i-{user}", at(when), anonymous_id=f"a-{user}",
                     user_id=user, email=f"{user}@example.com", plan=plan,
                     seats=number + 1)  # fmt: skip
    raw.track("production", "signed_up", "s-u2-again", at("2024-03-02 09:00"),
              user_id="u2")  # fmt: skip
    raw.page("production", "p-visitor", at("2024-03-01 09:00"), anonymous_id="a-x")
    customers(raw, SYNCS[0])
    return raw


def a_later_sync(conn: psycopg.Connection, batch, loaded: datetime) -> None:
    """Customers loaded (uuid_ts) at `loaded`, after every earlier sync."""
    raw = RawWarehouse()
    customers(raw, batch, loaded)
    for table in raw.tables.values():
        names = [name for name, _ in table.columns()]
        with conn.cursor() as cursor:
            cursor.executemany(
                sql.SQL("insert into {} ({}) values ({})").format(
                    sql.Identifier(table.schema, table.name),
                    sql.SQL(", ").join(map(sql.Identifier, names)),
                    sql.SQL(", ").join(sql.Placeholder() * len(names)),
                ),
                [[row.get(name) for name in names] for row in table.rows],
            )


def a_sixth_user(conn: psycopg.Connection) -> None:
    """u6 signs up after everyone else, loaded by a later sync."""
    conn.execute(
        "insert into production.tracks (id, received_at, uuid_ts, timestamp,"
        " sent_at, original_timestamp, anonymous_id, user_id, event, event_text)"
        " values ('s-u6', '2024-03-03 10:00:05+00', '2024-04-01 00:00+00',"
        " '2024-03-03 10:00+00', '2024-03-03 10:00+00', '2024-03-03 10:00+00',"
        " 'a-u6', 'u6', 'signed_up', 'Signed Up')"
    )
    conn.execute(
        "insert into production.signed_up (id, received_at, uuid_ts, timestamp,"
        " sent_at, original_timestamp, anonymous_id, user_id, event, event_text)"
        " select id, received_at, uuid_ts, timestamp, sent_at, original_timestamp,"
        " anonymous_id, user_id, event, event_text from production.tracks"
        " where id = 's-u6'"
    )


@pytest.fixture(scope="module")
def warehouse(pg_cluster, tmp_path_factory) -> dict:
    """One database for the module, its raw tables loaded and built once."""
    with _fresh_database(pg_cluster, "milestones") as conninfo:
        with psycopg.connect(**conninfo, autocommit=True) as conn:
            raw_data().load(conn)
        env = cli_environment(libpq_env(conninfo), tmp_path_factory.mktemp("built"))
        built = sr(env, "run", "--quiet")
        assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
        yield conninfo


@pytest.fixture
def env(warehouse, tmp_path) -> dict[str, str]:
    return cli_environment(libpq_env(warehouse), tmp_path)


@pytest.fixture
def db(warehouse):
    with psycopg.connect(**warehouse, autocommit=True) as conn:
        yield conn


def write_actions(env: dict[str, str], *milestones: dict) -> None:
    Path(env["SEGMENT_REPORTS_ACTIONS"]).write_text(
        yaml.safe_dump({"milestones": list(milestones)})
    )


def amqp_milestone(broker, name: str, count: dict, **thresholds) -> dict:
    return {
        "name": name,
        "count": count,
        **thresholds,
        "destination": {
            "url": broker.url,
            "exchange": "milestones",
            "routing_key": f"milestones.{name}",
        },
    }


def bound_queue(broker, name: str) -> str:
    """A durable queue bound to the milestones exchange for `name`'s messages."""
    with pika.BlockingConnection(broker.parameters()) as connection:
        channel = connection.channel()
        channel.exchange_declare("milestones", "topic", durable=True)
        channel.queue_declare(f"q-{name}", durable=True)
        channel.queue_bind(f"q-{name}", "milestones", f"milestones.{name}")
    return f"q-{name}"


def drain(broker, queue: str) -> list[tuple[pika.BasicProperties, dict]]:
    """Every message waiting in `queue` (acknowledged)."""
    found = []
    with pika.BlockingConnection(broker.parameters()) as connection:
        channel = connection.channel()
        while True:
            method, properties, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                return found
            found.append((properties, json.loads(body)))


def outbox(conn, name: str) -> list[tuple]:
    return conn.execute(
        "select threshold, delivered_at is not null, attempts"
        " from analytics_ops.milestone_outbox where milestone = %s order by threshold",
        (name,),
    ).fetchall()


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    result = sr(env, "run", *args)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def stable_id(name: str, threshold: int) -> str:
    return str(uuid.uuid5(actions.NAMESPACE, f"analytics/{name}/{threshold}"))


# --- RabbitMQ -----------------------------------------------------------------------
def test_announced_once_across_runs_with_the_broker_down_in_one(rabbitmq, env, db):
    customers_milestone = amqp_milestone(
        rabbitmq,
        "thousandth_customer",
        {"persons_who_did": "invoice_downloaded"},
        thresholds=[1000],
    )
    signups = amqp_milestone(
        rabbitmq, "third_signup", {"persons_who_did": "signed_up"}, thresholds=[3, 50]
    )
    pairs = amqp_milestone(
        rabbitmq, "signup_pairs", {"persons_who_did": "signed_up"}, every=2
    )
    pro = amqp_milestone(
        rabbitmq,
        "second_pro_user",
        {"mart_rows": {"model": "users", "where": {"plan": "pro"},
                       "order_by": ["first_seen_at", "user_id"]}},
        thresholds=[2],
    )  # fmt: skip
    every = (customers_milestone, signups, pairs, pro)
    queues = {m["name"]: bound_queue(rabbitmq, m["name"]) for m in every}
    write_actions(env, *every)

    first = run(env, *MARTS_ONLY)
    assert "third_signup: 3 announced" in first.stderr
    third = drain(rabbitmq, queues["third_signup"])
    assert len(third) == 1
    properties, message = third[0]
    assert properties.delivery_mode == 2
    assert properties.content_type == "application/json"
    assert (
        properties.message_id == message["message_id"] == stable_id("third_signup", 3)
    )
    assert message["milestone"] == "third_signup" and message["threshold"] == 3
    assert message["count"] == 5
    who = message["crossed_by"]
    assert who["user_id"] == who["person_id"] == ORDER[2] == "u5"
    assert who["traits"]["email"] == "u5@example.com"
    assert who["traits"]["plan"] == "pro"
    assert message["crossed_at"] == "2024-03-01T12:00:00+00:00"
    assert message["detected_at"] > "2026"
    # both pairs crossed in one run: one message each, naming its own person
    pairs_sent = {m["threshold"]: m for _, m in drain(rabbitmq, queues["signup_pairs"])}
    assert sorted(pairs_sent) == [2, 4]
    assert pairs_sent[2]["crossed_by"]["user_id"] == ORDER[1]
    assert pairs_sent[4]["crossed_by"]["user_id"] == ORDER[3]
    # the second pro user by first_seen_at: u4 (10:00), u5 (12:00), u3 (14:00)
    (_, second_pro), *rest = drain(rabbitmq, queues["second_pro_user"])
    assert not rest
    assert second_pro["crossed_by"]["row"]["user_id"] == "u5"
    assert second_pro["crossed_at"].startswith("2024-03-01T12:00")
    # 998 customers so far: nothing to announce
    assert drain(rabbitmq, queues["thousandth_customer"]) == []
    assert outbox(db, "thousandth_customer") == []

    # a sync brings the 999th to 1001st customers and a sixth sign-up while the
    # broker is down: the 1000th customer and pair 6 are written, not delivered
    a_later_sync(db, SYNCS[1], at("2024-04-01 00:00"))
    a_sixth_user(db)
    rabbitmq.stop()
    try:
        down = run(env, *NEW_DATA)
        assert "thousandth_customer: 1000 not delivered" in down.stderr
        assert "signup_pairs: 6 not delivered" in down.stderr
        assert "2 milestone message(s) undelivered" in down.stderr
        assert outbox(db, "thousandth_customer") == [(1000, False, 1)]
        assert outbox(db, "signup_pairs") == [(2, True, 1), (4, True, 1), (6, False, 1)]
        status = sr(env, "status", "--undelivered-minutes", "0")
        assert status.returncode == 1
        assert "signup_pairs" in status.stdout
        assert "milestone message(s) undelivered" in " ".join(status.stdout.split())
    finally:
        rabbitmq.start()

    later = run(env, *MARTS_ONLY)
    assert "thousandth_customer: 1000 announced" in later.stderr
    assert "signup_pairs: 6 announced" in later.stderr
    # the last customers arrive: 1003 now, and 1000 is not announced again
    a_later_sync(db, SYNCS[2], at("2024-04-02 00:00"))
    again = run(env, *NEW_DATA)
    assert "announced" not in again.stderr
    assert "announced" not in run(env, *MARTS_ONLY).stderr
    (properties, thousandth), *rest = drain(rabbitmq, queues["thousandth_customer"])
    assert not rest
    when, user = THOUSANDTH
    assert properties.message_id == stable_id("thousandth_customer", 1000)
    assert thousandth["crossed_by"]["user_id"] == user
    assert thousandth["crossed_by"]["traits"]["email"] == f"{user}@example.com"
    assert thousandth["crossed_at"] == when.isoformat()
    assert thousandth["count"] == 1001
    sixth = drain(rabbitmq, queues["signup_pairs"])
    assert [m["threshold"] for _, m in sixth] == [6]
    assert sixth[0][1]["crossed_by"]["user_id"] == "u6"
    assert drain(rabbitmq, queues["third_signup"]) == []
    assert drain(rabbitmq, queues["second_pro_user"]) == []
    assert outbox(db, "thousandth_customer") == [(1000, True, 2)]
    assert outbox(db, "signup_pairs") == [(2, True, 1), (4, True, 1), (6, True, 2)]
    assert outbox(db, "third_signup") == [(3, True, 1)]
    counted = db.execute(
        "select count(distinct person_id) from analytics.events"
        " where event_name = 'invoice_downloaded'"
    ).fetchone()[0]
    assert counted == len(CUSTOMERS)


def test_a_crash_between_the_outbox_and_publishing(rabbitmq, env, db):
    milestone = amqp_milestone(
        rabbitmq, "crash_signup", {"persons_who_did": "signed_up"}, thresholds=[1]
    )
    queue = bound_queue(rabbitmq, "crash_signup")
    write_actions(env, milestone)
    crashed = sr(
        {**env, "SEGMENT_REPORTS_FAULT": "crash-after-outbox"}, "run", *MARTS_ONLY
    )
    assert crashed.returncode == -9, crashed.stderr[-3000:]
    assert outbox(db, "crash_signup") == [(1, False, 0)]
    assert drain(rabbitmq, queue) == []

    run(env, *MARTS_ONLY)
    run(env, *MARTS_ONLY)
    delivered = drain(rabbitmq, queue)
    assert [p.message_id for p, _ in delivered] == [stable_id("crash_signup", 1)]
    assert delivered[0][1]["crossed_by"]["user_id"] == ORDER[0]
    assert outbox(db, "crash_signup") == [(1, True, 1)]


def test_two_runs_racing_announce_once(rabbitmq, env, db, warehouse):
    milestone = amqp_milestone(
        rabbitmq, "race_signup", {"persons_who_did": "signed_up"}, thresholds=[2]
    )
    queue = bound_queue(rabbitmq, "race_signup")
    write_actions(env, milestone)
    started = [
        subprocess.Popen(
            [CLI, "run", *MARTS_ONLY],
            env=env,
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=900) for proc in started]
    # the run lock lets one build; the other exits 75 at once
    assert sorted(proc.returncode for proc in started) == [0, 75], outputs
    assert sum("race_signup: 2 announced" in err for _, err in outputs) == 1

    # without the run lock: evaluations and publishers racing in threads
    loose = actions.parse({"milestones": [
        amqp_milestone(rabbitmq, "loose_race", {"persons_who_did": "signed_up"},
                       every=1)
    ]})  # fmt: skip
    loose_queue = bound_queue(rabbitmq, "loose_race")
    barrier = threading.Barrier(4)
    errors = []

    def evaluate_and_publish() -> None:
        try:
            with psycopg.connect(**warehouse, autocommit=True) as conn:
                barrier.wait()
                actions.evaluate(conn, "analytics", loose)
                actions.publish(conn, "analytics", loose)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=evaluate_and_publish) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(drain(rabbitmq, queue)) == 1
    sent = Counter(p.message_id for p, _ in drain(rabbitmq, loose_queue))
    persons = db.execute(
        "select count(distinct person_id) from analytics.events"
        " where event_name = 'signed_up'"
    ).fetchone()[0]
    assert sent == Counter(
        {stable_id("loose_race", n): 1 for n in range(1, persons + 1)}
    )


# --- webhooks -----------------------------------------------------------------------
class Receiver(BaseHTTPRequestHandler):
    """Records each POST; answers with the next status of `replies`."""

    requests: list[tuple[dict, bytes]]
    replies: list[int]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.requests.append((dict(self.headers), body))
        status = self.replies.pop(0) if self.replies else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_webhook_signed_retried_after_a_500_and_secrets_kept_out(rabbitmq, env, db):
    secret, password = secrets.token_hex(16), secrets.token_hex(16)
    Receiver.requests, Receiver.replies = [], [500]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/hooks/milestones?token=abc"
    write_actions(
        env,
        {"name": "hook_signup", "count": {"persons_who_did": "signed_up"},
         "thresholds": [4],
         "destination": {"url": url, "secret_env": "HOOK_SECRET"}},
        {"name": "wrong_password", "count": {"persons_who_did": "signed_up"},
         "thresholds": [1],
         "destination": {"url": rabbitmq.url.replace("//", "//guest@"),
                         "exchange": "milestones", "routing_key": "x",
                         "password_env": "BROKER_PASSWORD"}},
    )  # fmt: skip
    env = {**env, "HOOK_SECRET": secret, "BROKER_PASSWORD": password}
    try:
        refused = run(env, *MARTS_ONLY)
        assert "hook_signup: 4 not delivered: HTTP 500" in " ".join(
            refused.stderr.split()
        )
        assert "wrong_password: 1 not delivered" in refused.stderr
        assert outbox(db, "hook_signup") == [(4, False, 1)]
        accepted = run(env, *MARTS_ONLY)
    finally:
        server.shutdown()
    assert "hook_signup: 4 announced" in accepted.stderr
    assert outbox(db, "hook_signup") == [(4, True, 2)]
    assert len(Receiver.requests) == 2
    (_, first_body), (headers, body) = Receiver.requests
    assert body == first_body  # a retry sends the same bytes
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Segment-Reports-Signature"] == f"sha256={expected}"
    message = json.loads(body)
    assert headers["X-Segment-Reports-Message-Id"] == message["message_id"]
    assert message["message_id"] == stable_id("hook_signup", 4)
    assert message["crossed_by"]["user_id"] == ORDER[3]
    stored = " ".join(
        str(row) for row in db.execute("select * from analytics_ops.milestone_outbox")
    )
    for text in (refused.stdout, refused.stderr, accepted.stdout, accepted.stderr,
                 stored):  # fmt: skip
        assert secret not in text and password not in text
        assert "token=abc" not in text


# --- configuration -------------------------------------------------------------------
def test_a_wrong_actions_yml_names_milestone_and_field(env, db):
    hidden = secrets.token_hex(8)
    write_actions(
        env,
        {"name": "no_threshold", "count": {"persons_who_did": "signed_up"},
         "destination": {"url": "https://hooks.example.com/x",
                         "secret_env": "UNSET_SECRET_VAR"}},
        {"name": "bad_count", "count": {"mart_row": {"model": "users"}},
         "every": 0,
         "destination": {"url": f"amqp://app:{hidden}@broker.example/%2F",
                         "exchange": "m"}},
        {"name": "Bad Name", "count": {"persons_who_did": "x"}, "every": 5,
         "destination": {"url": "ftp://example.com"}},
    )  # fmt: skip
    before = db.execute("select count(*) from analytics_ops.runs").fetchone()[0]
    result = sr(env, "run", timeout=120)
    assert result.returncode == 2
    text = " ".join(result.stderr.split())
    for expected in (
        "milestones[0] (no_threshold): thresholds: give either",
        "milestones[0] (no_threshold): destination.secret_env: environment "
        "variable UNSET_SECRET_VAR is not set",
        "milestones[1] (bad_count): count.mart_row: unknown count",
        "milestones[1] (bad_count): every: must be a whole number >= 1",
        "milestones[1] (bad_count): destination.url: holds a password",
        "milestones[2] (Bad Name): name: required",
        "milestones[2] (Bad Name): destination.url: scheme 'ftp'",
    ):
        assert expected in text, text
    assert hidden not in result.stdout + result.stderr
    assert "dbt build" not in result.stderr  # refused before dbt started
    assert db.execute("select count(*) from analytics_ops.runs").fetchone()[0] == before


def test_a_mart_or_column_missing_from_the_target_schema_is_refused(db):
    counted = actions.parse({"milestones": [
        {"name": "ghost", "every": 1,
         "count": {"mart_rows": {"model": "no_such_mart", "order_by": "x"}},
         "destination": {"url": "amqp://127.0.0.1/", "exchange": "m"}},
        {"name": "typo", "every": 1,
         "count": {"mart_rows": {"model": "users", "where": {"plan_name": "pro"},
                                 "order_by": ["first_seen"]}},
         "destination": {"url": "amqp://127.0.0.1/", "exchange": "m"}},
    ]})  # fmt: skip
    with pytest.raises(actions.ActionsError) as refused:
        actions.check_marts(db, "analytics", counted)
    assert str(refused.value).splitlines() == [
        "milestone ghost: count.mart_rows.model: no mart analytics.no_such_mart",
        "milestone typo: count.mart_rows.where.plan_name: analytics.users has no "
        "such column",
        "milestone typo: count.mart_rows.order_by: analytics.users has no column "
        "first_seen",
    ]
