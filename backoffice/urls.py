from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from backoffice.api.views import PingView, healthz

api_v1 = [
    path("ping", PingView.as_view()),
    path("", include("shop.api.urls")),
    path("", include("payments.api_urls")),
    path("", include("payments.konbini.urls")),
    path("", include("pickup.api.urls")),
    path("", include("fraud.api.urls")),
    path("", include("receipts.urls")),
    path("", include("webhooks.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema", authentication_classes=[],
                                                     permission_classes=[]), name="docs"),
    path("healthz", healthz),
    path("i18n/", include("django.conf.urls.i18n")),
    path("staff/", include("staff.urls")),
]

handler404 = "backoffice.api.errors.api_not_found"
