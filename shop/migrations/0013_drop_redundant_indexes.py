# Indexes another index makes redundant (its leading column): dropped, which every write
# to these tables had to maintain. tests/test_schema.py keeps it so.

import django.db.models.deletion
from django.db import migrations, models

from backoffice.migration_ops import DropForeignKeyIndex


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0012_staff_queue_indexes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='orderevent',
            name='at',
            field=models.DateTimeField(verbose_name='日時'),
        ),
        DropForeignKeyIndex(
            model_name='sellerclosurecheck',
            name='request',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='checks', to='shop.sellerclosurerequest'),
        ),
        DropForeignKeyIndex(
            model_name='shipmentevent',
            name='shipment',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='events', to='shop.shipment'),
        ),
    ]
