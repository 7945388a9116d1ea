from django.urls import path

from dajiuzhu.cases import views

app_name = "cases"
urlpatterns = [
    path("work/cases/", views.queue, name="queue"),
    path("work/cases/new/", views.intake, name="intake"),
    path("work/cases/signing-code/", views.signing_code, name="signing_code"),
    path("work/cases/relatives/", views.relatives, name="relatives"),
    path("work/cases/precision/", views.precision, name="precision"),
    path(
        "work/cases/from-warning/<int:warning_id>/",
        views.intake_from_warning,
        name="intake_from_warning",
    ),
    path(
        "work/cases/from-candidate/<int:candidate_id>/",
        views.intake_from_candidate,
        name="intake_from_candidate",
    ),
    path("work/cases/<int:case_id>/", views.detail, name="detail"),
    path("work/cases/<int:case_id>/notice.pdf", views.notice_pdf, name="notice_pdf"),
    path("work/cases/<int:case_id>/<slug:action>/", views.act, name="act"),
    path("gongshi/", views.publicity, name="publicity"),
    path("portal/apply/", views.portal_apply, name="portal_apply"),
    path("portal/applications/", views.portal_list, name="portal_list"),
    path(
        "portal/applications/<str:application_no>/",
        views.portal_status,
        name="portal_status",
    ),
    path(
        "portal/applications/<str:application_no>/notice/<int:case_id>.pdf",
        views.portal_notice,
        name="portal_notice",
    ),
]
