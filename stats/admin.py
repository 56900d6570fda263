"""WeMoov's admin site: its index is the live dashboard, built from the same cached
selectors as the API (no second implementation, no HTTP call to itself)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from stats.charts import Point, bar_chart, donut_chart
from stats.selectors import DASHBOARD, PERIODS, REVENUE, dashboard_stats_cached, revenue_series_cached
from stats.services import stats_cache_clear
from users.access import ADMIN_PAGES, DASHBOARD_FIGURES, StaffActionsMixin, require_page, staff_may
from wemoov.cache import all_figures

BUCKET_LABEL = {"hour": "%H:00", "day": "%d %b", "month": "%b %Y"}
LABEL_EVERY = {"day": 3, "week": 1, "month": 5, "year": 1}


def _revenue_chart(revenue: dict, currency: str):
    fmt = BUCKET_LABEL[revenue["bucket"]]
    points = []
    for point in revenue["series"]:
        label = timezone.localtime(point["bucket"]).strftime(fmt)
        tooltip = f"{label}: {point['amount']} {currency} ({point['count']} payments)"
        points.append(Point(label=label, value=point["amount"], tooltip=tooltip))
    return bar_chart(points, title=f"Revenue per {revenue['bucket']}", label_every=LABEL_EVERY[revenue["period"]])


def _donut(counts: dict[str, int], title: str):
    points = [
        Point(label=k.replace("_", " "), value=v, tooltip=f"{k.replace('_', ' ')}: {v}") for k, v in counts.items()
    ]
    return donut_chart(points, title=title)


def dashboard_context(period: str, currency: str) -> dict:
    dashboard = dashboard_stats_cached()
    revenue = revenue_series_cached(period)
    year_series = revenue if period == "year" else revenue_series_cached("year")
    figures = all_figures()
    requests = sum(f["hits"] + f["misses"] + f["stale"] for name, f in figures.items() if name in (DASHBOARD, REVENUE))
    served = sum(f["hits"] + f["stale"] for name, f in figures.items() if name in (DASHBOARD, REVENUE))
    data = dashboard.value
    return {
        "dashboard": data,
        "dashboard_status": dashboard.status,
        "dashboard_age": int(dashboard.age),
        "revenue": revenue.value,
        "revenue_status": revenue.status,
        "revenue_this_month": year_series.value["series"][-1]["amount"],  # its last bucket
        "period": period,
        "periods": PERIODS,
        "currency": currency,
        "revenue_chart": _revenue_chart(revenue.value, currency),
        "status_chart": _donut(data["bookings"]["by_status"], "Bookings by status"),
        "service_chart": _donut(data["bookings"]["by_service_type"], "Bookings by service type"),
        "cache_figures": figures,
        "cache_hit_ratio": (served / requests) if requests else None,
    }


class WemoovAdminSite(admin.AdminSite):
    site_header = "WeMoov administration"
    site_title = "WeMoov admin"
    index_title = "Dashboard"
    index_template = "admin/wemoov_index.html"

    def register(self, model_or_iterable, admin_class=None, **options):
        # Every model admin's actions answer to users.access.ADMIN_ACTIONS, those of Django
        # (auth's groups) and of third parties (knox) too: an action nobody mapped is
        # offered to nobody, and a POST naming an action one may not run answers 403.
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, StaffActionsMixin):
            namespace = {"__module__": admin_class.__module__}
            admin_class = type(admin_class.__name__, (StaffActionsMixin, admin_class), namespace)
        super().register(model_or_iterable, admin_class, **options)

    def get_urls(self):
        return [
            path("stats/refresh/", self.admin_view(require_POST(self.refresh_view)), name="stats_refresh"),
            *super().get_urls(),
        ]

    def index(self, request, extra_context=None):
        # The figures only for those who may read the statistics: nothing is computed for
        # anyone else (the page still lists the apps they may use).
        context = {"may_refresh_statistics": staff_may(request.user, ADMIN_PAGES["stats_refresh"])}
        if staff_may(request.user, DASHBOARD_FIGURES):
            period = request.GET.get("period", "month")
            if period not in PERIODS:
                period = "month"
            context |= dashboard_context(period, settings.WEMOOV_CURRENCY)
        return super().index(request, extra_context={**context, **(extra_context or {})})

    def refresh_view(self, request):
        require_page(request, "stats_refresh")  # 403 before anything is dropped
        stats_cache_clear()
        messages.success(request, "Statistics refreshed.")
        return HttpResponseRedirect(reverse("admin:index"))
