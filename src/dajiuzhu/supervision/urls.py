from django.urls import path
from django.views.generic import RedirectView

from dajiuzhu.supervision import views
from dajiuzhu.web.marks import no_personal_data

app_name = "supervision"
urlpatterns = [
    # the section's own address leads to its first page (the findings queue)
    path(
        "work/supervision/",
        no_personal_data(RedirectView.as_view(pattern_name="supervision:queue")),
        name="home",
    ),
    path("work/supervision/findings/", views.queue, name="queue"),
    path("work/supervision/findings/<int:finding_id>/", views.detail, name="detail"),
    path("work/supervision/findings/<int:finding_id>/rectify/", views.rectify, name="rectify"),
    path("work/supervision/scorecard/", views.scorecard_page, name="scorecard"),
    path("work/supervision/scorecard/behind/", views.scorecard_behind, name="scorecard_behind"),
    path("work/supervision/scorecard.xlsx", views.scorecard_xlsx, name="scorecard_xlsx"),
    path("work/supervision/notices/generate/", views.notice_generate, name="notice_generate"),
    path("work/supervision/notices/<str:month>.pdf", views.notice_download, name="notice"),
    path("work/supervision/samples/", views.samples, name="samples"),
    path("work/supervision/samples/<int:case_id>/", views.sample, name="sample"),
    path("work/supervision/samples/<int:case_id>/assess/", views.sample_assess, name="assess"),
    path(
        "work/supervision/samples/<int:case_id>/rectify/",
        views.sample_rectify,
        name="sample_rectify",
    ),
    path("jubao/", views.complaint_public, name="complaint_public"),
    path("jubao/done/", views.complaint_done, name="complaint_done"),
    path("jubao/track/", views.complaint_track, name="complaint_track"),
    path("portal/jubao/", views.complaint_portal, name="complaint_portal"),
    path("work/supervision/complaints/", views.complaints, name="complaints"),
    path("work/supervision/complaints/<int:complaint_id>/", views.complaint, name="complaint"),
    path(
        "work/supervision/complaints/<int:complaint_id>/reporter/",
        views.complaint_reporter,
        name="complaint_reporter",
    ),
    path(
        "work/supervision/complaints/<int:complaint_id>/<slug:action>/",
        views.complaint_act,
        name="complaint_act",
    ),
]
