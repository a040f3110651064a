"""RFC 3339 date-times: which strings are valid, and which instant a valid one names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aep_export_contracts.spec.formats import is_rfc3339, rfc3339_moment, rfc3339_problem, rfc3339_to_ms


@st.composite
def date_times(draw: st.DrawFn) -> tuple[str, datetime]:
    """A valid RFC 3339 string and the instant it names, built independently of the parser."""
    moment = draw(st.datetimes(min_value=datetime(1000, 1, 2), max_value=datetime(9998, 12, 30)))
    digits = draw(st.integers(0, 9))
    frac_text = "".join(draw(st.sampled_from("0123456789")) for _ in range(digits))
    micros = int((frac_text + "000000")[:6]) if frac_text else 0
    moment = moment.replace(microsecond=micros)
    minutes = draw(st.integers(-(23 * 60 + 59), 23 * 60 + 59))
    if minutes == 0 and draw(st.booleans()):
        offset = draw(st.sampled_from("Zz"))
    else:
        sign = "-" if minutes < 0 else "+"
        offset = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    sep = draw(st.sampled_from("Tt"))
    text = moment.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + (f".{frac_text}" if frac_text else "") + offset
    instant = moment.replace(tzinfo=UTC) - timedelta(minutes=minutes)
    return text, instant


@given(date_times())
def test_a_valid_date_time_names_its_instant(case: tuple[str, datetime]) -> None:
    text, instant = case
    assert is_rfc3339(text)
    assert rfc3339_moment(text) == instant
    assert rfc3339_to_ms(text) == int(instant.timestamp() * 1000)


@pytest.mark.parametrize("text", [
    "\uff12\uff10\uff11\uff19-09-01T00:00:00Z",  # digits of another script
    "2019-09-01T00:00:00+00:60", "2019-09-01T00:00:00+24:00", "2019-02-29T00:00:00Z", "2019-09-01T24:00:00Z",
    "2019-09-01T00:00:00", "2019-09-01 00:00:00Z", "2019-09-01T00:00:00Z\n", "2016-12-31T23:58:60Z",
])
def test_an_invalid_date_time_names_no_instant(text: str) -> None:
    assert rfc3339_problem(text) is not None
    assert rfc3339_moment(text) is None


def test_a_leap_second_is_the_last_microsecond_of_its_minute() -> None:
    assert rfc3339_moment("2016-12-31T23:59:60Z") == datetime(2016, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert rfc3339_moment("2016-12-31T18:59:60-05:00") == datetime(2016, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def test_dates_outside_pythons_range_are_valid_text_but_name_no_instant() -> None:
    # year 0000 is valid RFC 3339 text; no Python datetime holds it, so rules comparing instants stay silent
    assert is_rfc3339("0000-01-01T00:00:00Z") and rfc3339_moment("0000-01-01T00:00:00Z") is None
    assert rfc3339_moment("0000-01-01T00:00:00z") is None
