"""The console's queues in their own order (issue 17: a page reads its 50 rows at 1M orders)."""

from django.db import migrations, models

from backoffice.migration_ops import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY on PostgreSQL

    dependencies = [
        ('pickup', '0005_staff_queue_indexes'),
        ('shop', '0011_order_number_part_indexes'),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='callbackrequest',
            index=models.Index(condition=models.Q(('status__in', ['waiting', 'claimed'])), fields=['created_at', 'id'], name='callback_open_queue'),
        ),
        AddIndexConcurrently(
            model_name='order',
            index=models.Index(condition=models.Q(('status', 'on_hold')), fields=['-risk_score', 'placed_at', 'id'], name='order_review_queue'),
        ),
    ]
