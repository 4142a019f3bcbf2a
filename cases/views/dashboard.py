"""A team's dashboard: what waits on whom, who appeared, and how fast reports clear listings."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from cases import charts
from cases.models import Team
from cases.selectors import dashboard as reads

# Amazon's Project Zero expects a brand's reports to be at least this accurate.
ACCEPTANCE_TARGET = 90


@require_GET
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    teams = reads.teams(user=user)
    team = _chosen_team(teams, request.GET.get("team"))
    if team is None:
        return render(request, "cases/dashboard.html", {"teams": teams, "team": None})
    rows = reads.team_rows(user=user, team=team)
    awaiting, more_awaiting = reads.awaiting_answer(rows)
    context: dict[str, Any] = {
        "teams": teams,
        "team": team,
        "counts": reads.open_counts(rows),
        "new_hijackers": reads.new_hijackers(rows, since=timezone.now() - dt.timedelta(hours=24)),
        "waiting_on_me": reads.waiting_on_user(rows),
        "awaiting": awaiting,
        "more_awaiting": more_awaiting,
        "hijackers_chart": _hijackers_chart(reads.new_hijackers_per_day(rows)),
        "speed_chart": _speed_chart(reads.time_to_report_and_removal(rows)),
        "acceptance_chart": _acceptance_chart(reads.acceptance_per_month(rows)),
    }
    return render(request, "cases/dashboard.html", context)


def _chosen_team(teams: list[Team], chosen: str | None) -> Team | None:
    """The team named by ``?team=``, else the user's first; another team's ID is a 404 like any other object's."""
    if not chosen:
        return teams[0] if teams else None
    found = next((team for team in teams if str(team.pk) == chosen), None)
    if found is None:
        raise Http404("No such team")
    return found


def _month(day: dt.date) -> str:
    return day.strftime("%Y-%m")


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{charts.number(value)}%"


def _hijackers_chart(per_day: list[tuple[dt.date, int]]) -> charts.Chart:
    return charts.bar_chart(
        chart_id="chart-hijackers",
        title=_("New hijackers per day, last 30 days"),
        labels=[day.strftime("%m-%d") for day, _count in per_day],
        values=[count for _day, count in per_day],
        label_header=_("Day"),
        value_header=_("New hijackers"),
        label_every=5,
        empty_text=_("No new hijackers in these 30 days."),
    )


def _speed_chart(medians: reads.MonthlyMedians) -> charts.Chart:
    return charts.line_chart(
        chart_id="chart-speed",
        title=_("Median days from detection, by month"),
        labels=[_month(month) for month in medians.months],
        series=[
            charts.Series(_("to the first report"), medians.to_report),
            charts.Series(_("to removal (resolved)"), medians.to_removal),
        ],
        label_header=_("Month"),
        empty_text=_("No case was reported or resolved in these six months."),
    )


def _acceptance_chart(rates: list[reads.MonthlyRate]) -> charts.Chart:
    chart = charts.line_chart(
        chart_id="chart-acceptance",
        title=_("Reports accepted by Amazon, by month of the answer"),
        labels=[_month(rate.month) for rate in rates],
        series=[charts.Series(_("Accepted of answered reports"), [rate.percent for rate in rates])],
        label_header=_("Month"),
        y_max=100,
        reference=charts.Reference(ACCEPTANCE_TARGET, _("Project Zero asks for 90%")),
        format_value=_percent,
        empty_text=_("Amazon answered no report in these six months."),
    )
    # The table under the chart also gives the counts a rate is made of.
    return dataclasses.replace(
        chart,
        headers=[_("Month"), _("Accepted"), _("Answered"), _("Accepted of answered reports")],
        rows=[[_month(r.month), str(r.accepted), str(r.decided), _percent(r.percent)] for r in rates],
    )
