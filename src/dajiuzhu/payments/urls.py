from django.urls import path

from dajiuzhu.payments import views

app_name = "payments"
urlpatterns = [
    path("work/payments/", views.rosters, name="rosters"),
    path("work/payments/rosters/<int:roster_id>/", views.roster, name="roster"),
    path("work/payments/rosters/<int:roster_id>/file/", views.roster_file, name="roster_file"),
    path("work/payments/returns/", views.returns, name="returns"),
    path("work/payments/returns/repay/", views.repay, name="repay"),
    path("portal/payments/", views.portal_payments, name="portal"),
]
