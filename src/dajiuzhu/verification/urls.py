from django.urls import path

from dajiuzhu.verification import views

app_name = "verification"
urlpatterns = [
    path("work/verification/", views.home, name="home"),
    path("work/verification/households/<int:household_id>/", views.household, name="household"),
    path("work/verification/reports/<int:report_id>/", views.report, name="report"),
    path("work/verification/reports/<int:report_id>/pdf/", views.report_pdf, name="report_pdf"),
]
