from django.urls import path

from dajiuzhu.reviews import views

app_name = "reviews"
urlpatterns = [
    path("work/reviews/", views.queue, name="queue"),
    path("work/reviews/visits/", views.visits, name="visits"),
    path("work/reviews/<int:review_id>/", views.detail, name="detail"),
    path("work/reviews/<int:review_id>/<slug:action>/", views.act, name="act"),
]
