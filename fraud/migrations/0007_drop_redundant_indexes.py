# Indexes another index makes redundant (its leading column): dropped, which every write
# to these tables had to maintain. tests/test_schema.py keeps it so.

import django.db.models.deletion
from django.db import migrations, models

from backoffice.migration_ops import DropForeignKeyIndex


class Migration(migrations.Migration):

    dependencies = [
        ('fraud', '0006_session_revocations'),
        ('shop', '0013_drop_redundant_indexes'),
    ]

    operations = [
        DropForeignKeyIndex(
            model_name='knowndevice',
            name='customer',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='known_devices', to='shop.customer'),
        ),
        DropForeignKeyIndex(
            model_name='loginevent',
            name='customer',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='login_events', to='shop.customer', verbose_name='顧客'),
        ),
        DropForeignKeyIndex(
            model_name='passwordresettoken',
            name='customer',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='password_reset_tokens', to='shop.customer'),
        ),
        DropForeignKeyIndex(
            model_name='report',
            name='customer',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='fraud_reports', to='shop.customer', verbose_name='顧客'),
        ),
        DropForeignKeyIndex(
            model_name='reportcheck',
            name='report',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='checks', to='fraud.report'),
        ),
    ]
