# Indexes another index makes redundant (its leading column): dropped, which every write
# to these tables had to maintain. tests/test_schema.py keeps it so.

import django.db.models.deletion
from django.db import migrations, models

from backoffice.migration_ops import DropForeignKeyIndex


class Migration(migrations.Migration):

    dependencies = [
        ('pickup', '0005_staff_queue_indexes'),
        ('shop', '0013_drop_redundant_indexes'),
    ]

    operations = [
        DropForeignKeyIndex(
            model_name='pickupattempt',
            name='pickup',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='attempts', to='pickup.pickup', verbose_name='受取'),
        ),
        DropForeignKeyIndex(
            model_name='pickupattempt',
            name='store',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='attempts', to='pickup.store', verbose_name='店舗'),
        ),
        DropForeignKeyIndex(
            model_name='pickupnoshow',
            name='customer',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='pickup_no_shows', to='shop.customer', verbose_name='顧客'),
        ),
    ]
