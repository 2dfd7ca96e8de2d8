"""Seed the risk-rule table with the default weights of ``fraud.rules.DEFAULT_RISK_RULES``.

Existing rows are left alone (staff may have edited the weights)."""

from django.db import migrations


def seed(apps, schema_editor):
    from fraud.rules import DEFAULT_RISK_RULES

    RiskRule = apps.get_model("fraud", "RiskRule")
    for code, (description, weight) in DEFAULT_RISK_RULES.items():
        RiskRule.objects.get_or_create(code=code, defaults={"description": description, "weight": weight})


class Migration(migrations.Migration):
    dependencies = [("fraud", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
