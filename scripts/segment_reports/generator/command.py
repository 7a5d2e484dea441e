"""`segment-reports generate`: the CLI over `generate_batch`."""

from __future__ import annotations

import sys

import click
import psycopg
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from .. import connection
from ..exits import FAILED, ConfigError, interruption, sigterm_raises
from .batch import (
    DEFAULT_SEED,
    DEFAULT_SOURCE,
    FIRST_BATCH_DAYS,
    FIRST_BATCH_EVENTS_PER_DAY,
    MAX_DAYS,
    MAX_EVENTS,
    MAX_SOURCES,
    MAX_WORKERS,
    BatchResult,
    GeneratorError,
    Source,
    check_arguments,
    generate_batch,
    parse_source,
)
from .load import LOG_SCHEMA, LOG_TABLE

console = Console(stderr=True)


def _sources(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> list[Source]:
    try:
        return [parse_source(v) for v in values or (DEFAULT_SOURCE,)]
    except GeneratorError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


@click.command()
@click.option(
    "--source",
    "sources",
    multiple=True,
    callback=_sources,
    metavar="NAME[:web|mobile]",
    help="A Segment source (schema) to append to; repeatable, at most "
    f"{MAX_SOURCES}. [default: {DEFAULT_SOURCE}]",
)
@click.option(
    "--events",
    type=click.IntRange(min=1, max=MAX_EVENTS),
    help="Approximate track+page+screen calls in this batch, over all sources "
    "[default: the established rate; "
    f"{FIRST_BATCH_EVENTS_PER_DAY:,} a day for a first batch].",
)
@click.option(
    "--days",
    type=click.FloatRange(min=0, min_open=True, max=MAX_DAYS),
    help=f"Length of the batch's period, at least one minute; fractions allowed "
    f"[default: {FIRST_BATCH_DAYS:g} for a first batch, else 1].",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0, max=2**63 - 1),
    default=DEFAULT_SEED,
    show_default=True,
    help="Random seed: same seed, arguments and earlier batches give the same data.",
)
@click.option(
    "--start",
    metavar="ISO",
    help="Period start, ISO 8601 (UTC unless an offset is given), 2000 or later "
    "[default: where the previous batch ended].",
)
@click.option(
    "--end",
    metavar="ISO",
    help="Period end instead of --start; it must not be after the current time "
    "[default for a first batch: the start of the current UTC day].",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1, max=MAX_WORKERS),
    help="Generator processes and load connections [default: by batch size].",
)
def generate(
    sources: list[Source],
    events: int | None,
    days: float | None,
    seed: int,
    start: str | None,
    end: str | None,
    workers: int | None,
) -> None:
    """Append one Segment sync batch of realistic demo data to source schemas.

    Writes the raw tables Segment's Postgres connector writes (tracks, pages,
    screens, identifies, users, aliases, groups, accounts and one table per track
    event) for a managed-database hosting product, with late rows, clock skew,
    junk ids and odd table names. The first batch of a schema fixes the
    population; later batches continue where the previous one ended. A batch
    that would end after the current time is refused. Batches are logged in
    segment_reports_generator.batches; a batch is loaded whole or not at all,
    also when stopped with Ctrl-C or SIGTERM (exit 1). Arguments out of range,
    a refused batch or a connection error exit 2 before anything is written.
    """
    try:
        check_arguments(sources, events, days, seed, start, end, workers)
    except GeneratorError as exc:
        raise click.UsageError(str(exc)) from None
    target = connection.describe()
    console.print(
        f"[bold]generate[/] {escape(', '.join(map(str, sources)))} into "
        f"{escape(target)}"
    )
    try:
        with sigterm_raises():
            result = _generate(sources, events, days, seed, start, end, workers)
    except KeyboardInterrupt as exc:
        console.print(
            f"[red]generate stopped by {interruption(exc)}[/]: "
            "nothing of this batch was loaded"
        )
        sys.exit(FAILED)
    except GeneratorError as exc:
        raise ConfigError(str(exc)) from exc
    except psycopg.Error as exc:
        raise ConfigError(f"cannot use {target}: {str(exc).strip()}") from exc
    _summary(result)


def _generate(
    sources: list[Source],
    events: int | None,
    days: float | None,
    seed: int,
    start: str | None,
    end: str | None,
    workers: int | None,
) -> BatchResult:
    with Progress(
        TextColumn("{task.description:<18}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bars:
        tasks: dict[str, int] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase == "load":  # bytes, shown in MB
                done, total = done // 1_000_000, max(1, total // 1_000_000)
            if phase not in tasks:
                label = "generate (people)" if phase == "generate" else "load (MB)"
                tasks[phase] = bars.add_task(label, total=total)
            bars.update(tasks[phase], completed=done, total=total)

        with connection.connect(autocommit=True) as conn:
            return generate_batch(
                conn,
                sources=sources,
                events=events,
                days=days,
                seed=seed,
                start=start,
                end=end,
                connect=connection.connect,
                workers=workers,
                progress=progress,
            )


def _summary(result: BatchResult) -> None:
    for note in result.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
    for batch in result.sources:
        table = Table(
            title=f"{batch.schema} ({batch.kind}) batch {batch.batch_number}",
            caption=(
                f"period {batch.period_start:%Y-%m-%d %H:%M} to "
                f"{batch.period_end:%Y-%m-%d %H:%M} UTC, "
                f"uuid_ts {batch.uuid_ts:%Y-%m-%d %H:%M:%S}"
            ),
            title_justify="left",
            caption_justify="left",
        )
        table.add_column("table")
        table.add_column("rows", justify="right")
        table.add_column("", justify="left")
        for name, rows in sorted(batch.rows.items(), key=lambda item: -item[1]):
            remark = "new table" if name in batch.new_tables else ""
            added = [
                c.split(".", 1)[1]
                for c in batch.added_columns
                if c.startswith(name + ".")
            ]
            if added:
                remark = "added " + ", ".join(added)
            if name in ("users", "accounts"):
                remark = (remark + " (upserted)").strip()
            table.add_row(name, f"{rows:,}", remark)
        console.print(table)
    console.print(
        f"[green]{result.events:,} events[/] (tracks, pages, screens) for "
        f"{result.population:,} people in {result.seconds:.1f} s: "
        f"{result.events_per_second:,.0f} events/s "
        f"(generate {result.generate_seconds:.1f} s, "
        f"load {result.load_seconds:.1f} s); "
        f"logged in {LOG_SCHEMA}.{LOG_TABLE}"
    )
