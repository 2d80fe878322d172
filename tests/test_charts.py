"""The charts as pure functions: plain values in, geometry and words out."""

from datetime import UTC, date, datetime, timedelta

from programs import charts
from programs.templatetags.pain_lines import pain_line


def test_pain_trend_labels_every_value_and_dates_first_and_last():
    readings = [(date(2026, 3, 1) + timedelta(days=i), v) for i, v in enumerate([7, 5, 5, 3, 0])]
    trend = charts.pain_trend(readings)
    assert [d.value for d in trend.dots] == [7, 5, 5, 3, 0]
    assert [t.label for t in trend.y_ticks] == ["0", "2", "4", "6", "8", "10"]
    # The axis runs 0 at the bottom to 10 at the top, and a 0 sits on the axis.
    assert trend.y_ticks[0].position == trend.plot.bottom
    assert trend.y_ticks[-1].position == trend.plot.top
    assert trend.dots[-1].y == trend.plot.bottom
    labels = [t.label for t in trend.x_ticks]
    assert labels[0] == "1 Mar" and labels[-1] == "5 Mar"
    assert "1 Mar: 7" in trend.description and "5 Mar: 0" in trend.description


def test_pain_trend_date_labels_do_not_crowd():
    readings = [(date(2026, 1, 1) + timedelta(days=i), i % 11) for i in range(30)]
    trend = charts.pain_trend(readings)
    assert len(trend.dots) == 30
    xs = [t.position for t in trend.x_ticks]
    assert min(b - a for a, b in zip(xs, xs[1:], strict=False)) >= 40
    assert trend.x_ticks[-1].label == "30 Jan"


def test_pain_trend_with_one_reading_and_none():
    one = charts.pain_trend([(date(2026, 3, 1), 4)])
    assert len(one.dots) == 1 and one.plot.left < one.dots[0].x < one.plot.right
    assert charts.pain_trend([]).dots == ()


def test_percent_bars_have_an_axis_and_a_label_for_each_value():
    bars = charts.percent_bars([100, 50, 0, 120])
    assert [t.label for t in bars.y_ticks] == ["0%", "50%", "100%"]
    assert [(b.value, b.name) for b in bars.bars] == [
        (100, "W1"),
        (50, "W2"),
        (0, "W3"),
        (100, "W4"),
    ]
    assert bars.bars[0].y == bars.plot.top and bars.bars[2].height == 0
    assert bars.bars[1].height * 2 == bars.bars[0].height
    assert "week 2: 50%" in bars.description


def test_calendar_starts_on_the_right_weekday():
    month = charts.month_calendar(date(2026, 3, 1), set(), today=date(2026, 3, 15))
    # 1 March 2026 is a Sunday: six blanks before it in a week from Monday.
    assert month.weeks[0][:6] == (None,) * 6
    assert month.weeks[0][6].day == date(2026, 3, 1)
    assert [t.label for t in month.headers][:2] == ["Mo", "Tu"]
    assert len(month.days) == 31
    sunday_first = charts.month_calendar(
        date(2026, 3, 1), set(), date(2026, 3, 15), first_weekday=6
    )
    assert sunday_first.weeks[0][0].day == date(2026, 3, 1)


def test_calendar_marks_trained_days_today_and_the_future():
    trained = {date(2026, 3, 2), date(2026, 3, 3), date(2026, 2, 28)}
    month = charts.month_calendar(date(2026, 3, 14), trained, today=date(2026, 3, 10))
    assert month.first == date(2026, 3, 1)
    assert [d.number for d in month.days if d.trained] == [2, 3]
    assert [d.number for d in month.days if d.today] == [10]
    assert not any(d.future for d in month.days if d.number <= 10)
    assert month.description == "March 2026: you trained on 2 days, the 2 and 3."


def test_calendar_days_across_a_dst_change_are_her_days():
    # Europe/London moves its clocks forward at 01:00 UTC on 29 March 2026.
    zone = "Europe/London"
    late_before = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)  # 23:30 GMT, Saturday
    just_after = datetime(2026, 3, 29, 23, 30, tzinfo=UTC)  # 00:30 BST on Monday
    days = {charts.local_day(late_before, zone), charts.local_day(just_after, zone)}
    assert days == {date(2026, 3, 28), date(2026, 3, 30)}
    month = charts.month_calendar(date(2026, 3, 1), days, today=date(2026, 3, 31))
    assert [d.number for d in month.days if d.trained] == [28, 30]
    assert len(month.days) == 31  # the short day is still one day
    # Far west, the same instant is still the evening before.
    assert charts.local_day(just_after, "America/Los_Angeles") == date(2026, 3, 29)


def test_month_steps():
    assert charts.previous_month(date(2026, 1, 15)) == date(2025, 12, 1)
    assert charts.next_month(date(2026, 12, 31)) == date(2027, 1, 1)


def test_streak_is_gentle():
    today = date(2026, 3, 10)
    days = {today - timedelta(days=n) for n in (1, 2, 3, 5)}
    # Today is not over: the run to yesterday still counts.
    result = charts.streak(days, today)
    assert (result.run, result.last_seven) == (3, 4)
    assert result.sentence == "You trained on 4 of the last 7 days. 3 days in a row, well done."
    # A rest day ends the run, not the week's count, and nothing says "missed".
    rested = charts.streak({today - timedelta(days=2)}, today)
    assert (rested.run, rested.last_seven) == (0, 1)
    assert rested.sentence == "You trained on 1 of the last 7 days."
    assert "miss" not in charts.streak(set(), today).sentence.lower()


def test_dashboard_line_spans_its_axis():
    line = charts.pain_line([0, 10, 4])
    assert [v for _, _, v in line.dots] == [0, 10, 4]
    assert line.dots[0][1] == line.bottom and line.dots[1][1] == line.top
    assert line.left < line.dots[0][0] < line.dots[-1][0] <= line.width
    assert line.description == "Pain at each check-in, oldest first, out of 10: 0, 10, 4."


def test_dashboard_line_drawn_as_svg():
    svg = pain_line(charts.pain_line([2, 9]))
    description = "Pain at each check-in, oldest first, out of 10: 2, 9."
    assert svg.startswith(f'<svg class="pain-chart" role="img" aria-label="{description}"')
    assert f"<title>{description}</title>" in svg
    assert f'<polyline points="{charts.pain_line([2, 9]).points}"/>' in svg
    assert svg.count("<circle") == 2
    # Both values written above their points.
    assert '<text class="value"' in svg and ">2</text>" in svg and ">9</text>" in svg


def test_dashboard_line_writes_only_the_last_value_beyond_six_points():
    svg = pain_line(charts.pain_line([1, 2, 3, 4, 5, 6, 7]))
    assert svg.count("<circle") == 7
    assert svg.count('<text class="value"') == 1
    assert '<text class="value" x="134.0" y="' in svg and ">7</text>" in svg


def test_dashboard_line_without_check_ins_has_its_axis_only():
    svg = pain_line(charts.pain_line([]))
    assert "<polyline" not in svg and "<circle" not in svg
    assert 'aria-label="No check-ins yet."' in svg
