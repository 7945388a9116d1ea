from django.urls import path

from dajiuzhu.registry import views

app_name = "registry"
urlpatterns = [
    path("work/households/", views.household_search, name="household_search"),
    path("work/households/<int:household_id>/", views.household_detail, name="household_detail"),
]
