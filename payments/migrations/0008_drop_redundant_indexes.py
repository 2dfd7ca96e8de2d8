# Indexes another index makes redundant (its leading column): dropped, which every write
# to these tables had to maintain. tests/test_schema.py keeps it so.

import django.db.models.deletion
from django.db import migrations, models

from backoffice.migration_ops import DropForeignKeyIndex


class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0007_refund_gateway_error_code'),
        ('shop', '0013_drop_redundant_indexes'),
    ]

    operations = [
        DropForeignKeyIndex(
            model_name='giftcardentry',
            name='account',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='entries', to='payments.giftcardaccount'),
        ),
        DropForeignKeyIndex(
            model_name='pointsentry',
            name='account',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='entries', to='payments.pointsaccount'),
        ),
        DropForeignKeyIndex(
            model_name='refund',
            name='order',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='refunds', to='shop.order'),
        ),
    ]
