"""Realistic Segment warehouse data for demos, tests and benchmarks.

`generate_batch(conn, sources=["production:web", "ios:mobile"], events=..., days=...,
seed=..., start=...)` appends one simulated sync batch to each source schema, writing
the raw tables the way Segment's Postgres connector does. The CLI is
`segment-reports generate` (command.py).

The product: HarborDB, a managed-database hosting service (`.example` domains,
documentation IP ranges). People browse the marketing site anonymously (landing
pages with referrers and utm campaigns, docs, blog, pricing), sign up (`signed_up`,
an identify with name, email, plan, company, created_at, role), log in on more
devices (`logged_in`), create deployments (`deployments_new`: deployment_name,
deployment_type, size_gb, plan, and `region` from the release date on), view them
(`deployments_show`), scale them, back them up, invite teammates, download
invoices, upgrade plans (`"PlanUpgraded"`), enable 2FA (`"2fa_enabled"`), and use
the mobile app (`application_opened`, screens, `alert_acknowledged`).

Funnels and channels have something to show: each person has an origin
(catalog.ORIGINS: direct, organic or paid search, email, organic or paid social,
referral) that brings most of their marketing visits, with its referrer or utm
campaign, and scales how often they come back (email and direct visitors return
most, paid social least). A signed-out visitor who clicks a call to action opens
the sign-up form and leaves 30% of the time; 30% of users never create a
deployment and a quarter of the rest take days to create their first; one new
deployment in ten is not opened at once.

Tables and columns (schema.py): `tracks`, `pages` (web), `screens` (mobile),
`identifies`, `groups` and `aliases` (web), one table per track event, and the
upserted `users` and `accounts`. Every table starts `id varchar(1024)` (primary
key), `received_at`, `uuid_ts`; the other columns of a new table follow by name;
columns added later are appended. A table appears with its first row and a column
with its first non-null value. Types follow the first value: `size_gb` and
friends are `bigint` in a web source and `numeric` in a mobile one.

Time: `received_at` falls inside the batch period; `timestamp = received_at -
(sent_at - original_timestamp)` exactly; every row of one batch and source has the
same `uuid_ts`, a few minutes after the period ends (strictly increasing per
schema). Faults in every batch: late rows (an offline mobile queue or a web
replay flushed in this period, `timestamp` 1 to 45 days earlier), device clocks
minutes to hours off (`sent_at`/`original_timestamp` off, `timestamp` right),
wrong manual timestamps 2 to 365 days in the future, user ids `'undefined'`,
`'null'` and `''` and empty anonymous ids, shared devices, legacy user ids merged
by `aliases` (and old-style aliases from an anonymous id at signup), pauses of
exactly 30 minutes and around it. `faults=False` leaves out the late rows, future
timestamps and junk ids.

`users` holds one row per distinct `identifies.user_id` that is not null and not
`''` (a decision: an empty id names nobody, while `'undefined'` and `'null'` are
just strings to Segment and do get rows, as they would in a real warehouse); each
trait holds the newest non-null value, newest by `uuid_ts`, then `received_at`,
then `id`. `accounts` is the same over `groups` by
`group_id`.

Determinism: the first batch of a schema fixes the world (its seed, its start as
the anchor of signup dates, the population sized from events per day, the release
date of `region` at the end of that batch); later batches reuse it, so the same
seed, arguments and earlier batches give the same rows. Without `start` or `end`
a first batch ends at the start of the current UTC day (never the clock's hour),
so the same arguments give the same rows all day, and on any day with `end`. A
batch that would end after the current time is refused rather than clipped
(clipping would tie the data to the clock). A batch whose period overlaps an
earlier one gets fresh, different calls (never duplicate ids). The log is
`segment_reports_generator.batches`.

All or nothing: the rows, the `users`/`accounts` upserts and the log entry of a
batch commit in one transaction; new tables loaded on side connections wait in
`segment_reports_load_*` staging schemas until that transaction moves them into
their source schema. A batch that fails or is interrupted leaves the source
schemas as they were; staging schemas left by a killed process are dropped by
the next batch.
"""

from .batch import (
    DEFAULT_SEED,
    DEFAULT_SOURCE,
    BatchResult,
    GeneratorError,
    Source,
    SourceBatch,
    check_arguments,
    generate_batch,
    parse_source,
    read_batches,
)
from .load import LOG_SCHEMA, LOG_TABLE

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_SOURCE",
    "LOG_SCHEMA",
    "LOG_TABLE",
    "BatchResult",
    "GeneratorError",
    "Source",
    "SourceBatch",
    "check_arguments",
    "generate_batch",
    "parse_source",
    "read_batches",
]
