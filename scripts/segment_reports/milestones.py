"""Milestone actions: announce "the 1000th customer" once, through an outbox.

`actions.yml` (in the project, or the file $SEGMENT_REPORTS_ACTIONS names)
declares milestones: a count over the marts, thresholds, and a destination (a
RabbitMQ exchange or a webhook). After a successful build, while the run still
holds the run lock, `evaluate()` writes each newly crossed threshold to
`<target>_ops.milestone_outbox` in one transaction (unique per milestone and
threshold, so a threshold is written once however many runs race), and
`publish()` then delivers every undelivered row, earlier runs' included,
marking a row delivered only after the broker's confirm or a 2xx reply.
Delivery is at least once: a crash between the confirm and the mark sends the
same message again, with the same message id, on the next run.

Secrets never appear in actions.yml: the AMQP password and the webhook's HMAC
secret come from environment variables the file names.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import yaml
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from .audit import ops_schema

ACTIONS_ENV = "SEGMENT_REPORTS_ACTIONS"
FILE_NAME = "actions.yml"
OUTBOX = "milestone_outbox"
# message ids are uuid5(NAMESPACE, "<schema>/<milestone>/<threshold>")
NAMESPACE = uuid.UUID("5e9d3c1a-3f5e-4d0b-9a57-2c1f0b6d7e41")
# the most thresholds one milestone writes per run (the lowest first; the rest
# follow on the next runs), so `every: 1` over a long history cannot flood
MAX_NEW_PER_RUN = 100
TIMEOUT_SECONDS = 5
NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,99}")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# the users mart's own columns; every other column is a trait
USER_COLUMNS = (
    "user_id",
    "merged_user_ids",
    "event_count",
    "session_count",
    "identify_count",
    "first_seen_at",
    "last_seen_at",
    "first_touch_channel",
)


class ActionsError(ValueError):
    """actions.yml is unreadable or wrong; the message names each wrong field."""


class DeliveryFailed(RuntimeError):
    """A message was not delivered (no confirm, not routed, not a 2xx reply)."""


# --- configuration -------------------------------------------------------------------
def actions_path(project: Path) -> Path:
    """$SEGMENT_REPORTS_ACTIONS, else actions.yml in the project."""
    override = os.environ.get(ACTIONS_ENV)
    return Path(override) if override else project / FILE_NAME


@dataclass(frozen=True)
class PersonsWhoDid:
    """Distinct persons with an `events` row of `event_name`, in the order of
    each person's first such event (occurred_at, event id, source schema)."""

    event_name: str


@dataclass(frozen=True)
class MartRows:
    """Rows of a mart whose columns equal `where`, in `order_by` order (then the
    whole row as text, so that the Nth row is always the same one)."""

    model: str
    where: dict[str, Any]
    order_by: tuple[str, ...]


@dataclass(frozen=True)
class Amqp:
    url: str
    exchange: str
    routing_key: str
    password_env: str | None

    def describe(self) -> str:
        return (
            f"{redact_url(self.url)} exchange {self.exchange!r} "
            f"routing key {self.routing_key!r}"
        )

    def secrets(self, environ) -> list[str]:
        return [environ[self.password_env]] if self.password_env else []


@dataclass(frozen=True)
class Webhook:
    url: str
    secret_env: str

    def describe(self) -> str:
        return f"webhook {redact_url(self.url)}"

    def secrets(self, environ) -> list[str]:
        return [environ[self.secret_env]]


@dataclass(frozen=True)
class Milestone:
    name: str
    count: PersonsWhoDid | MartRows
    destination: Amqp | Webhook
    thresholds: tuple[int, ...] = ()
    every: int | None = None

    def crossed(self, count: int, announced: set[int]) -> list[int]:
        """The thresholds `count` has reached that are not announced yet, lowest
        first, at most MAX_NEW_PER_RUN."""
        if self.every:
            candidates = range(self.every, count + 1, self.every)
        else:
            candidates = sorted(t for t in self.thresholds if t <= count)
        found = []
        for threshold in candidates:
            if threshold not in announced:
                found.append(threshold)
                if len(found) == MAX_NEW_PER_RUN:
                    break
        return found


def redact_url(url: str) -> str:
    """scheme://user@host:port/path of a URL: no password, query or fragment (a
    webhook's query string often carries a token)."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparseable URL>"
    user = f"{parts.username}@" if parts.username else ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{user}{host}{port}{parts.path}"


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _identifier(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 63


class _Problems:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, where: str, field_name: str, problem: str) -> None:
        self.lines.append(f"{where}: {field_name}: {problem}")


def _unknown_keys(
    problems: _Problems, where: str, prefix: str, given: dict, known: tuple[str, ...]
) -> None:
    for key in given:
        if key not in known:
            problems.add(
                where,
                f"{prefix}{key}",
                f"unknown field; known: {', '.join(known)}",
            )


def _count(problems: _Problems, where: str, value: Any):
    if not isinstance(value, dict) or len(value) != 1:
        problems.add(
            where,
            "count",
            "must be a mapping with one of persons_who_did: EVENT_NAME or "
            "mart_rows: {model, where, order_by}",
        )
        return None
    kind, spec = next(iter(value.items()))
    if kind == "persons_who_did":
        if not isinstance(spec, str) or not spec:
            problems.add(where, "count.persons_who_did", "must be an event name")
            return None
        return PersonsWhoDid(spec)
    if kind != "mart_rows":
        problems.add(
            where, f"count.{kind}", "unknown count; known: persons_who_did, mart_rows"
        )
        return None
    if not isinstance(spec, dict):
        problems.add(where, "count.mart_rows", "must be a mapping")
        return None
    _unknown_keys(
        problems, where, "count.mart_rows.", spec, ("model", "where", "order_by")
    )
    model = spec.get("model")
    if not _identifier(model):
        problems.add(where, "count.mart_rows.model", "must be the name of a mart")
    filters = spec.get("where", {})
    if not isinstance(filters, dict) or not all(map(_identifier, filters)):
        problems.add(where, "count.mart_rows.where", "must map column names to values")
        filters = {}
    for column, wanted in filters.items():
        if wanted is not None and not isinstance(wanted, str | int | float | bool):
            problems.add(
                where,
                f"count.mart_rows.where.{column}",
                "must be a string, number, boolean or null",
            )
    order_by = spec.get("order_by")
    order_by = [order_by] if isinstance(order_by, str) else order_by
    if not isinstance(order_by, list) or not order_by:
        problems.add(
            where,
            "count.mart_rows.order_by",
            "required: the column (or list of columns) that orders the rows, so "
            "that the Nth row is defined",
        )
        order_by = []
    elif not all(map(_identifier, order_by)):
        problems.add(where, "count.mart_rows.order_by", "must be column names")
    if not _identifier(model) or not order_by:
        return None
    return MartRows(model, dict(filters), tuple(map(str, order_by)))


def _env_field(
    problems: _Problems, where: str, field_name: str, value: Any, environ
) -> str | None:
    if not isinstance(value, str) or not ENV_NAME.fullmatch(value):
        problems.add(where, field_name, "must be the name of an environment variable")
        return None
    if not environ.get(value):
        problems.add(where, field_name, f"environment variable {value} is not set")
        return None
    return value


def _destination(problems: _Problems, where: str, value: Any, environ):
    if not isinstance(value, dict):
        problems.add(where, "destination", "must be a mapping with a url")
        return None
    url = value.get("url")
    if not isinstance(url, str):
        problems.add(
            where, "destination.url", "required: an amqp(s):// or http(s):// URL"
        )
        return None
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - parsing the port validates it
    except ValueError:
        problems.add(where, "destination.url", "is not a valid URL")
        return None
    if parts.password is not None:
        # never echo the URL: it holds the password
        problems.add(
            where,
            "destination.url",
            "holds a password; keep secrets out of actions.yml and name an "
            "environment variable in password_env instead",
        )
        return None
    if not parts.hostname:
        problems.add(where, "destination.url", f"has no host: {redact_url(url)}")
        return None
    if parts.scheme in ("amqp", "amqps"):
        _unknown_keys(
            problems,
            where,
            "destination.",
            value,
            ("url", "exchange", "routing_key", "password_env"),
        )
        exchange = value.get("exchange")
        routing_key = value.get("routing_key", "")
        if not isinstance(exchange, str) or not exchange:
            problems.add(
                where, "destination.exchange", "required: the exchange to publish to"
            )
        if not isinstance(routing_key, str):
            problems.add(where, "destination.routing_key", "must be a string")
        password_env = None
        if "password_env" in value:
            password_env = _env_field(
                problems, where, "destination.password_env", value["password_env"],
                environ,
            )  # fmt: skip
        elif parts.username:
            problems.add(
                where,
                "destination.password_env",
                f"required with a user name in the URL ({parts.username})",
            )
        if not isinstance(exchange, str) or not isinstance(routing_key, str):
            return None
        return Amqp(url, exchange, routing_key, password_env)
    if parts.scheme in ("http", "https"):
        _unknown_keys(problems, where, "destination.", value, ("url", "secret_env"))
        if parts.username:
            problems.add(
                where, "destination.url", "must not hold a user name (HMAC signs it)"
            )
        secret_env = _env_field(
            problems,
            where,
            "destination.secret_env",
            value.get("secret_env"),
            environ,
        )
        return Webhook(url, secret_env) if secret_env else None
    problems.add(
        where,
        "destination.url",
        f"scheme {parts.scheme!r} is not amqp, amqps, http or https",
    )
    return None


def parse(document: Any, environ=None) -> list[Milestone]:
    """Milestones from the YAML document of actions.yml; ActionsError listing
    every wrong field, each line naming the milestone and the field."""
    environ = os.environ if environ is None else environ
    if document is None:
        return []
    if not isinstance(document, dict) or set(document) - {"milestones"}:
        raise ActionsError("actions.yml must be a mapping with one key, milestones")
    entries = document.get("milestones") or []
    if not isinstance(entries, list):
        raise ActionsError("milestones: must be a list")
    problems = _Problems()
    milestones: list[Milestone] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        name = entry.get("name") if isinstance(entry, dict) else None
        where = f"milestones[{index}]" + (f" ({name})" if isinstance(name, str) else "")
        if not isinstance(entry, dict):
            problems.add(where, "milestone", "must be a mapping")
            continue
        before = len(problems.lines)
        _unknown_keys(
            problems,
            where,
            "",
            entry,
            ("name", "count", "thresholds", "every", "destination"),
        )
        if not isinstance(name, str) or not NAME.fullmatch(name):
            problems.add(
                where,
                "name",
                "required: lowercase letters, digits, '_', '.' or '-', at most 100",
            )
        elif name in seen:
            problems.add(where, "name", "another milestone has this name")
        seen.add(name)
        count = _count(problems, where, entry.get("count"))
        thresholds: tuple[int, ...] = ()
        every = None
        if ("thresholds" in entry) == ("every" in entry):
            problems.add(
                where,
                "thresholds",
                "give either thresholds: [N, ...] or every: N (not both)",
            )
        elif "thresholds" in entry:
            given = entry["thresholds"]
            if (
                not isinstance(given, list)
                or not given
                or not all(map(_positive_int, given))
            ):
                problems.add(
                    where,
                    "thresholds",
                    "must be a non-empty list of whole numbers >= 1",
                )
            elif len(set(given)) != len(given):
                problems.add(where, "thresholds", "lists a threshold twice")
            else:
                thresholds = tuple(sorted(given))
        elif not _positive_int(entry["every"]):
            problems.add(where, "every", "must be a whole number >= 1")
        else:
            every = entry["every"]
        destination = _destination(problems, where, entry.get("destination"), environ)
        if len(problems.lines) == before:
            milestones.append(Milestone(name, count, destination, thresholds, every))
    if problems.lines:
        raise ActionsError("\n".join(problems.lines))
    return milestones


def load(path: Path, environ=None) -> list[Milestone]:
    """The milestones of `path` ([] when there is no such file)."""
    if not path.exists():
        return []
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ActionsError(f"cannot read {path}: {exc}") from None
    try:
        return parse(document, environ)
    except ActionsError as exc:
        raise ActionsError(f"{path}:\n{exc}") from None


# --- the outbox -----------------------------------------------------------------------
def outbox_table(schema: str) -> sql.Composed:
    return sql.Identifier(ops_schema(schema), OUTBOX)


CREATE = """
create table if not exists {outbox} (
    message_id uuid primary key,
    milestone text not null,
    threshold bigint not null,
    payload jsonb not null,
    run_id uuid,
    created_at timestamptz not null default now(),
    attempts integer not null default 0,
    last_attempt_at timestamptz,
    last_error text,
    delivered_at timestamptz,
    unique (milestone, threshold)
)
"""


def ensure_outbox(conn: psycopg.Connection, schema: str) -> None:
    conn.execute(
        sql.SQL("create schema if not exists {}").format(
            sql.Identifier(ops_schema(schema))
        )
    )
    conn.execute(sql.SQL(CREATE).format(outbox=outbox_table(schema)))


def message_id(schema: str, milestone: str, threshold: int) -> uuid.UUID:
    """The stable id of a milestone's threshold in a target schema."""
    return uuid.uuid5(NAMESPACE, f"{schema}/{milestone}/{threshold}")


def _relation_columns(conn: psycopg.Connection, schema: str, name: str) -> dict:
    """{column: data type} of a table or view in `schema` ({} when missing)."""
    rows = conn.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_schema = %s and table_name = %s",
        (schema, name),
    ).fetchall()
    return dict(rows)


def check_marts(
    conn: psycopg.Connection, schema: str, milestones: list[Milestone]
) -> None:
    """ActionsError when a milestone counts a mart or column the target schema
    does not have (only the target schema's marts may be counted)."""
    problems = _Problems()
    for milestone in milestones:
        where = f"milestone {milestone.name}"
        count = milestone.count
        if isinstance(count, PersonsWhoDid):
            if not _relation_columns(conn, schema, "events"):
                problems.add(where, "count.persons_who_did", f"no mart {schema}.events")
            continue
        columns = _relation_columns(conn, schema, count.model)
        if not columns:
            problems.add(
                where, "count.mart_rows.model", f"no mart {schema}.{count.model}"
            )
            continue
        for column in count.where:
            if column not in columns:
                problems.add(
                    where,
                    f"count.mart_rows.where.{column}",
                    f"{schema}.{count.model} has no such column",
                )
        for column in count.order_by:
            if column not in columns:
                problems.add(
                    where,
                    "count.mart_rows.order_by",
                    f"{schema}.{count.model} has no column {column}",
                )
    if problems.lines:
        raise ActionsError("\n".join(problems.lines))


def _persons_count(conn, schema: str, count: PersonsWhoDid) -> int:
    return conn.execute(
        sql.SQL(
            "select count(distinct person_id) from {} where event_name = %s"
        ).format(sql.Identifier(schema, "events")),
        (count.event_name,),
    ).fetchone()[0]


def _persons_crossing(conn, schema: str, count: PersonsWhoDid, positions: list[int]):
    """{position: (crossed_at, who)} for the persons at those positions."""
    users = bool(_relation_columns(conn, schema, "users"))
    traits = (
        sql.SQL(
            "(select jsonb_strip_nulls(to_jsonb(users) - %(own)s::text[])"
            " from {} as users where users.user_id = ranked.resolved_user_id)"
        ).format(sql.Identifier(schema, "users"))
        if users
        else sql.SQL("null::jsonb")
    )
    query = sql.SQL(
        """
        with firsts as (
            select distinct on (person_id)
                person_id, resolved_user_id, event_id, source_schema, occurred_at
            from {events}
            where event_name = %(event)s and person_id is not null
            order by person_id, occurred_at, event_id, source_schema
        ),
        ranked as (
            select
                firsts.*,
                row_number() over (
                    order by occurred_at, event_id, source_schema, person_id
                ) as position
            from firsts
        )
        select position, occurred_at, person_id, resolved_user_id, event_id,
            source_schema, {traits} as traits
        from ranked
        where position = any(%(positions)s)
        """
    ).format(events=sql.Identifier(schema, "events"), traits=traits)
    rows = conn.execute(
        query,
        {"event": count.event_name, "positions": positions, "own": list(USER_COLUMNS)},
    ).fetchall()
    return {
        position: (
            occurred_at,
            {
                "kind": "person",
                "person_id": person_id,
                "user_id": user_id,
                "traits": traits or {},
                "event_name": count.event_name,
                "event_id": event_id,
                "source_schema": source,
            },
        )
        for position, occurred_at, person_id, user_id, event_id, source, traits in rows
    }


def _mart_filter(count: MartRows) -> tuple[sql.Composable, list]:
    conditions: list[sql.Composable] = []
    params: list = []
    for column, wanted in count.where.items():
        if wanted is None:
            conditions.append(sql.SQL("{} is null").format(sql.Identifier(column)))
        else:
            conditions.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
            params.append(wanted)
    where = sql.SQL(" and ").join(conditions) if conditions else sql.SQL("true")
    return where, params


def _rows_count(conn, schema: str, count: MartRows) -> int:
    where, params = _mart_filter(count)
    return conn.execute(
        sql.SQL("select count(*) from {} where {}").format(
            sql.Identifier(schema, count.model), where
        ),
        params,
    ).fetchone()[0]


TIME_TYPES = ("timestamp with time zone", "timestamp without time zone", "date")


def _rows_crossing(conn, schema: str, count: MartRows, positions: list[int]):
    """{position: (crossed_at, who)}; crossed_at is the first order_by column's
    value when it is a time or date, else None."""
    where, params = _mart_filter(count)
    types = _relation_columns(conn, schema, count.model)
    query = sql.SQL(
        "select position, crossed_at, row from ("
        " select row_number() over (order by {order}, mart::text) as position,"
        " {first} as crossed_at, to_jsonb(mart) as row"
        " from {mart} as mart where {where}) as ranked"
        " where position = any(%s)"
    ).format(
        order=sql.SQL(", ").join(map(sql.Identifier, count.order_by)),
        first=sql.Identifier(count.order_by[0]),
        mart=sql.Identifier(schema, count.model),
        where=where,
    )
    is_time = types.get(count.order_by[0]) in TIME_TYPES
    found = {}
    for position, crossed_at, row in conn.execute(query, [*params, positions]):
        if isinstance(crossed_at, date) and not isinstance(crossed_at, datetime):
            crossed_at = datetime(crossed_at.year, crossed_at.month, crossed_at.day)
        if isinstance(crossed_at, datetime) and crossed_at.tzinfo is None:
            crossed_at = crossed_at.replace(tzinfo=UTC)
        found[position] = (
            crossed_at if is_time else None,
            {"kind": "row", "model": count.model, "row": row},
        )
    return found


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


@dataclass
class Evaluation:
    """What evaluate() found: each milestone's count, and the rows it wrote."""

    counts: dict[str, int] = field(default_factory=dict)
    written: list[tuple[str, int]] = field(default_factory=list)


def evaluate(
    conn: psycopg.Connection,
    schema: str,
    milestones: list[Milestone],
    run_id: uuid.UUID | None = None,
) -> Evaluation:
    """Write every newly crossed threshold to the outbox, in one transaction.

    `conn` must not be in a transaction. `insert ... on conflict do nothing`
    on (milestone, threshold) makes two evaluations that race write each row
    once: the later one's rows are dropped, the stored ones kept.
    """
    result = Evaluation()
    ensure_outbox(conn, schema)
    outbox = outbox_table(schema)
    detected_at = datetime.now(UTC)
    with conn.transaction():
        for milestone in milestones:
            count = milestone.count
            if isinstance(count, PersonsWhoDid):
                total = _persons_count(conn, schema, count)
            else:
                total = _rows_count(conn, schema, count)
            result.counts[milestone.name] = total
            announced = {
                threshold
                for (threshold,) in conn.execute(
                    sql.SQL("select threshold from {} where milestone = %s").format(
                        outbox
                    ),
                    (milestone.name,),
                )
            }
            thresholds = milestone.crossed(total, announced)
            if not thresholds:
                continue
            if isinstance(count, PersonsWhoDid):
                crossers = _persons_crossing(conn, schema, count, thresholds)
            else:
                crossers = _rows_crossing(conn, schema, count, thresholds)
            for threshold in thresholds:
                if threshold not in crossers:
                    continue  # the mart changed between the count and the lookup
                crossed_at, who = crossers[threshold]
                identifier = message_id(schema, milestone.name, threshold)
                payload = _jsonable(
                    {
                        "message_id": str(identifier),
                        "milestone": milestone.name,
                        "threshold": threshold,
                        "count": total,
                        "crossed_at": crossed_at,
                        "detected_at": detected_at,
                        "crossed_by": who,
                        "schema": schema,
                    }
                )
                inserted = conn.execute(
                    sql.SQL(
                        "insert into {} (message_id, milestone, threshold, payload,"
                        " run_id) values (%s, %s, %s, %s, %s)"
                        " on conflict do nothing returning message_id"
                    ).format(outbox),
                    (identifier, milestone.name, threshold, Jsonb(payload), run_id),
                ).fetchone()
                if inserted:
                    result.written.append((milestone.name, threshold))
    return result


# --- delivery -------------------------------------------------------------------
def body_of(payload: dict) -> bytes:
    """The bytes sent: the same for every attempt of a message."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def signature(secret: str, body: bytes) -> str:
    """The webhook's X-Segment-Reports-Signature header value."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is not a delivery (urllib would follow a POST with a GET)."""

    def redirect_request(self, *args, **kwargs):
        return None


class _WebhookSender:
    def __init__(self, destination: Webhook, environ):
        self.destination = destination
        self.secret = environ[destination.secret_env]
        self.opener = urllib.request.build_opener(
            _NoRedirects,
            urllib.request.HTTPSHandler(context=ssl.create_default_context()),
        )

    def send(self, identifier: str, body: bytes) -> None:
        request = urllib.request.Request(
            self.destination.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "segment-reports",
                "X-Segment-Reports-Message-Id": identifier,
                "X-Segment-Reports-Signature": signature(self.secret, body),
            },
        )
        try:
            with self.opener.open(request, timeout=TIMEOUT_SECONDS) as reply:
                status = reply.status
        except urllib.error.HTTPError as exc:
            raise DeliveryFailed(f"HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DeliveryFailed(f"cannot reach the webhook: {reason}") from None
        if not 200 <= status < 300:
            raise DeliveryFailed(f"HTTP {status}")

    def close(self) -> None:
        pass


class _AmqpSender:
    """One connection and confirming channel per destination and publish()."""

    def __init__(self, destination: Amqp, environ):
        import pika

        self.pika = pika
        self.destination = destination
        parts = urllib.parse.urlsplit(destination.url)
        vhost = urllib.parse.unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
        user = urllib.parse.unquote(parts.username) if parts.username else "guest"
        password = (
            environ[destination.password_env] if destination.password_env else ("guest")
        )
        tls = parts.scheme == "amqps"
        options = (
            pika.SSLOptions(ssl.create_default_context(), parts.hostname)
            if tls
            else None
        )
        parameters = pika.ConnectionParameters(
            host=parts.hostname,
            port=parts.port or (5671 if tls else 5672),
            virtual_host=vhost,
            credentials=pika.PlainCredentials(user, password),
            ssl_options=options,
            connection_attempts=1,
            socket_timeout=TIMEOUT_SECONDS,
            stack_timeout=2 * TIMEOUT_SECONDS,
            blocked_connection_timeout=TIMEOUT_SECONDS,
        )
        try:
            self.connection = pika.BlockingConnection(parameters)
            self.channel = self._channel()
        except pika.exceptions.AMQPError as exc:
            raise DeliveryFailed(
                f"cannot connect to {destination.describe()}: {_amqp_reason(exc)}"
            ) from None

    def _channel(self):
        channel = self.connection.channel()
        channel.confirm_delivery()
        return channel

    def send(self, identifier: str, body: bytes) -> None:
        pika = self.pika
        properties = pika.BasicProperties(
            content_type="application/json",
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=identifier,
            app_id="segment-reports",
        )
        try:
            if self.channel.is_closed:
                self.channel = self._channel()
            self.channel.basic_publish(
                self.destination.exchange,
                self.destination.routing_key,
                body,
                properties,
                mandatory=True,
            )
        except pika.exceptions.UnroutableError:
            raise DeliveryFailed(
                f"no queue is bound for routing key "
                f"{self.destination.routing_key!r} on exchange "
                f"{self.destination.exchange!r} (returned unroutable)"
            ) from None
        except pika.exceptions.NackError:
            raise DeliveryFailed("the broker refused the message (nack)") from None
        except pika.exceptions.AMQPError as exc:
            raise DeliveryFailed(_amqp_reason(exc)) from None

    def close(self) -> None:
        with contextlib.suppress(self.pika.exceptions.AMQPError):
            self.connection.close()


def _amqp_reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text != type(exc).__name__ else text


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


@dataclass
class Delivery:
    """What publish() did: the messages delivered, those that failed (with the
    reason), and undelivered rows of milestones no longer in actions.yml."""

    delivered: list[dict] = field(default_factory=list)
    failed: list[tuple[str, int, str]] = field(default_factory=list)
    orphaned: int = 0


def publish(
    conn: psycopg.Connection,
    schema: str,
    milestones: list[Milestone],
    environ=None,
) -> Delivery:
    """Deliver every undelivered outbox row of the configured milestones.

    Each row is claimed with `for update skip locked` (a concurrent publisher
    skips it), sent, and marked delivered in the same short transaction right
    after the confirm or the 2xx reply; a failure records the attempt and the
    reason and leaves the row for the next run. `conn` must be in autocommit.
    """
    environ = os.environ if environ is None else environ
    result = Delivery()
    ensure_outbox(conn, schema)
    outbox = outbox_table(schema)
    by_name = {m.name: m for m in milestones}
    secrets = [s for m in milestones for s in m.destination.secrets(environ)]
    senders: dict[Any, Any] = {}
    tried: list[uuid.UUID] = []
    try:
        while True:
            with conn.transaction():
                row = (
                    conn.cursor(row_factory=dict_row)
                    .execute(
                        sql.SQL(
                            "select message_id, milestone, threshold, payload from {}"
                            " where delivered_at is null and milestone = any(%s)"
                            " and not (message_id = any(%s))"
                            " order by created_at, milestone, threshold"
                            " limit 1 for update skip locked"
                        ).format(outbox),
                        (list(by_name), tried),
                    )
                    .fetchone()
                )
                if row is None:
                    break
                tried.append(row["message_id"])
                destination = by_name[row["milestone"]].destination
                error = None
                try:
                    sender = senders.get(destination)
                    if isinstance(sender, DeliveryFailed):
                        raise sender
                    if sender is None:
                        try:
                            sender = senders[destination] = _sender(
                                destination, environ
                            )
                        except DeliveryFailed as exc:
                            senders[destination] = exc
                            raise
                    sender.send(str(row["message_id"]), body_of(row["payload"]))
                except DeliveryFailed as exc:
                    error = _scrub(str(exc), secrets)
                conn.execute(
                    sql.SQL(
                        "update {} set attempts = attempts + 1,"
                        " last_attempt_at = now(), last_error = %s,"
                        " delivered_at = case when %s then now() end"
                        " where message_id = %s"
                    ).format(outbox),
                    (error, error is None, row["message_id"]),
                )
            if error is None:
                result.delivered.append(row["payload"])
            else:
                result.failed.append((row["milestone"], row["threshold"], error))
        result.orphaned = conn.execute(
            sql.SQL(
                "select count(*) from {} where delivered_at is null"
                " and not (milestone = any(%s))"
            ).format(outbox),
            (list(by_name),),
        ).fetchone()[0]
    finally:
        for sender in senders.values():
            if not isinstance(sender, DeliveryFailed):
                sender.close()
    return result


def _sender(destination: Amqp | Webhook, environ):
    if isinstance(destination, Amqp):
        return _AmqpSender(destination, environ)
    return _WebhookSender(destination, environ)


# --- status --------------------------------------------------------------------------
def undelivered(conn: psycopg.Connection, schema: str) -> list[dict] | None:
    """The outbox rows not delivered yet, oldest first; None without an outbox."""
    exists = conn.execute(
        "select to_regclass(format('%%I.%%I', %s::text, %s::text))",
        (ops_schema(schema), OUTBOX),
    ).fetchone()[0]
    if exists is None:
        return None
    return (
        conn.cursor(row_factory=dict_row)
        .execute(
            sql.SQL(
                "select milestone, threshold, message_id, created_at, attempts,"
                " last_attempt_at, last_error from {} where delivered_at is null"
                " order by created_at, milestone, threshold"
            ).format(outbox_table(schema))
        )
        .fetchall()
    )
