# Risk screening's known-address check (customer and address) in one index probe: the address's
# index gains the customer as its second column (issue 16). Built concurrently on PostgreSQL.

from django.db import migrations, models

from backoffice.migration_ops import AddIndexConcurrently


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ('shop', '0013_drop_redundant_indexes'),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='order',
            index=models.Index(fields=['address_key', 'customer'], name='order_address_customer'),
        ),
        migrations.RemoveIndex(
            model_name='order',
            name='order_address_key',
        ),
    ]
