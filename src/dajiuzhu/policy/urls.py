from django.urls import path

from dajiuzhu.policy import views

app_name = "policy"
urlpatterns = [
    path("work/policy/", views.programmes, name="programmes"),
    path("work/policy/programmes/<slug:code>/", views.programme_detail, name="programme_detail"),
    path("work/policy/parameters/", views.parameters, name="parameters"),
    path("work/policy/candidates/", views.candidates, name="candidates"),
    path("portal/policies/", views.resident_programmes, name="resident_programmes"),
    path("portal/calculator/", views.calculator_page, name="calculator"),
]
