from django.urls import include, path

from dajiuzhu.api import api

handler400 = "dajiuzhu.web.views.error_400"
handler403 = "dajiuzhu.web.views.error_403"
handler404 = "dajiuzhu.web.views.error_404"
handler500 = "dajiuzhu.web.views.error_500"

urlpatterns = [
    path("api/v1/", api.urls),
    path("", include("dajiuzhu.web.urls")),
    path("", include("dajiuzhu.core.urls")),
    path("", include("dajiuzhu.registry.urls")),
    path("", include("dajiuzhu.exchange.urls")),
]
