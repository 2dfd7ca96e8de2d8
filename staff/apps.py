from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "staff"
    verbose_name = "スタッフコンソール"

    def ready(self) -> None:
        """The console's demo queues run after the other apps' demo data (INSTALLED_APPS order)."""
        from shop.management.commands import seed_demo
        from staff import demo

        if demo.seed not in seed_demo._EXTRA_SEEDERS:
            seed_demo._EXTRA_SEEDERS.append(demo.seed)
