"""`generate_batch`: append one simulated Segment sync to one or more sources.

The steps: read the generator's log (previous batches, the population), plan
the window of every source, generate rows into per-table files (in worker
processes for large batches), then create/alter tables and COPY the files
(several new tables at once when a connection factory is given), upsert
`users`/`accounts`, and log the batch. Library code: no printing; progress goes
to an optional callback `progress(phase, done, total)` with phase `"generate"`
(people) or `"load"` (bytes).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from random import Random

import psycopg
from psycopg import errors, sql

from ..children import die_with_parent
from . import load
from .schema import GROUP_TRAITS, KINDS, TRAITS, UPSERTED, WEB, table_specs
from .simulate import (
    ChunkResult,
    Plan,
    SourcePlan,
    chunk_bounds,
    cpu_count,
    run_chunk,
    run_faults,
)
from .timefmt import DAY, MINUTE, from_ms, parse_moment, to_ms
from .world import TAG_FAULTS, World, draw_core, expected_events, key

DEFAULT_SOURCE = "production:web"
DEFAULT_SEED = 42
FIRST_BATCH_DAYS = 90.0
LATER_BATCH_DAYS = 1.0
FIRST_BATCH_EVENTS_PER_DAY = 1000
FAULT_SHARE = 0.006  # late rows, junk ids and future timestamps, of all events
PARALLEL_FROM_EVENTS = 40_000
# Ranges of the arguments. 10M events take about 8 GB in PostgreSQL (and as much
# again in temporary files while loading), so the maximum batch is about 80 GB.
MAX_EVENTS = 100_000_000
MAX_DAYS = 3650.0
MAX_SOURCES = 20
MAX_WORKERS = 32
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
# New tables load on side connections into a schema of their own, then move into
# the source schema inside the batch's transaction: a batch is all or nothing.
STAGING_PREFIX = "segment_reports_load_"
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

Progress = Callable[[str, int, int], None]


class GeneratorError(ValueError):
    """Bad arguments or a state the generator cannot continue from."""


@dataclass(frozen=True)
class Source:
    """A Segment source: its schema name and kind (web or mobile)."""

    name: str
    kind: str = WEB

    def __str__(self) -> str:
        return f"{self.name}:{self.kind}"


def parse_source(text: str) -> Source:
    """`NAME[:web|mobile]` -> Source; schema names are lowercased as Segment does."""
    name, _, kind = text.strip().partition(":")
    name = name.strip().lower()
    kind = (kind or WEB).strip().lower()
    if kind not in KINDS:
        raise GeneratorError(
            f"source '{text}': unknown kind '{kind}' (use {' or '.join(KINDS)})"
        )
    if name == load.LOG_SCHEMA:
        raise GeneratorError(
            f"source '{text}': '{name}' is the generator's own log schema"
        )
    if not _SCHEMA_NAME.match(name):
        raise GeneratorError(
            f"source '{text}': '{name}' is not a valid schema name (letters, digits "
            "and underscores, not starting with a digit, at most 63 characters)"
        )
    return Source(name, kind)


@dataclass
class SourceBatch:
    """What one batch wrote into one source schema."""

    schema: str
    kind: str
    batch_number: int
    period_start: datetime
    period_end: datetime
    uuid_ts: datetime
    events: int
    rows: dict[str, int]
    new_tables: list[str] = field(default_factory=list)
    added_columns: list[str] = field(default_factory=list)
    load_seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class BatchResult:
    sources: list[SourceBatch]
    population: int
    world_seed: int
    seed: int
    notes: list[str]
    seconds: float
    generate_seconds: float
    load_seconds: float

    @property
    def events(self) -> int:
        return sum(s.events for s in self.sources)

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


@dataclass
class _SourceState:
    source: Source
    previous: list[dict]
    start_ms: int = 0
    end_ms: int = 0
    batch_number: int = 1
    salt: int = 0
    uuid_ts_ms: int = 0
    expected: float = 0.0
    plan: SourcePlan | None = None


def _source_key(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big")


def _to_source(value: str | Source) -> Source:
    return value if isinstance(value, Source) else parse_source(value)


def _moment_ms(option: str, value: datetime | str | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = parse_moment(value)
        except ValueError as exc:
            raise GeneratorError(f"{option}: {exc}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if value < EARLIEST:
        raise GeneratorError(
            f"{option} must be {EARLIEST:%Y-%m-%d} or later "
            f"(got {_label(to_ms(value))})"
        )
    return to_ms(value)


@dataclass(frozen=True)
class Arguments:
    """A batch's arguments, checked: explicit start and end in epoch milliseconds."""

    sources: list[Source]
    events: int | None
    days: float | None
    seed: int
    start_ms: int | None
    end_ms: int | None
    workers: int | None


def check_arguments(
    sources: Sequence[str | Source] = (DEFAULT_SOURCE,),
    events: int | None = None,
    days: float | None = None,
    seed: int = DEFAULT_SEED,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    workers: int | None = None,
) -> Arguments:
    """Check every argument's range before any work; the error names the option."""
    chosen = [_to_source(s) for s in sources]
    if not chosen:
        raise GeneratorError("--source: no source given")
    if len(chosen) > MAX_SOURCES:
        raise GeneratorError(
            f"--source: at most {MAX_SOURCES} sources in one batch (got {len(chosen)})"
        )
    names = [s.name for s in chosen]
    for name in names:
        if names.count(name) > 1:
            raise GeneratorError(f"--source: source '{name}' is given more than once")
    if events is not None and not 1 <= events <= MAX_EVENTS:
        raise GeneratorError(
            f"--events must be between 1 and {MAX_EVENTS:,} (got {events:,})"
        )
    if days is not None and not (days * DAY >= MINUTE and days <= MAX_DAYS):
        raise GeneratorError(
            f"--days must be at least one minute ({MINUTE / DAY:.4f}) and at most "
            f"{MAX_DAYS:g} (got {days:g})"
        )
    if not 0 <= seed < 2**63:
        raise GeneratorError(f"--seed must be between 0 and 2**63-1 (got {seed})")
    if workers is not None and not 1 <= workers <= MAX_WORKERS:
        raise GeneratorError(
            f"--workers must be between 1 and {MAX_WORKERS} (got {workers})"
        )
    if start is not None and end is not None:
        raise GeneratorError(
            "--start and --end exclude each other: give one, and --days for the length"
        )
    return Arguments(
        chosen,
        events,
        days,
        seed,
        _moment_ms("--start", start),
        _moment_ms("--end", end),
        workers,
    )


def generate_batch(
    conn: psycopg.Connection,
    sources: Sequence[str | Source] = (DEFAULT_SOURCE,),
    events: int | None = None,
    days: float | None = None,
    seed: int = DEFAULT_SEED,
    start: datetime | str | None = None,
    *,
    end: datetime | str | None = None,
    now: datetime | None = None,
    connect: Callable[[], psycopg.Connection] | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    tmpdir: str | Path | None = None,
    faults: bool = True,
) -> BatchResult:
    """Append one sync batch of simulated Segment data to each source schema.

    `events`: approximate tracks+pages+screens calls over all sources (default:
    the population's established rate; 1,000/day for a schema's first batch).
    `days`: the period length (default 90 for a first batch, else 1). The period
    starts at `start`, or ends at `end` (give at most one); by default it
    continues where the schema's previous batch ended, and a first batch ends at
    the start of the current UTC day (`now`, default the clock), so the same
    arguments give the same data all day long. A batch that would end after
    `now` is refused: a sync never holds events from the future.
    `connect` opens extra connections so new tables load in parallel;
    `workers` is the number of generator processes (default: by size).
    `faults=False` leaves out late rows, wrong manual timestamps and junk ids
    (everything else, including clock skew and shared devices, stays).

    The batch is all or nothing: interrupted (KeyboardInterrupt) or failed, it
    leaves the source schemas and the log as they were.
    """
    began = time.perf_counter()
    args = check_arguments(sources, events, days, seed, start, end, workers)
    now_ms = to_ms(now) if now is not None else int(time.time() * 1000)
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        raise GeneratorError(
            "the connection has an open transaction: commit or roll back first"
        )
    saved_autocommit = conn.autocommit
    conn.autocommit = True
    try:
        conn.execute("select pg_advisory_lock(%s)", (load.LOCK_KEY,))
        try:
            return _generate(
                conn,
                args,
                now_ms,
                connect=connect,
                progress=progress,
                tmpdir=tmpdir,
                faults=faults,
                began=began,
            )
        finally:
            # a broken connection has released the lock already
            with contextlib.suppress(psycopg.Error):
                conn.execute("select pg_advisory_unlock(%s)", (load.LOCK_KEY,))
    finally:
        with contextlib.suppress(psycopg.Error):
            conn.autocommit = saved_autocommit


def _generate(
    conn: psycopg.Connection,
    args: Arguments,
    now_ms: int,
    *,
    connect,
    progress,
    tmpdir,
    faults: bool,
    began: float,
) -> BatchResult:
    chosen, events, days, seed = args.sources, args.events, args.days, args.seed
    notes: list[str] = []
    states = [_SourceState(s, load.read_batches(conn, s.name)) for s in chosen]
    for state in states:
        if state.previous and state.previous[-1]["source_kind"] != state.source.kind:
            raise GeneratorError(
                f"--source '{state.source}': schema '{state.source.name}' was "
                f"generated as a {state.previous[-1]['source_kind']} source"
            )
    established = [s for s in states if s.previous]
    if days is None:
        days = LATER_BATCH_DAYS if established else FIRST_BATCH_DAYS
    length = int(days * DAY)

    # --- the world and each source's window -----------------------------------------
    world: World | None = None
    if established:
        last = established[0].previous[-1]
        world = World(
            seed=last["world_seed"],
            anchor_ms=to_ms(last["anchor_at"]),
            population=last["population"],
            release_ms=to_ms(last["release_at"]),
        )
        for state in established[1:]:
            other = state.previous[-1]
            if (other["world_seed"], other["population"]) != (
                world.seed,
                world.population,
            ):
                notes.append(
                    f"schema '{state.source.name}' was generated for another "
                    "population; "
                    f"using the one of '{established[0].source.name}' for all sources"
                )
    fixed_start = args.start_ms
    if args.end_ms is not None:
        fixed_start = args.end_ms - length
    if fixed_start is not None:
        default_start = fixed_start
    elif established:
        default_start = _latest_end(established[0].previous)
    else:
        # The start of the current UTC day, not the clock: the same arguments
        # give the same data whenever they run that day.
        default_start = (now_ms // DAY) * DAY - length
    if world is None:
        world = World(seed, default_start, 0, default_start + length)

    for state in states:
        previous = state.previous
        if fixed_start is not None:
            state.start_ms = fixed_start
        elif previous:
            state.start_ms = _latest_end(previous)
        else:
            state.start_ms = default_start
        state.end_ms = state.start_ms + length
        _refuse_future(state, now_ms)
        state.batch_number = previous[-1]["batch_number"] + 1 if previous else 1
        overlapping = [
            b
            for b in previous
            if to_ms(b["period_start"]) < state.end_ms
            and state.start_ms < to_ms(b["period_end"])
        ]
        if overlapping:
            state.salt = state.batch_number
            numbers = ", ".join(str(b["batch_number"]) for b in overlapping)
            notes.append(
                f"{state.source.name}: the period {_label(state.start_ms)} to "
                f"{_label(state.end_ms)} overlaps batch {numbers}; appended new, "
                "different calls for that time (fresh ids), nothing was replaced"
            )
        elif previous and state.start_ms > _latest_end(previous):
            notes.append(
                f"{state.source.name}: starts at {_label(state.start_ms)}, after the "
                f"previous batches ended ({_label(_latest_end(previous))}); "
                "the time in between has no data"
            )
        jitter = Random(key(seed, state.batch_number, _source_key(state.source.name)))
        uuid_ts = state.end_ms + 4 * MINUTE + int(jitter.random() * 120_000)
        if previous:
            uuid_ts = max(uuid_ts, to_ms(previous[-1]["uuid_ts"]) + MINUTE)
        state.uuid_ts_ms = uuid_ts

    # --- population and rate ----------------------------------------------------------
    windows = [(s.source.kind, s.start_ms, s.end_ms) for s in states]
    regular_share = 1 - FAULT_SHARE if faults else 1.0
    if world.population == 0:
        target = events if events is not None else FIRST_BATCH_EVENTS_PER_DAY * days
        population, expected = _calibrate(world, windows, target * regular_share)
        world = World(world.seed, world.anchor_ms, population, world.release_ms)
        rate_scale = 1.0
    else:
        expected = _expected(world, windows)
        rate_scale = 1.0
        if events is not None:
            natural = sum(expected)
            rate_scale = events * regular_share / natural if natural else 1.0
            notes.append(
                f"kept the population of {world.population:,} people and scaled their "
                f"activity by {rate_scale:.2f} to reach about {events:,} events"
            )
            expected = [e * rate_scale for e in expected]
    if sum(expected) > MAX_EVENTS:
        raise GeneratorError(
            f"--days {days:g} at this population's rate would give about "
            f"{sum(expected):,.0f} events, more than the maximum of {MAX_EVENTS:,} "
            "in one batch: give fewer --days or --events"
        )

    batch_seed = seed
    for state, estimate in zip(states, expected, strict=True):
        state.expected = estimate
        skey = _source_key(state.source.name)
        state.plan = SourcePlan(
            schema=state.source.name,
            kind=state.source.kind,
            source_key=skey,
            stream_key=key(world.seed, world.anchor_ms, batch_seed, state.salt, skey),
            fault_key=key(
                TAG_FAULTS,
                world.seed,
                world.anchor_ms,
                batch_seed,
                state.batch_number,
                skey,
            ),
            start_ms=state.start_ms,
            end_ms=state.end_ms,
            uuid_ts_ms=state.uuid_ts_ms,
            rate_scale=rate_scale,
            expected_events=estimate,
        )
    plan = Plan(world, tuple(s.plan for s in states), faults)

    # --- generate ---------------------------------------------------------------------
    workers = args.workers
    if workers is None:
        workers = 1 if sum(expected) < PARALLEL_FROM_EVENTS else min(cpu_count(), 8)
    arguments = {
        "sources": [str(s) for s in chosen],
        "events": events,
        "days": days,
        "seed": seed,
        "start": None if args.start_ms is None else _label(args.start_ms),
        "end": None if args.end_ms is None else _label(args.end_ms),
        "faults": faults,
    }

    def write_logs(batches: list[SourceBatch]) -> None:
        for state, batch in zip(states, batches, strict=True):
            load.write_log(
                conn,
                {
                    "schema_name": state.source.name,
                    "batch_number": state.batch_number,
                    "source_kind": state.source.kind,
                    "seed": seed,
                    "world_seed": world.seed,
                    "anchor_at": from_ms(world.anchor_ms),
                    "release_at": from_ms(world.release_ms),
                    "population": world.population,
                    "rate_scale": rate_scale,
                    "period_start": from_ms(state.start_ms),
                    "period_end": from_ms(state.end_ms),
                    "uuid_ts": from_ms(state.uuid_ts_ms),
                    "overlap_salt": state.salt,
                    "events": batch.events,
                    "row_counts": batch.rows,
                    "arguments": arguments,
                },
            )

    load.ensure_log(conn)
    workdir = Path(tempfile.mkdtemp(prefix="segment-reports-generate-", dir=tmpdir))
    try:
        generated = time.perf_counter()
        parts = _run_generation(plan, workers, workdir, progress)
        generate_seconds = time.perf_counter() - generated
        loaded = time.perf_counter()
        batches = _load(
            conn, plan, states, parts, connect, workers, progress, write_logs
        )
        load_seconds = time.perf_counter() - loaded
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return BatchResult(
        sources=batches,
        population=world.population,
        world_seed=world.seed,
        seed=seed,
        notes=notes,
        seconds=time.perf_counter() - began,
        generate_seconds=generate_seconds,
        load_seconds=load_seconds,
    )


def _refuse_future(state: _SourceState, now_ms: int) -> None:
    """A batch never holds events after the current time: refuse, do not clip.

    Clipping would make the data depend on when the command ran.
    """
    if state.end_ms <= now_ms:
        return
    room = math.floor((now_ms - state.start_ms) / DAY * 10_000) / 10_000
    if room * DAY >= MINUTE:
        hint = f"give --days {room:g} or less, or an earlier --end"
    else:
        hint = f"it would start at {_label(state.start_ms)}: give an earlier --end"
    raise GeneratorError(
        f"--source '{state.source.name}': the batch would end at "
        f"{_label(state.end_ms)}, after the current time {_label(now_ms)}; a batch "
        f"never holds future events: {hint}"
    )


def _latest_end(batches: list[dict]) -> int:
    """Where the next batch continues: the end of the latest period loaded."""
    return max(to_ms(b["period_end"]) for b in batches)


def _label(ms: int) -> str:
    return from_ms(ms).isoformat().replace("+00:00", "Z")


def _calibrate(
    world: World, windows: list[tuple[str, int, int]], target: float
) -> tuple[int, list[float]]:
    """Add people until their expected events in the windows reach `target`."""
    expected = [0.0] * len(windows)
    total = 0.0
    population = 0
    while total < target or population == 0:
        core, _ = draw_core(world, population)
        for i, (kind, start, end) in enumerate(windows):
            value = expected_events(core, kind, start, end)
            expected[i] += value
            total += value
        population += 1
    return population, expected


def _expected(world: World, windows: list[tuple[str, int, int]]) -> list[float]:
    expected = [0.0] * len(windows)
    for index in range(world.population):
        core, _ = draw_core(world, index)
        for i, (kind, start, end) in enumerate(windows):
            expected[i] += expected_events(core, kind, start, end)
    return expected


# --- generation -----------------------------------------------------------------------
def _run_generation(
    plan: Plan, workers: int, workdir: Path, progress: Progress | None
) -> list[ChunkResult]:
    population = plan.world.population
    chunks = chunk_bounds(population, max(1, workers * 6) if workers > 1 else 20)
    results: dict[int, ChunkResult] = {}
    done = 0
    if progress:
        progress("generate", 0, population)
    if workers == 1:
        for number, (lo, hi) in enumerate(chunks):
            results[number] = run_chunk(
                plan, lo, hi, str(workdir / f"chunk{number:05d}")
            )
            done += hi - lo
            if progress:
                progress("generate", done, population)
        results[len(chunks)] = run_faults(plan, str(workdir / "faults"))
    else:
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=get_context("spawn"),
            initializer=_worker_started,
            initargs=(os.getpid(),),
        )
        try:
            # the faults first: one task, so it does not end up alone at the end
            futures = {
                pool.submit(run_faults, plan, str(workdir / "faults")): len(chunks)
            }
            for n, (lo, hi) in enumerate(chunks):
                folder = str(workdir / f"chunk{n:05d}")
                futures[pool.submit(run_chunk, plan, lo, hi, folder)] = n
            for future in as_completed(futures):
                number = futures[future]
                results[number] = future.result()
                done += results[number].persons
                if progress:
                    progress("generate", done, population)
        except BaseException:
            _stop_workers(pool)
            raise
        pool.shutdown()
    return [results[n] for n in sorted(results)]


def _worker_started(parent: int) -> None:
    """In each worker process: Ctrl-C is the parent's to handle, and a parent that
    dies (even by SIGKILL) takes its workers along."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(signal.SIGTERM, parent)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """End the workers now: shutting the pool down would wait for running chunks.

    The pool has no public way to end its processes before Python 3.14
    (`terminate_workers`), hence `_processes`.
    """
    processes = list((pool._processes or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join()


# --- loading --------------------------------------------------------------------------
@dataclass
class _TableLoad:
    schema: str
    table: str
    layout: list[str]
    types: dict[str, str]
    paths: list[str]
    rows: int
    size: int
    new: bool
    create_columns: list[str]
    add_columns: list[str]
    copy_columns: list[str]
    seconds: float = 0.0
    # where the table is created and loaded: its source schema, or a staging
    # schema when it loads on a side connection
    load_schema: str = ""


def _load(
    conn: psycopg.Connection,
    plan: Plan,
    states: list[_SourceState],
    parts: list[ChunkResult],
    connect,
    workers: int,
    progress: Progress | None,
    write_logs: Callable[[list[SourceBatch]], None],
) -> list[SourceBatch]:
    """Load the generated files and log the batch, all in one transaction.

    New tables loaded on side connections wait in staging schemas until that
    transaction moves them into their source schema.
    """
    load.drop_schemas(conn, load.schemas_like(conn, STAGING_PREFIX))
    loads: list[_TableLoad] = []
    batches: list[SourceBatch] = []
    upserts: dict[str, list[tuple]] = {}
    for state, src in zip(states, plan.sources, strict=True):
        specs = table_specs(src.kind)
        existing = load.existing_tables(conn, src.schema)
        batch = SourceBatch(
            schema=src.schema,
            kind=src.kind,
            batch_number=state.batch_number,
            period_start=from_ms(src.start_ms),
            period_end=from_ms(src.end_ms),
            uuid_ts=from_ms(src.uuid_ts_ms),
            events=sum(p.events.get(src.schema, 0) for p in parts),
            rows={},
        )
        batches.append(batch)
        for table, spec in specs.items():
            pieces = [
                p.tables[(src.schema, table)]
                for p in parts
                if (src.schema, table) in p.tables
            ]
            if not pieces:
                continue
            mask = 0
            for piece in pieces:
                mask |= piece.mask
            present = spec.present(mask)
            have = existing.get(table)
            if have is None:
                create = load.creation_order(present)
                add: list[str] = []
                copy_columns = [c for c in spec.layout if c in present]
                batch.new_tables.append(table)
            else:
                create = []
                add = sorted(c for c in present if c not in have)
                copy_columns = [c for c in spec.layout if c in present or c in have]
                batch.added_columns += [f"{table}.{c}" for c in add]
            rows = sum(p.rows for p in pieces)
            batch.rows[table] = rows
            loads.append(
                _TableLoad(
                    schema=src.schema,
                    table=table,
                    layout=spec.layout,
                    types=spec.types,
                    paths=[p.path for p in pieces],
                    rows=rows,
                    size=sum(p.size for p in pieces),
                    new=have is None,
                    create_columns=create,
                    add_columns=add,
                    copy_columns=copy_columns,
                )
            )
        users_rows, users_mask = 0, 0
        for p in parts:
            rows, mask = p.users.get(src.schema, (0, 0))
            users_rows += rows
            users_mask |= mask
        identifies = specs["identifies"]
        trait_columns = [
            name
            for i, (name, _) in enumerate(TRAITS)
            if users_mask & identifies.tail_bit(i)
        ]
        upserts[src.schema] = []
        if users_rows:
            upserts[src.schema].append(
                ("users", trait_columns, identifies.types, existing)
            )
        if "groups" in batch.rows:
            groups = specs["groups"]
            traits = [c for c in groups.layout[groups.tail_shift + 1 :]]
            upserts[src.schema].append(("accounts", traits, groups.types, existing))

    total_bytes = sum(t.size for t in loads)
    sent = 0
    lock = threading.Lock()

    def on_bytes(count: int) -> None:
        nonlocal sent
        with lock:
            sent += count
            if progress:
                progress("load", sent, total_bytes)

    if progress:
        progress("load", 0, total_bytes)
    parallel = (
        [t for t in loads if t.new] if connect is not None and workers > 1 else []
    )
    staging = sorted({_staging_schema(t.schema) for t in parallel})
    for item in loads:
        item.load_schema = _staging_schema(item.schema) if item in parallel else ""
    try:
        if parallel:
            for schema in staging:
                conn.execute(sql.SQL("create schema {}").format(sql.Identifier(schema)))
            _load_parallel(parallel, connect, workers, on_bytes)
        with conn.transaction():
            cur = conn.cursor()
            cur.execute("set local synchronous_commit = off")
            for src in plan.sources:
                cur.execute(
                    sql.SQL("create schema if not exists {}").format(
                        sql.Identifier(src.schema)
                    )
                )
            for item in parallel:
                cur.execute(
                    sql.SQL("alter table {} set schema {}").format(
                        load.qualified(item.load_schema, item.table),
                        sql.Identifier(item.schema),
                    )
                )
            for item in sorted(loads, key=lambda t: -t.size):
                if item not in parallel:
                    _load_table(cur, item, on_bytes)
            for batch, src in zip(batches, plan.sources, strict=True):
                for target, traits, types, existing in upserts[src.schema]:
                    source, key_column = UPSERTED[target]
                    have = existing.get(target)
                    if have is None:
                        load.create_table(
                            cur,
                            src.schema,
                            target,
                            load.creation_order(traits),
                            types,
                            primary_key=True,
                        )
                        batch.new_tables.append(target)
                    else:
                        extra = sorted(t for t in traits if t not in have)
                        load.add_columns(cur, src.schema, target, extra, types)
                        batch.added_columns += [f"{target}.{c}" for c in extra]
                    columns = set(traits) | set(have or ())
                    merge = [t for t in types if t in columns and _is_trait(target, t)]
                    batch.rows[target] = load.upsert(
                        cur,
                        src.schema,
                        target,
                        source,
                        key_column,
                        merge,
                        from_ms(src.uuid_ts_ms),
                    )
            write_logs(batches)
            load.drop_schemas(conn, staging)
        for item in loads:
            batch = next(b for b in batches if b.schema == item.schema)
            batch.load_seconds[item.table] = round(item.seconds, 3)
    except errors.UniqueViolation as exc:
        _undo(conn, staging)
        raise GeneratorError(
            "rows with the same message ids are already loaded "
            f"({exc.diag.table_name or 'a table'}): the generator's log "
            f"({load.LOG_SCHEMA}.{load.LOG_TABLE}) does not know this schema's "
            "earlier batches; use another --seed or drop the schema"
        ) from exc
    except BaseException:
        _undo(conn, staging)
        raise
    return batches


def _staging_schema(schema: str) -> str:
    return f"{STAGING_PREFIX}{_source_key(schema):016x}"


_TRAIT_NAMES = {
    "users": {name for name, _ in TRAITS},
    "accounts": {name for name, _ in GROUP_TRAITS},
}


def _is_trait(target: str, column: str) -> bool:
    return column in _TRAIT_NAMES[target]


def _load_table(cur: psycopg.Cursor, item: _TableLoad, on_bytes) -> None:
    began = time.perf_counter()
    schema = item.load_schema or item.schema
    if item.new:
        load.create_table(cur, schema, item.table, item.create_columns, item.types)
    else:
        load.add_columns(cur, schema, item.table, item.add_columns, item.types)
    load.copy_files(
        cur,
        schema,
        item.table,
        item.layout,
        item.copy_columns,
        item.paths,
        freeze=item.new,
        on_bytes=on_bytes,
    )
    if item.new:
        load.add_primary_key(cur, schema, item.table)
    item.seconds = time.perf_counter() - began


def _load_parallel(
    items: list[_TableLoad],
    connect: Callable[[], psycopg.Connection],
    jobs: int,
    on_bytes,
) -> None:
    """New tables, each in its own transaction on one of `jobs` connections.

    Interrupted in the main thread (Ctrl-C, SIGTERM), it cancels the running
    COPYs instead of waiting for them to finish.
    """
    pending = sorted(items, key=lambda t: -t.size)
    queue_lock = threading.Lock()
    stop = threading.Event()
    sides: list[psycopg.Connection] = []

    def worker() -> None:
        with connect() as side:
            side.autocommit = True
            with queue_lock:
                sides.append(side)
            while not stop.is_set():
                with queue_lock:
                    if not pending:
                        return
                    item = pending.pop(0)
                try:
                    with side.transaction():
                        cur = side.cursor()
                        cur.execute("set local synchronous_commit = off")
                        _load_table(cur, item, on_bytes)
                except BaseException:
                    stop.set()
                    raise

    count = min(jobs, len(items))
    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(worker) for _ in range(count)]
        try:
            for future in as_completed(futures):
                future.result()
        except BaseException:
            stop.set()
            with queue_lock:
                for side in sides:
                    with contextlib.suppress(psycopg.Error):
                        side.cancel_safe()
            raise


def _undo(conn: psycopg.Connection, staging: list[str]) -> None:
    """Drop the staging schemas of a failed batch (its transaction rolled back).

    When the connection is unusable, the next batch drops them.
    """
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        return
    with contextlib.suppress(psycopg.Error):
        load.drop_schemas(conn, staging)


def read_batches(conn: psycopg.Connection, schema: str | None = None) -> list[dict]:
    """The generator's log of batches (all schemas, or one), oldest first."""
    return load.read_batches(conn, schema)
