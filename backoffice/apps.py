from django.apps import AppConfig
from django.db.models.signals import post_migrate


class BackofficeConfig(AppConfig):
    name = "backoffice"
    verbose_name = "Back-Office"

    def ready(self) -> None:
        from backoffice import bulksql, keyed  # noqa: F401 - register the ``anyof`` and ``still`` lookups
        from backoffice.api import schema  # noqa: F401 - registers the auth scheme
        from backoffice.groups import ensure_groups

        # Every app's post_migrate: the last one runs after all permissions exist.
        post_migrate.connect(ensure_groups, dispatch_uid="backoffice.ensure_groups")
