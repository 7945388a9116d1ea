from django.urls import path

from dajiuzhu.warnings import views

app_name = "warnings"
urlpatterns = [
    path("work/warnings/", views.queue, name="queue"),
    path("work/warnings/tasks/", views.tasks, name="tasks"),
    path("work/warnings/stats/", views.stats, name="stats"),
    path("work/warnings/stats.xlsx", views.stats_xlsx, name="stats_xlsx"),
    path("work/warnings/<int:warning_id>/", views.detail, name="detail"),
    path("work/warnings/<int:warning_id>/assign/", views.assign, name="assign"),
    path("work/warnings/<int:warning_id>/outcome/", views.outcome, name="outcome"),
    path("work/warnings/<int:warning_id>/close/", views.close, name="close"),
]
