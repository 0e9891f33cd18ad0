"""The product's URLs plus the benchmark's baseline view (never part of config.urls)."""

from django.urls import path

from bench import views
from config.urls import urlpatterns as product_urlpatterns

urlpatterns = [
    path("bench/baseline/inbox/", views.inbox_baseline, name="bench_inbox_baseline"),
    *product_urlpatterns,
]
