from django.urls import path

from dajiuzhu.exchange import views

app_name = "exchange"
urlpatterns = [
    path("work/exchange/", views.contracts, name="contracts"),
    path("work/exchange/contracts/<slug:dataset>/", views.contract_detail, name="contract_detail"),
    path("work/exchange/batches/", views.batches, name="batches"),
    path("work/exchange/batches/<int:batch_id>/", views.batch_detail, name="batch_detail"),
    path(
        "work/exchange/batches/<int:batch_id>/quarantine.<str:fmt>",
        views.quarantine_download,
        name="quarantine_download",
    ),
    path(
        "work/exchange/batches/<int:batch_id>/resubmit/",
        views.batch_resubmit,
        name="batch_resubmit",
    ),
    path(
        "work/exchange/batches/<int:batch_id>/retract/", views.batch_retract, name="batch_retract"
    ),
    path("work/exchange/quality/", views.quality, name="quality"),
    path("work/exchange/quality/city/", views.quality_city, name="quality_city"),
    path("work/exchange/agreements/", views.agreements, name="agreements"),
]
