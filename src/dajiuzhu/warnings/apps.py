from django.apps import AppConfig


class WarningsConfig(AppConfig):
    name = "dajiuzhu.warnings"
    label = "warnings"
    verbose_name = "主动预警"
