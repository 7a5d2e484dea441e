"""Simulated time: integer milliseconds since the Unix epoch, UTC.

Formatting is the hot path of the generator (four timestamps per call), so a
timestamp is assembled from three cached pieces (date, time of day, millis)
instead of going through `datetime`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

SECOND = 1_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY

_EPOCH_DATE = date(1970, 1, 1)
TIME_OF_DAY = [
    f" {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)
]
MILLIS = [f".{m:03d}+00" for m in range(1000)]


class _DayStrings(dict):
    def __missing__(self, day: int) -> str:
        text = (_EPOCH_DATE + timedelta(days=day)).isoformat()
        self[day] = text
        return text


DAYS = _DayStrings()


def fmt(ms: int) -> str:
    """`ms` as PostgreSQL timestamptz text input, e.g. `2024-05-01 12:00:00.250+00`."""
    seconds, millis = divmod(ms, 1000)
    day, second = divmod(seconds, 86_400)
    return DAYS[day] + TIME_OF_DAY[second] + MILLIS[millis]


def to_ms(moment: datetime) -> int:
    """A datetime as epoch milliseconds (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def from_ms(ms: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def parse_moment(text: str) -> datetime:
    """An ISO 8601 date or date-time; without an offset it is UTC.

    Raises ValueError naming the text when it is not ISO 8601.
    """
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"'{text}' is not an ISO 8601 date or time "
            "(for example 2024-05-01 or 2024-05-01T06:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
