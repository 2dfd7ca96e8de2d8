from django.apps import AppConfig


class KonbiniConfig(AppConfig):
    name = "payments.konbini"
    label = "konbini"
    verbose_name = "コンビニ支払い"
