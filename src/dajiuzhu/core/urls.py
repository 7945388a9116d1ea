from django.urls import path

from dajiuzhu.core import admin_views, views

app_name = "core"
urlpatterns = [
    path("work/admin/divisions/", views.divisions, name="divisions"),
    path("work/admin/tokens/", views.tokens, name="tokens"),
    path("work/admin/users/", admin_views.users, name="users"),
    path("work/admin/users/<int:user_id>/", admin_views.user, name="user"),
    path("work/admin/users/action/", admin_views.user_action, name="user_action"),
    path("work/audit/", admin_views.audit, name="audit"),
    path("work/audit/verify/", admin_views.audit_verify, name="audit_verify"),
]
