"""Pure functions of the generator (no database)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from random import Random

import pytest

from segment_reports.generator.schema import EVENTS, HEAD, MOBILE, WEB, table_specs
from segment_reports.generator.timefmt import (
    DAY,
    HOUR,
    fmt,
    from_ms,
    parse_moment,
    to_ms,
)
from segment_reports.generator.world import (
    Picker,
    activity,
    activity_inverse,
    key,
)


def test_fmt_matches_datetime():
    rng = Random(1)
    for _ in range(2000):
        ms = rng.randrange(0, 4_000_000_000_000)
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
        expected = moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{ms % 1000:03d}+00"
        assert fmt(ms) == expected
        assert to_ms(moment) == ms
        assert from_ms(ms) == moment


def test_parse_moment_defaults_to_utc_and_names_bad_text():
    assert parse_moment("2024-05-01") == datetime(2024, 5, 1, tzinfo=UTC)
    assert parse_moment("2024-05-01T02:00:00+02:00") == datetime(2024, 5, 1, tzinfo=UTC)
    assert parse_moment("2024-05-01T00:00:00Z") == datetime(2024, 5, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="'soon' is not an ISO 8601"):
        parse_moment("soon")


def test_activity_is_monotone_and_inverted():
    rng = Random(2)
    base = to_ms(datetime(2024, 1, 1, tzinfo=UTC))
    for _ in range(2000):
        moment = base + rng.randrange(0, 400 * DAY)
        value = activity(moment)
        assert abs(activity_inverse(value) - moment) <= 1
        assert activity(moment + HOUR) > value
    # a week holds 7 days of activity, weekdays more than weekends
    assert activity(base + 7 * DAY) - activity(base) == pytest.approx(7)
    monday = activity(base + DAY) - activity(base)  # 2024-01-01 was a Monday
    sunday = activity(base + 7 * DAY) - activity(base + 6 * DAY)
    assert monday > 1 > sunday


def test_picker_follows_weights():
    pick = Picker(["a", "b", "c"], [6, 3, 1])
    rng = Random(3)
    counts = Counter(pick(rng) for _ in range(100_000))
    assert counts["a"] / counts["c"] == pytest.approx(6, rel=0.1)
    assert counts["b"] / counts["c"] == pytest.approx(3, rel=0.1)


def test_key_separates_its_parts():
    assert key(1, 2) != key(2, 1)
    assert key(1, 2) != key(12)
    assert key(1 << 70, 5) != key(1 << 71, 5)
    assert key(7, 8) == key(7, 8)


@pytest.mark.parametrize("kind", [WEB, MOBILE])
def test_table_layouts(kind):
    specs = table_specs(kind)
    assert "screens" in specs if kind == MOBILE else "pages" in specs
    for name, spec in specs.items():
        assert spec.layout[:3] == HEAD, name
        assert len(spec.layout) == len(set(spec.layout)), name
        assert set(spec.present(0)) >= {"id", "received_at", "uuid_ts", "timestamp"}
    for slug in EVENTS[kind]:
        assert {"event", "event_text"} <= set(specs[slug].present(0))
    size = dict(EVENTS[kind]["deployments_new"].props)["size_gb"]
    assert size == ("bigint" if kind == WEB else "numeric")
