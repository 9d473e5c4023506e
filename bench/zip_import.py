"""Memory and time of importing a zip archive: the request's directory check, and the worker's
streamed unpacking (each entry copied to disk in 64 KB pieces, real bytes counted).

    .venv/bin/python -m bench.zip_import [--entries 10] [--entry-mb 20]

The archive holds incompressible bytes (stored, not deflated, so no ratio check applies) named
.jpg: the unpacking cost is what is measured; the pipeline then rejects them at validate."""

import argparse
import os
import resource
import time
import tracemalloc
import zipfile

from .sandbox import django_sandbox


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10)
    parser.add_argument("--entry-mb", type=int, default=20)
    args = parser.parse_args()
    folder = django_sandbox()

    from django.core.files import File

    from ingest import zip_import
    from ml.scoring import model_version_label_prior_ensure
    from photos.models import ImportBatch

    model_version_label_prior_ensure()
    path = folder / "archive.zip"
    size = args.entry_mb * 1024 * 1024  # 20 MB: the per-photo limit
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as bundle:
        for index in range(args.entries):
            with bundle.open(f"paris/{index}.jpg", "w", force_zip64=True) as entry:
                for start in range(0, size, 1024 * 1024):
                    entry.write(os.urandom(min(1024 * 1024, size - start)))
    archive_mb = path.stat().st_size / 1e6

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()
    started = time.perf_counter()
    with path.open("rb") as handle:
        batch = zip_import.photos_import_zip(archive=File(handle, name="archive.zip"))
    # no broker: the unpacking task ran in this process once the batch committed
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    batch = ImportBatch.objects.get(pk=batch.pk)
    print(
        f"archive {archive_mb:.0f} MB, {args.entries} entries of {args.entry_mb} MB: status "
        f"{batch.status}, {batch.photos.count()} photos made (then rejected at validate: not "
        f"images), {seconds:.1f} s; Python allocations peak {peak / 1e6:.1f} MB; process max RSS "
        f"{rss_before:.0f} -> {rss_after:.0f} MB"
    )


if __name__ == "__main__":
    main()
