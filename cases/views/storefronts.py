"""A storefront's page: who it is, where it hijacks, what it charged, and the accounts linked to it."""

from __future__ import annotations

from collections import defaultdict

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from cases import charts
from cases.models import Sighting, Storefront
from cases.selectors import storefronts as reads


@require_GET
@login_required
def storefront_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        storefront = reads.storefront_get(user=request.user, pk=pk)
    except Storefront.DoesNotExist:
        raise Http404("No such storefront") from None
    sightings = reads.storefront_sightings(user=request.user, storefront=storefront)
    return render(
        request,
        "cases/storefront_detail.html",
        {
            "storefront": storefront,
            "links": reads.storefront_cases(user=request.user, storefront=storefront),
            "sightings": sightings,
            "price_chart": _price_chart(sightings),
            "linked": reads.linked_accounts(user=request.user, storefront=storefront),
        },
    )


def _price_chart(sightings: list[Sighting]) -> charts.Chart:
    """One line per case (prices of different listings are not comparable), Buy Box wins marked."""
    priced = [s for s in sightings if s.price is not None]
    by_case: dict[int, list[Sighting]] = defaultdict(list)
    for sighting in priced:
        by_case[sighting.case_id].append(sighting)
    currencies = {s.currency for s in priced}
    title = _("Prices seen")
    if len(currencies) == 1:
        title = _("Prices seen, in %(currency)s") % {"currency": currencies.pop()}
    return charts.time_chart(
        chart_id="chart-prices",
        title=title,
        series=[
            charts.TimeSeries(
                f"{seen[0].case.asin} ({seen[0].case.reference})",
                [charts.TimePoint(s.seen_at, float(s.price or 0), marked=bool(s.buy_box)) for s in seen],
            )
            for seen in by_case.values()
        ],
        marked_label=_("Won the Buy Box"),
        format_value=_price,
        empty_text=_("No price seen yet."),
    )


def _price(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"
