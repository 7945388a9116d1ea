from django.urls import include, path

from dajiuzhu.api import api

handler400 = "dajiuzhu.web.views.error_400"
handler403 = "dajiuzhu.web.views.error_403"
handler404 = "dajiuzhu.web.views.error_404"
handler500 = "dajiuzhu.web.views.error_500"

# Each domain package contributes its pages.
DOMAIN_URLS = [
    "dajiuzhu.web.urls",
    "dajiuzhu.core.urls",
    "dajiuzhu.registry.urls",
    "dajiuzhu.exchange.urls",
    "dajiuzhu.policy.urls",
    "dajiuzhu.verification.urls",
    "dajiuzhu.warnings.urls",
    "dajiuzhu.cases.urls",
    "dajiuzhu.supervision.urls",
    "dajiuzhu.care.urls",
    "dajiuzhu.payments.urls",
    "dajiuzhu.reviews.urls",
]

urlpatterns = [path("api/v1/", api.urls)] + [path("", include(module)) for module in DOMAIN_URLS]
