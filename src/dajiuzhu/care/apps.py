from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "dajiuzhu.care"
    label = "care"
    verbose_name = "暖心护航"
