from django.apps import AppConfig


class PolicyConfig(AppConfig):
    name = "dajiuzhu.policy"
    label = "policy"
    verbose_name = "救助政策库"
