# The many-to-many tables' indexes their unique pair makes redundant (report_id of the
# report–order links, from_report_id of the linked reports). tests/test_schema.py keeps it so.

from django.db import migrations

from backoffice.migration_ops import DropManyToManySourceIndex


class Migration(migrations.Migration):

    dependencies = [
        ('fraud', '0007_drop_redundant_indexes'),
    ]

    operations = [
        DropManyToManySourceIndex(model_name='report', name='orders'),
        DropManyToManySourceIndex(model_name='report', name='linked'),
    ]
