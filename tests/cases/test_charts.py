import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from django.utils import timezone

from cases import charts

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert(1)</script>"


def parse(chart: charts.Chart) -> ET.Element:
    root = ET.fromstring(str(chart.svg))  # noqa: S314 - markup this code made, parsed to check it
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    assert title is not None
    assert root.get("aria-labelledby") == title.get("id")
    return root


def texts(root: ET.Element) -> list[str]:
    return ["".join(element.itertext()) for element in root.iter(f"{SVG}text")]


def test_bar_chart_draws_a_bar_per_value_and_tables_the_numbers():
    chart = charts.bar_chart(
        chart_id="c",
        title="New hijackers",
        labels=["05-01", "05-02", "05-03"],
        values=[0, 3, 1],
        label_header="Day",
        value_header="Count",
    )
    root = parse(chart)
    assert root.find(f"{SVG}title").text == "New hijackers"
    bars = [rect for rect in root.iter(f"{SVG}rect") if rect.get("class") == "bar"]
    assert len(bars) == 3
    heights = [float(bar.get("height")) for bar in bars]
    assert heights[0] == 0
    assert heights[1] > heights[2] > 0
    assert [bar.find(f"{SVG}title").text for bar in bars] == ["05-01: 0", "05-02: 3", "05-03: 1"]
    assert chart.headers == ["Day", "Count"]
    assert chart.rows == [["05-01", "0"], ["05-02", "3"], ["05-03", "1"]]
    assert {"0", "1", "2", "3"} <= set(texts(root)), "whole-number ticks for counts"


def test_hostile_labels_are_escaped_in_every_chart():
    bar = charts.bar_chart(
        chart_id="c", title=HOSTILE, labels=[HOSTILE], values=[1], label_header="d", value_header="v"
    )
    line = charts.line_chart(
        chart_id='x" onload="alert(1)',
        title=HOSTILE,
        labels=[HOSTILE],
        series=[charts.Series(HOSTILE, [1.0]), charts.Series("two", [None])],
        label_header="Month",
        reference=charts.Reference(0.5, HOSTILE),
    )
    now = timezone.now()
    timed = charts.time_chart(
        chart_id="t",
        title=HOSTILE,
        series=[charts.TimeSeries(HOSTILE, [charts.TimePoint(now, 1.0, marked=True)])],
        marked_label=HOSTILE,
    )
    for chart in (bar, line, timed):
        markup = str(chart.svg)
        assert "<script>" not in markup
        assert "&lt;script&gt;" in markup
        root = parse(chart)
        assert not list(root.iter(f"{SVG}script"))
        assert HOSTILE in root.find(f"{SVG}title").text, "escaped once, not twice"
    assert 'onload="' not in str(line.svg)


def test_empty_series_give_an_axis_and_the_empty_text():
    bar = charts.bar_chart(
        chart_id="b", title="t", labels=[], values=[], label_header="d", value_header="v", empty_text="Nothing yet"
    )
    assert "Nothing yet" in texts(parse(bar))
    assert bar.rows == []
    line = charts.line_chart(
        chart_id="l",
        title="t",
        labels=["2026-01", "2026-02"],
        series=[charts.Series("a", [None, None])],
        label_header="Month",
        empty_text="Nothing yet",
    )
    root = parse(line)
    assert "Nothing yet" in texts(root)
    assert not list(root.iter(f"{SVG}polyline"))
    assert line.rows == [["2026-01", "—"], ["2026-02", "—"]]
    timed = charts.time_chart(chart_id="t", title="t", series=[], marked_label="m", empty_text="Nothing yet")
    assert "Nothing yet" in texts(parse(timed))


def test_line_chart_breaks_at_missing_months_and_draws_the_reference():
    chart = charts.line_chart(
        chart_id="l",
        title="Acceptance",
        labels=["m1", "m2", "m3", "m4"],
        series=[charts.Series("rate", [80.0, 95.0, None, 100.0])],
        label_header="Month",
        y_max=100,
        reference=charts.Reference(90, "Project Zero asks for 90%"),
        format_value=lambda v: "—" if v is None else f"{charts.number(v)}%",
    )
    root = parse(chart)
    lines = list(root.iter(f"{SVG}polyline"))
    assert len(lines) == 1, "m4 stands alone after the gap: a dot, no line"
    assert len(lines[0].get("points").split()) == 2
    assert len(list(root.iter(f"{SVG}circle"))) == 3
    assert "Project Zero asks for 90%" in texts(root)
    assert "100%" in texts(root)
    reference = next(line for line in root.iter(f"{SVG}line") if line.get("class") == "reference")
    grid = sorted(float(line.get("y1")) for line in root.iter(f"{SVG}line") if line.get("class") == "grid")
    assert grid[0] < float(reference.get("y1")) < grid[1], "90% lies between the 100% and 75% lines"
    assert chart.rows[2] == ["m3", "—"]


def test_two_series_get_a_legend_and_distinct_dashes():
    chart = charts.line_chart(
        chart_id="l",
        title="Speed",
        labels=["m1", "m2"],
        series=[charts.Series("to report", [1.0, 2.0]), charts.Series("to removal", [3.0, 4.5])],
        label_header="Month",
    )
    root = parse(chart)
    assert {"to report", "to removal"} <= set(texts(root))
    dashes = {line.get("stroke-dasharray") for line in root.iter(f"{SVG}polyline")}
    assert len(dashes) == 2
    assert chart.headers == ["Month", "to report", "to removal"]
    assert chart.rows == [["m1", "1", "3"], ["m2", "2", "4.5"]]


def test_time_chart_marks_points_and_handles_a_single_moment():
    start = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
    chart = charts.time_chart(
        chart_id="p",
        title="Prices",
        series=[
            charts.TimeSeries(
                "B000000001",
                [
                    charts.TimePoint(start, 9.99),
                    charts.TimePoint(start + dt.timedelta(days=2), 8.5, marked=True),
                    charts.TimePoint(start + dt.timedelta(days=1), 9.0),
                ],
            )
        ],
        marked_label="Won the Buy Box",
    )
    root = parse(chart)
    squares = [rect for rect in root.iter(f"{SVG}rect") if rect.find(f"{SVG}title") is not None]
    assert len(squares) == 1
    assert "Won the Buy Box" in squares[0].find(f"{SVG}title").text
    assert "Won the Buy Box" in texts(root), "the legend explains the squares"
    points = next(root.iter(f"{SVG}polyline")).get("points").split()
    xs = [float(p.split(",")[0]) for p in points]
    assert xs == sorted(xs), "drawn in time order"
    assert chart.rows == []
    single = charts.time_chart(
        chart_id="s", title="t", series=[charts.TimeSeries("a", [charts.TimePoint(start, 5)])], marked_label="m"
    )
    assert len(list(parse(single).iter(f"{SVG}circle"))) == 1


@pytest.mark.parametrize(
    ("highest", "integer", "top"),
    [(0, True, 1), (3, True, 3), (7, True, 8), (0.4, False, 0.4), (95, False, 100), (1234, False, 1500)],
)
def test_axis_tops_are_round_and_above_the_highest_value(highest, integer, top):
    found, ticks = charts._scale(highest, integer=integer)
    assert found == pytest.approx(top)
    assert found >= highest
    assert ticks[0] == 0
    assert ticks[-1] == pytest.approx(found)
    assert 2 <= len(ticks) <= 6
