"""RankerState is caught up at reads (last_swipe_id), and on PostgreSQL its ~280 KiB statistics
are stored out of line without compression: the default (EXTENDED) tries to pglz-compress each
new value, which costs CPU on every write and gains nothing on floating-point sums."""

from django.db import migrations, models


def storage_external(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE users_rankerstate ALTER COLUMN statistics SET STORAGE EXTERNAL"
        )


def storage_extended(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE users_rankerstate ALTER COLUMN statistics SET STORAGE EXTENDED"
        )


class Migration(migrations.Migration):

    dependencies = [
        ('users', '0002_ranker_state'),
    ]

    operations = [
        migrations.AddField(
            model_name='rankerstate',
            name='last_swipe_id',
            field=models.BigIntegerField(default=0, help_text='The newest swipe included; later ones are added at the next read.'),
        ),
        migrations.RunPython(storage_external, storage_extended),
    ]
