from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "dajiuzhu.registry"
    label = "registry"
    verbose_name = "人口与家庭"
