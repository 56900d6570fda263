from django.urls import path

from stats.api import DashboardView, RefreshView, RevenueView

urlpatterns = [
    path("stats/dashboard/", DashboardView.as_view(), name="stats-dashboard"),
    path("stats/revenue/", RevenueView.as_view(), name="stats-revenue"),
    path("stats/refresh/", RefreshView.as_view(), name="stats-refresh"),
]
