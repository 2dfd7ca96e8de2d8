from django.apps import AppConfig


class FraudConfig(AppConfig):
    name = "fraud"
    verbose_name = "不正対策"

    def ready(self) -> None:
        from fraud.services import addresses
        from shop.services import hooks

        # A refused COD parcel counts against its address (SPEC §5, seed 004).
        hooks.on_cod_refused(addresses.record_cod_refusal)
