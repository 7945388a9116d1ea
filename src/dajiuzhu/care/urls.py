from django.urls import path

from dajiuzhu.care import views

app_name = "care"
urlpatterns = [
    path("work/care/", views.console, name="console"),
    path("work/care/open/", views.open_alarms, name="open"),
    path("work/care/stream/", views.stream, name="stream"),
    path("work/care/figures/", views.figures_page, name="figures"),
    path("work/care/figures.xlsx", views.figures_xlsx, name="figures_xlsx"),
    path("work/care/maintenance/", views.maintenance, name="maintenance"),
    path("work/care/devices/", views.devices, name="devices"),
    path("work/care/visits/", views.visits, name="visits"),
    path("work/care/visits/<int:visit_id>/arrive/", views.arrive, name="arrive"),
    path("work/care/alarms/<int:alarm_id>/", views.alarm_detail, name="alarm"),
    path("work/care/alarms/<int:alarm_id>/accept/", views.accept, name="accept"),
    path("work/care/alarms/<int:alarm_id>/outcome/", views.outcome, name="outcome"),
    path("work/care/alarms/<int:alarm_id>/close/", views.close, name="close"),
    path("work/care/people/", views.population_list, name="population"),
    path("work/care/people/<int:person_id>/", views.person, name="person"),
    path("work/care/people/<int:person_id>/plan/", views.plan, name="plan"),
    path("work/care/people/<int:person_id>/away/", views.away, name="away"),
]
