# Indexes another index makes redundant (its leading column): dropped, which every write
# to these tables had to maintain. tests/test_schema.py keeps it so.

import django.db.models.deletion
from django.db import migrations, models

from backoffice.migration_ops import DropForeignKeyIndex


class Migration(migrations.Migration):

    dependencies = [
        ('receipts', '0001_receipts'),
    ]

    operations = [
        DropForeignKeyIndex(
            model_name='receiptissue',
            name='receipt',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='issues', to='receipts.receipt', verbose_name='領収書'),
        ),
    ]
