from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "dajiuzhu.cases"
    label = "cases"
    verbose_name = "救助申请"
