"""The console's queues in their own order (issue 17: a page reads its 50 rows at 1M orders)."""

from django.db import migrations, models

from backoffice.migration_ops import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY on PostgreSQL

    dependencies = [
        ('pickup', '0004_store_throttled_until'),
        ('shop', '0011_order_number_part_indexes'),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='pickup',
            index=models.Index(condition=models.Q(('locked', True), ('status', 'ready')), fields=['locked_at', 'id'], name='pickup_locked_queue'),
        ),
    ]
