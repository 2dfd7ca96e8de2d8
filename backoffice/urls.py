from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
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
    # Browsers ask for /favicon.ico whatever the page says: the console's icon, not a 404.
    path("favicon.ico", RedirectView.as_view(url=static("staff/favicon.svg"), permanent=True)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("staff/", include("staff.urls")),
]

if settings.BENCH_WRITE_FLOOR:  # bench/api.py only; production mode refuses the setting
    urlpatterns += [path("", include("bench.floor"))]

handler404 = "staff.views.errors.not_found"  # JSON under /api/, a console page elsewhere
handler403 = "staff.views.errors.permission_denied"
handler500 = "staff.views.errors.server_error"  # an outage is a 503 (backoffice.outages)
