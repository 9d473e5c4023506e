"""Load the default city catalog (photos/data/cities.csv: the 266 urban areas of the original app)."""

from django.db import migrations

from photos.catalog import read_city_catalog


def load_catalog(apps, schema_editor):
    City = apps.get_model("photos", "City")
    existing = set(City.objects.values_list("slug", flat=True))
    City.objects.bulk_create(
        [City(slug=slug, name=name) for slug, name in read_city_catalog() if slug not in existing]
    )


class Migration(migrations.Migration):
    dependencies = [("photos", "0001_initial")]

    operations = [migrations.RunPython(load_catalog, migrations.RunPython.noop)]
