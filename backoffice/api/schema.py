"""drf-spectacular: describe the partner key scheme (imported from BackofficeConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class PartnerKeyScheme(OpenApiAuthenticationExtension):
    target_class = "backoffice.api.auth.PartnerKeyAuthentication"
    name = "PartnerKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "パートナーごとのAPIキー（`python manage.py create_partner` で発行）"}
