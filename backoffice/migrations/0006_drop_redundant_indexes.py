# Indexes another index makes redundant (its leading column): dropped, which every write
# to these tables had to maintain. tests/test_schema.py keeps it so.

import django.db.models.deletion
from django.db import migrations, models

from backoffice.migration_ops import DropForeignKeyIndex


class Migration(migrations.Migration):

    dependencies = [
        ('backoffice', '0005_worker_heartbeat'),
    ]

    operations = [
        DropForeignKeyIndex(
            model_name='idempotencyrecord',
            name='partner',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, to='backoffice.partner'),
        ),
    ]
