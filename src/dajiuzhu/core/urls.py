from django.urls import path

from dajiuzhu.core import views

app_name = "core"
urlpatterns = [
    path("work/admin/divisions/", views.divisions, name="divisions"),
    path("work/admin/tokens/", views.tokens, name="tokens"),
]
