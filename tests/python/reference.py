"""A second, deliberately simple implementation of the rules and marts, in Python.

It reads the raw Segment tables of a small test database straight from the catalog and
computes what the marts must hold, row by row, with plain loops and dictionaries. Tests
compare dbt's marts against it, so the two implementations check each other. It favours
obviousness over speed: use it on test-sized data only.
"""

from __future__ import annotations

import csv
import hashlib
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import yaml
from psycopg import sql
from psycopg.rows import dict_row

DEFAULT_TABLES = {
    "tracks",
    "pages",
    "screens",
    "identifies",
    "groups",
    "aliases",
    "users",
    "accounts",
}
ENVELOPE = {"id", "received_at", "uuid_ts", "event"}


def project_vars() -> dict:
    """The defaults of dbt_project.yml's vars (configuration, not logic under test)."""
    project = Path(__file__).resolve().parents[2] / "dbt_project.yml"
    return yaml.safe_load(project.read_text())["vars"]


def referrer_domains() -> dict[str, set[str]]:
    """seeds/referrer_domains.csv as {domain: categories} (configuration)."""
    seed = Path(__file__).resolve().parents[2] / "seeds" / "referrer_domains.csv"
    domains: dict[str, set[str]] = defaultdict(set)
    with seed.open(newline="") as rows:
        for row in csv.DictReader(rows):
            domains[row["domain"].strip().lower()].add(row["category"].strip().lower())
    return domains


def funnel_definitions() -> dict[str, dict]:
    """seeds/funnels.csv as {funnel: {"window": hours or None, "steps": [(event,
    property name or None, property value or None), ...]}} (configuration)."""
    seed = Path(__file__).resolve().parents[2] / "seeds" / "funnels.csv"
    funnels: dict[str, dict] = {}
    with seed.open(newline="") as rows:
        for row in sorted(csv.DictReader(rows), key=lambda r: int(r["step_number"])):
            funnel = funnels.setdefault(row["funnel_name"], {"steps": []})
            if row["step_number"] == "1":
                funnel["window"] = float(row["window_hours"] or "nan")
            funnel["steps"].append(
                (row["event_name"], row["property_name"] or None, row["property_value"])
            )
    return funnels


PAID = re.compile(r"^(.*cp.*|ppc|retargeting|paid.*)$")
SHOP_CAMPAIGN = re.compile(r"^(.*(([^a-df-z]|^)shop|shopping).*)$")
EMAIL = {"email", "e-mail", "e_mail", "e mail"}
SOCIAL_MEDIUMS = {
    "social",
    "social-network",
    "social-media",
    "sm",
    "social network",
    "social media",
}


def url_host(url: str | None) -> str | None:
    """The lower-case host of a URL (a value without a scheme read as //value)."""
    if url is None or not url.strip():
        return None
    text = url.strip()
    if "://" not in text and not text.startswith("//"):
        text = "//" + text
    host = (urlsplit(text).hostname or "").rstrip(".")
    return host or None


def categories_of(source: str, domains: dict[str, set[str]]) -> set[str]:
    """The categories of the longest seed domain that `source` equals or ends with."""
    labels = source.split(".")
    for start in range(len(labels)):  # longest suffix first
        suffix = ".".join(labels[start:])
        if suffix in domains:
            return domains[suffix]
    return set()


def channel(
    referrer: str | None,
    utm: tuple,
    internal: list[str],
    domains: dict[str, set[str]],
) -> str:
    """GA4's default channel group for one session's first call."""
    source, medium, campaign = (
        (v or "").strip().lower() if isinstance(v, str) else "" for v in utm
    )
    if not (source or medium or campaign):
        host = url_host(referrer)
        if host is None or any(host == d or host.endswith("." + d) for d in internal):
            return "Direct"
        found = categories_of(host, domains)
        for category, name in (
            ("shopping", "Organic Shopping"),
            ("social", "Organic Social"),
            ("video", "Organic Video"),
            ("search", "Organic Search"),
            ("email", "Email"),
        ):
            if category in found:
                return name
        return "Referral"
    found = categories_of(source, domains) if source else set()
    paid = bool(PAID.match(medium))
    shop = bool(SHOP_CAMPAIGN.match(campaign))
    rules = [
        ("Direct", source == "(direct)" and medium in ("", "(none)", "(not set)")),
        ("Cross-network", "cross-network" in campaign),
        ("Paid Shopping", ("shopping" in found or shop) and paid),
        ("Paid Search", "search" in found and paid),
        ("Paid Social", "social" in found and paid),
        ("Paid Video", "video" in found and paid),
        (
            "Display",
            medium in {"display", "banner", "expandable", "interstitial", "cpm"},
        ),
        ("Paid Other", paid),
        ("Organic Shopping", "shopping" in found or shop),
        ("Organic Social", "social" in found or medium in SOCIAL_MEDIUMS),
        ("Organic Video", "video" in found or "video" in medium),
        ("Organic Search", "search" in found or medium == "organic"),
        ("Referral", medium in ("referral", "app", "link")),
        ("Email", "email" in found or source in EMAIL or medium in EMAIL),
        ("Affiliates", medium == "affiliate"),
        ("Audio", medium == "audio"),
        ("SMS", source == "sms" or medium == "sms"),
        (
            "Mobile Push Notifications",
            medium.endswith("push") or "mobile" in medium or "notification" in medium,
        ),
    ]
    return next((name for name, holds in rules if holds), "Unassigned")


NOT_PROPERTIES = {
    "id",
    "received_at",
    "uuid_ts",
    "timestamp",
    "sent_at",
    "original_timestamp",
    "anonymous_id",
    "user_id",
    "event",
    "event_text",
}


@dataclass
class Call:
    """One deduplicated track, page or screen call."""

    source_schema: str
    event_id: str
    event_type: str
    event_name: str
    event_text: str | None
    occurred_at: datetime
    received_at: datetime | None
    loaded_at: datetime
    anonymous_id: str | None
    user_id: str | None
    page_url: str | None = None
    page_path: str | None = None
    referrer: str | None = None
    properties: dict = field(default_factory=dict)
    utm: tuple = (None, None, None)
    resolved_user_id: str | None = None
    person_id: str | None = None
    session_id: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.source_schema, self.event_id)

    @property
    def device_key(self) -> str | None:
        if self.anonymous_id is not None:
            return self.anonymous_id
        if self.user_id is not None:
            return "user:" + self.user_id
        return None


def occurred_at(row: dict) -> datetime:
    """Event time: least(timestamp, received_at), else received_at, else uuid_ts."""
    stamp, received = row.get("timestamp"), row.get("received_at")
    candidates = [v for v in (stamp, received) if v is not None]
    return min(candidates) if candidates else row["uuid_ts"]


def first_loaded(rows: list[dict]) -> dict:
    """The copy Segment loaded first: lowest uuid_ts, then received_at."""
    far = datetime.max.replace(tzinfo=rows[0]["uuid_ts"].tzinfo)
    return min(rows, key=lambda r: (r["uuid_ts"], r.get("received_at") or far))


class Reference:
    def __init__(
        self,
        conn: psycopg.Connection,
        schemas: list[str],
        *,
        session_timeout_minutes: int = 30,
        ignore_values: list[str] | None = None,
        excluded_user_ids: list[str] | None = None,
        internal_domains: list[str] | None = None,
    ) -> None:
        self.conn = conn
        if internal_domains is None:
            internal_domains = project_vars()["internal_domains"]
        self.internal = [d.strip().lower() for d in internal_domains]
        self.domains = referrer_domains()
        self.schemas = schemas
        self.timeout = timedelta(minutes=session_timeout_minutes)
        if ignore_values is None:
            ignore_values = project_vars()["identity_ignore_values"]
        self.ignore = {v.strip().lower() for v in ignore_values}
        self.excluded_ids = list(excluded_user_ids or [])
        self._load()
        self._resolve_identity()
        self._sessionize()

    # --- reading raw tables
    def _clean(self, value: object) -> str | None:
        if value is None:
            return None
        text = str(value)
        return None if text.strip().lower() in self.ignore else text

    def _tables(self, schema: str) -> dict[str, set[str]]:
        # tables only: views people add over raw tables are ignored (README,
        # "Tables that are not Segment's")
        rows = self.conn.execute(
            "select c.table_name, c.column_name from information_schema.columns c"
            " join information_schema.tables t using (table_schema, table_name)"
            " where c.table_schema = %s and t.table_type in ('BASE TABLE', 'FOREIGN')",
            (schema,),
        ).fetchall()
        tables: dict[str, set[str]] = defaultdict(set)
        for table, column in rows:
            tables[table].add(column)
        return tables

    def _rows(self, schema: str, table: str) -> list[dict]:
        query = sql.SQL("select * from {}").format(sql.Identifier(schema, table))
        with self.conn.cursor(row_factory=dict_row) as cur:
            return cur.execute(query).fetchall()

    def _load(self) -> None:
        track_copies: dict[tuple, list[tuple[str, dict]]] = defaultdict(list)
        page_copies: dict[tuple, list[dict]] = defaultdict(list)
        screen_copies: dict[tuple, list[dict]] = defaultdict(list)
        identify_copies: dict[tuple, list[dict]] = defaultdict(list)
        alias_copies: dict[tuple, list[dict]] = defaultdict(list)
        self.segment_users: set[str] = set()
        for schema in self.schemas:
            tables = self._tables(schema)
            for table, columns in tables.items():
                if table in DEFAULT_TABLES:
                    continue
                if columns >= ENVELOPE:
                    for row in self._rows(schema, table):
                        track_copies[(schema, row["id"])].append((table, row))
            simple = {
                "tracks": track_copies,
                "pages": page_copies,
                "screens": screen_copies,
                "identifies": identify_copies,
                "aliases": alias_copies,
            }
            for table, target in simple.items():
                if table not in tables:
                    continue
                for row in self._rows(schema, table):
                    key = (schema, row["id"])
                    target[key].append(("tracks", row) if table == "tracks" else row)
            if "users" in tables:
                for row in self._rows(schema, "users"):
                    if self._clean(row["id"]) is not None:
                        self.segment_users.add(row["id"])

        self.calls: list[Call] = []
        for (schema, _), copies in track_copies.items():
            kept = first_loaded([row for _, row in copies])
            event_rows = [(t, r) for t, r in copies if t != "tracks"]
            if event_rows:
                prop_row = first_loaded([row for _, row in event_rows])
                name = next(t for t, r in event_rows if r is prop_row)
                props = {
                    k: v
                    for k, v in prop_row.items()
                    if k not in NOT_PROPERTIES
                    and not k.startswith("context_")
                    and v is not None
                }
            else:
                name, props = kept.get("event"), {}
            self.calls.append(self._call(schema, "track", name, kept, props))
        for copies_map, kind, name in (
            (page_copies, "page", "page_view"),
            (screen_copies, "screen", "screen_view"),
        ):
            for (schema, _), copies in copies_map.items():
                kept = first_loaded(copies)
                self.calls.append(self._call(schema, kind, name, kept, {}))
        self.identifies = [
            first_loaded(c) | {"_schema": k[0]} for k, c in identify_copies.items()
        ]
        self.aliases = [first_loaded(c) for c in alias_copies.values()]

    def _call(self, schema: str, kind: str, name: str, row: dict, props: dict) -> Call:
        if kind == "page":
            url, path, referrer = row.get("url"), row.get("path"), row.get("referrer")
        else:
            url = row.get("context_page_url")
            path = row.get("context_page_path")
            referrer = row.get("context_page_referrer")
        return Call(
            source_schema=schema,
            event_id=row["id"],
            event_type=kind,
            event_name=name,
            event_text=row.get("event_text") if kind == "track" else row.get("name"),
            occurred_at=occurred_at(row),
            received_at=row.get("received_at"),
            loaded_at=row["uuid_ts"],
            anonymous_id=self._clean(row.get("anonymous_id")),
            user_id=self._clean(row.get("user_id")),
            page_url=url,
            page_path=path,
            referrer=referrer,
            properties=props,
            utm=(
                row.get("context_campaign_source"),
                row.get("context_campaign_medium"),
                row.get("context_campaign_name"),
            ),
        )

    # --- identity (doc block identity_rules)
    def _resolve_identity(self) -> None:
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            while parent.setdefault(x, x) != x:
                x = parent[x]
            return x

        user_ids = {c.user_id for c in self.calls if c.user_id}
        user_ids |= {self._clean(r.get("user_id")) for r in self.identifies} - {None}
        alias_user_ids = {self._clean(r.get("user_id")) for r in self.aliases}
        seen_anonymous = {c.anonymous_id for c in self.calls if c.anonymous_id}
        seen_anonymous |= {self._clean(r.get("anonymous_id")) for r in self.identifies}

        def is_anonymous(prev: str) -> bool:
            # rule 2: the alias call's own anonymous id, or an id seen as a device's
            # anonymous id and never as anyone's user id
            own = any(
                self._clean(r.get("previous_id")) == prev
                and self._clean(r.get("anonymous_id")) == prev
                and self._clean(r.get("user_id")) is not None
                for r in self.aliases
            )
            seen = prev in seen_anonymous and prev not in user_ids | alias_user_ids
            return own or seen

        alias_rows = []
        anonymous_aliases: list[tuple] = []
        for row in self.aliases:
            prev = self._clean(row.get("previous_id"))
            user = self._clean(row.get("user_id"))
            if user is None:
                continue
            user_ids.add(user)
            alias_rows.append((occurred_at(row), row["id"], user))
            find(user)
            if prev is None:
                continue
            if is_anonymous(prev):
                anonymous_aliases.append((occurred_at(row), row["id"], prev, user))
            else:
                parent[find(prev)] = find(user)
        canonical_of_root = {}
        for *_, user in sorted(alias_rows):
            canonical_of_root[find(user)] = user  # the most recent alias call wins
        self.alias_canonical = {
            node: canonical_of_root[find(node)]
            for node in parent
            if find(node) in canonical_of_root
        }

        def canonical(user_id: str) -> str:
            return self.alias_canonical.get(user_id, user_id)

        # rule 3: each anonymous id follows the user id of its most recent link
        links: dict[str, tuple] = {}
        link_rows = [
            (c.anonymous_id, c.occurred_at, c.event_id, c.user_id) for c in self.calls
        ] + [
            (
                self._clean(r.get("anonymous_id")),
                occurred_at(r),
                r["id"],
                self._clean(r.get("user_id")),
            )
            for r in self.identifies
        ]
        for anon, when, event_id, user in link_rows:
            if anon is None or user is None:
                continue
            if anon not in links or (when, event_id) > links[anon][:2]:
                links[anon] = (when, event_id, user)
        self.anonymous_mapping = {anon: canonical(v[2]) for anon, v in links.items()}
        # rule 2: an anonymous previous_id links its device when rule 3 found nothing
        for _, _, anon, user in sorted(anonymous_aliases):  # the latest alias wins
            if anon not in links:
                self.anonymous_mapping[anon] = canonical(user)

        excluded_canonical = {canonical(x) for x in self.excluded_ids}
        self.canonical = canonical
        self.excluded_canonical = excluded_canonical
        self.known_user_ids = {
            canonical(u) for u in user_ids | self.segment_users
        } - excluded_canonical
        self.merged = defaultdict(set)
        # every user id merged into another, including a previous_id known only from
        # the alias call that merged it (the users mart knows users from aliases too)
        for u in user_ids | self.segment_users | set(parent):
            if canonical(u) != u:
                self.merged[canonical(u)].add(u)

        kept = []
        for call in self.calls:
            if call.user_id is not None:
                call.resolved_user_id = canonical(call.user_id)
            elif call.anonymous_id is not None:
                call.resolved_user_id = self.anonymous_mapping.get(call.anonymous_id)
            call.person_id = call.resolved_user_id or call.anonymous_id
            if call.resolved_user_id not in excluded_canonical:
                kept.append(call)
        self.calls = kept

    def resolve(self, user_id: str | None, anonymous_id: str | None) -> str | None:
        if user_id is not None:
            return self.canonical(user_id)
        if anonymous_id is not None:
            return self.anonymous_mapping.get(anonymous_id)
        return None

    # --- sessions
    def _sessionize(self) -> None:
        by_device: dict[str, list[Call]] = defaultdict(list)
        for call in self.calls:
            if call.device_key is not None:
                by_device[call.device_key].append(call)
        self.sessions: list[dict] = []
        for device, calls in by_device.items():
            calls.sort(key=lambda c: (c.occurred_at, c.event_id))
            groups: list[list[Call]] = []
            for call in calls:
                if (
                    groups
                    and call.occurred_at - groups[-1][-1].occurred_at <= self.timeout
                ):
                    groups[-1].append(call)
                else:
                    groups.append([call])
            for group in groups:
                first = group[0]
                session_id = hashlib.md5(
                    f"{device}|{first.source_schema}|{first.event_id}".encode()
                ).hexdigest()
                for call in group:
                    call.session_id = session_id
                resolved = [c for c in group if c.resolved_user_id is not None]
                latest = resolved[-1].resolved_user_id if resolved else None
                pages = [c for c in group if c.event_type == "page"]
                self.sessions.append(
                    {
                        "session_id": session_id,
                        "person_id": latest or group[-1].anonymous_id,
                        "resolved_user_id": latest,
                        "anonymous_id": first.anonymous_id,
                        "source_schema": first.source_schema,
                        "started_at": first.occurred_at,
                        "ended_at": group[-1].occurred_at,
                        "event_count": len(group),
                        "page_view_count": len(pages),
                        "landing_page_path": pages[0].page_path if pages else None,
                        "exit_page_path": pages[-1].page_path if pages else None,
                        "channel": channel(
                            first.referrer, first.utm, self.internal, self.domains
                        ),
                    }
                )
        by_person: dict[str, list[dict]] = defaultdict(list)
        for session in self.sessions:
            by_person[session["person_id"]].append(session)
        for sessions in by_person.values():
            sessions.sort(key=lambda s: (s["started_at"], s["session_id"]))
            for number, session in enumerate(sessions, start=1):
                session["session_number"] = number

    # --- marts
    def events(self) -> dict[tuple[str, str], Call]:
        return {call.key: call for call in self.calls}

    def daily_event_counts(self) -> dict[tuple[date, str], tuple[int, int]]:
        events: dict[tuple, set] = defaultdict(set)
        persons: dict[tuple, set] = defaultdict(set)
        for call in self.calls:
            key = (call.occurred_at.astimezone(UTC).date(), call.event_name)
            events[key].add(call.key)
            if call.person_id is not None:
                persons[key].add(call.person_id)
        return {k: (len(events[k]), len(persons[k])) for k in events}

    def monthly_event_counts(self) -> dict[tuple[date, str], tuple[int, int]]:
        events: dict[tuple, set] = defaultdict(set)
        persons: dict[tuple, set] = defaultdict(set)
        for call in self.calls:
            day = call.occurred_at.astimezone(UTC).date()
            key = (day.replace(day=1), call.event_name)
            events[key].add(call.key)
            if call.person_id is not None:
                persons[key].add(call.person_id)
        return {k: (len(events[k]), len(persons[k])) for k in events}

    def daily_active_users(self) -> dict[date, tuple[int, int, int, int]]:
        if not self.calls:
            return {}
        persons_by_day: dict[date, set] = defaultdict(set)
        first_day: dict[str, date] = {}
        for call in self.calls:
            day = call.occurred_at.astimezone(UTC).date()
            persons_by_day[day]  # every event day is in range, with or without a person
            if call.person_id is None:
                continue
            persons_by_day[day].add(call.person_id)
            if call.person_id not in first_day or day < first_day[call.person_id]:
                first_day[call.person_id] = day
        start, end = min(persons_by_day), max(persons_by_day)
        result = {}
        day = start
        while day <= end:

            def window(n: int, day: date = day) -> int:
                seen: set = set()
                for offset in range(n):
                    seen |= persons_by_day.get(day - timedelta(days=offset), set())
                return len(seen)

            new = sum(1 for d in first_day.values() if d == day)
            result[day] = (window(1), window(7), window(28), new)
            day += timedelta(days=1)
        return result

    def weekly_retention(
        self, return_events: list[str] | None = None, max_weeks: int | None = None
    ) -> dict[tuple[date, int], tuple[int, int]]:
        """{(cohort Monday, N): (cohort size, persons with a returning event in
        week N)}, N from 0 to the latest event's week, at most max_weeks."""
        settings = project_vars()
        if return_events is None:
            return_events = settings["retention_return_events"]
        if max_weeks is None:
            max_weeks = settings["retention_max_weeks"]

        def monday(moment: datetime) -> date:
            day = moment.astimezone(UTC).date()
            return day - timedelta(days=day.weekday())

        first: dict[str, date] = {}
        returned: dict[str, set[date]] = defaultdict(set)
        for call in self.calls:
            if call.person_id is None:
                continue
            week = monday(call.occurred_at)
            first[call.person_id] = min(first.get(call.person_id, week), week)
            if not return_events or call.event_name in return_events:
                returned[call.person_id].add(week)
        if not first:
            return {}
        latest = max(monday(c.occurred_at) for c in self.calls)
        result = {}
        for cohort in set(first.values()):
            members = [p for p, week in first.items() if week == cohort]
            for n in range(min(max_weeks, (latest - cohort).days // 7) + 1):
                week = cohort + timedelta(weeks=n)
                kept = sum(1 for p in members if week in returned[p])
                result[(cohort, n)] = (len(members), kept)
        return result

    def funnel_conversions(
        self, funnels: dict[str, dict] | None = None
    ) -> dict[tuple[str, date, int], tuple]:
        """{(funnel, entry day, step): (entered, reached, median seconds from
        entry, median seconds from the previous step)}: each person's calls in
        (occurred_at, event_id) order, walked forward step by step."""
        if funnels is None:
            funnels = funnel_definitions()
        default_hours = project_vars()["funnel_window_hours"]
        by_person: dict[str, list[Call]] = defaultdict(list)
        for call in self.calls:
            if call.person_id is not None:
                by_person[call.person_id].append(call)
        for calls in by_person.values():
            calls.sort(key=lambda c: (c.occurred_at, c.event_id, c.source_schema))

        def value(call: Call, name: str) -> str | None:
            found = call.properties.get(name)
            if found is None and call.event_type == "page":
                found = {"path": call.page_path, "url": call.page_url,
                         "referrer": call.referrer}.get(name)  # fmt: skip
            if isinstance(found, bool):
                return "true" if found else "false"
            return None if found is None else str(found)

        def matches(call: Call, step: tuple) -> bool:
            event, name, wanted = step
            return call.event_name == event and (
                name is None or value(call, name) == wanted
            )

        reached: dict[tuple, list[tuple]] = defaultdict(list)
        for funnel, definition in funnels.items():
            hours = definition["window"]
            window = timedelta(hours=default_hours if hours != hours else hours)
            steps = definition["steps"]
            for calls in by_person.values():
                entries: dict[date, int] = {}
                for index, call in enumerate(calls):
                    day = call.occurred_at.astimezone(UTC).date()
                    if day not in entries and matches(call, steps[0]):
                        entries[day] = index
                for day, entry in entries.items():
                    entered_at = calls[entry].occurred_at
                    position, previous_at = entry, entered_at
                    reached[(funnel, day, 1)].append((0.0, None))
                    for number, step in enumerate(steps[1:], start=2):
                        later = [
                            i for i in range(position + 1, len(calls))
                            if matches(calls[i], step)
                        ]  # fmt: skip
                        if (
                            not later
                            or calls[later[0]].occurred_at > entered_at + window
                        ):
                            break
                        position = later[0]
                        at = calls[position].occurred_at
                        reached[(funnel, day, number)].append(
                            ((at - entered_at).total_seconds(),
                             (at - previous_at).total_seconds())
                        )  # fmt: skip
                        previous_at = at
        result = {}
        for funnel, definition in funnels.items():
            days = {day for (name, day, step) in reached if name == funnel}
            for day in days:
                entered = len(reached[(funnel, day, 1)])
                for number in range(1, len(definition["steps"]) + 1):
                    found = reached.get((funnel, day, number), [])
                    from_entry = [f for f, _ in found]
                    from_previous = [p for _, p in found if p is not None]
                    result[(funnel, day, number)] = (
                        entered,
                        len(found),
                        statistics.median(from_entry) if from_entry else None,
                        statistics.median(from_previous) if from_previous else None,
                    )
        return result

    def users(self) -> dict[str, dict]:
        traits: dict[str, dict] = defaultdict(dict)
        ordered = sorted(self.identifies, key=lambda r: (occurred_at(r), r["id"]))
        for row in ordered:
            resolved = self.resolve(
                self._clean(row.get("user_id")), self._clean(row.get("anonymous_id"))
            )
            if resolved is None:
                continue
            for column, value in row.items():
                if column in NOT_PROPERTIES or column.startswith("context_"):
                    continue
                if column.startswith("_") or value is None:
                    continue
                traits[resolved][column] = value  # later calls overwrite earlier ones
        result = {}
        for user_id in self.known_user_ids:
            calls = [c for c in self.calls if c.resolved_user_id == user_id]
            sessions = [s for s in self.sessions if s["resolved_user_id"] == user_id]
            first_sessions = [
                s
                for s in self.sessions
                if s["person_id"] == user_id and s["session_number"] == 1
            ]
            result[user_id] = {
                "merged_user_ids": sorted(self.merged.get(user_id, set())),
                "first_seen_at": min((c.occurred_at for c in calls), default=None),
                "last_seen_at": max((c.occurred_at for c in calls), default=None),
                "event_count": len(calls),
                "session_count": len(sessions),
                "first_touch_channel": (
                    first_sessions[0]["channel"] if first_sessions else None
                ),
                "traits": traits.get(user_id, {}),
            }
        return result
