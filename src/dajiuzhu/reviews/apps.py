from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "dajiuzhu.reviews"
    label = "reviews"
    verbose_name = "复核与动态管理"
