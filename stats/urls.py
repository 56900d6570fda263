from django.urls import include, path

from stats.api import DashboardView, RefreshView, RevenueView

urlpatterns = [
    path(
        "stats/",
        include(
            [
                path("dashboard/", DashboardView.as_view(), name="stats-dashboard"),
                path("revenue/", RevenueView.as_view(), name="stats-revenue"),
                path("refresh/", RefreshView.as_view(), name="stats-refresh"),
            ]
        ),
    )
]
