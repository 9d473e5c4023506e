"""The import batches' admin: what became of each photo of an import, told so that a failed
import never looks like a success: an outcome bar coloured by status with a legend, the counts
in words, the reasons grouped ("12 too dark, 3 duplicates"), the archive entries skipped and
why, and links to the photos of each status. Registered by ingest/admin.py."""

import re
from collections import Counter

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from photos import selectors
from photos.models import ImportBatch, Photo

# batch_counts' keys, in the bar's order, with the words the page uses and the photo status each
# counts (the bar's colours are in static/css/admin.css, .outcome-<key>).
OUTCOMES = (
    ("done", "published", Photo.Status.PUBLISHED),
    ("queued", "in the pipeline", Photo.Status.PENDING),
    ("duplicate", "duplicate", Photo.Status.DUPLICATE),
    ("rejected", "rejected", Photo.Status.REJECTED),
    ("failed", "failed", Photo.Status.FAILED),
)
FAILED_LABEL = "Failed: nothing imported"
# The photo-specific part of a reason: a parenthesised measurement, a photo number, a figure.
_SPECIFIC = re.compile(r"\([^)]*\d[^)]*\)|#\d+|\b\d[\d,.]*\s*(?:px|bytes|tries|try|%)?")


def reason_group(reason: str) -> list[str]:
    """The reasons a photo's status_reason names, without the numbers that are its own:
    "Quality gate: too dark (brightness 3.1 < 16.4); too blurry (sharpness 2 < 40)." ->
    ["too dark", "too blurry"]; "Duplicate of photo #12." -> ["Duplicate of photo"]."""
    text = reason.strip()
    if text.startswith("Quality gate:"):
        parts = text.removeprefix("Quality gate:").split(";")
    else:
        parts = [text]
    groups = []
    for part in parts:
        general = re.sub(r"\s+", " ", _SPECIFIC.sub("", part)).strip(" .,:;-")
        groups.append(general or "no reason given")
    return groups


def batch_reason_groups(batch) -> list[tuple[str, int]]:
    """(reason, photos) for the batch's rejected, duplicate and failed photos, most first."""
    counted = Counter(
        group
        for _, reason in selectors.batch_reasons(batch=batch)
        for group in dict.fromkeys(reason_group(reason or ""))
    )
    return counted.most_common()


def batch_failed(batch, counts: dict[str, int]) -> bool:
    """Nothing of the batch reached the deck and nothing is still on its way: failed, whatever
    the batch's own status says."""
    if batch.status == ImportBatch.Status.FAILED:
        return True
    if batch.status == ImportBatch.Status.UNPACKING or counts["queued"]:
        return False
    return counts["done"] == 0 and (counts["rejected"] + counts["failed"]) > 0


def counts_in_words(counts: dict[str, int]) -> str:
    words = [f"{counts[key]} {label}" for key, label, _ in OUTCOMES if counts[key]]
    return ", ".join(words) or "no photos"


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ["id", "source", "short_label", "state", "total", "outcome", "created_at"]
    list_display_links = ["id", "short_label"]
    list_filter = ["source", "status"]
    readonly_fields = [
        "source", "label", "state", "error", "total", "outcome", "reasons", "skipped_entries",
        "photos_links", "created_by", "created_at",
    ]  # fmt: skip
    exclude = ["archive", "skipped", "status"]

    def has_add_permission(self, request):
        return False  # batches come from the import page, the API and `import_photos`

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="label", ordering="label")
    def short_label(self, batch):
        return format_html('<span class="truncate" title="{}">{}</span>', batch.label, batch.label)

    @admin.display(description="state", ordering="status")
    def state(self, batch):
        counts = selectors.batch_counts(batch=batch)
        if batch_failed(batch, counts):
            return format_html('<strong class="batch-failed">{}</strong>', FAILED_LABEL)
        if batch.status == ImportBatch.Status.UNPACKING:
            return "unpacking"
        return "in progress" if counts["queued"] else "finished"

    @admin.display(description="outcome")
    def outcome(self, batch):
        """The bar (one segment per status, its width the share of photos), the progress and
        the counts in words."""
        counts = selectors.batch_counts(batch=batch)
        shown = sum(counts.values())
        failed = batch_failed(batch, counts)
        segments = format_html_join(
            "",
            '<span class="outcome-{}" style="width:{}%" title="{} {}"></span>',
            (
                (key, f"{100 * counts[key] / shown:.2f}", counts[key], label)
                for key, label, _ in OUTCOMES
                if counts[key]
            ),
        )
        finished = shown - counts["queued"]
        percent = round(100 * finished / shown) if shown else 100
        return format_html(
            '<div class="outcome{}" role="img" aria-label="{}">{}</div>'
            '<span class="outcome-words">{} % done: {}</span>',
            " outcome-failed-batch" if failed else "",
            counts_in_words(counts),
            segments,
            percent,
            ("failed: " if failed else "") + counts_in_words(counts),
        )

    @admin.display(description="why photos were left out")
    def reasons(self, batch):
        groups = batch_reason_groups(batch)
        legend = format_html_join(
            "",
            '<li><span class="outcome-swatch outcome-{}"></span>{}</li>',
            ((key, label) for key, label, _ in OUTCOMES),
        )
        if not groups:
            listed = format_html("<p>{}</p>", "None.")
        else:
            listed = format_html(
                '<ul class="reason-groups">{}</ul>',
                format_html_join("", "<li>{} {}</li>", ((n, text) for text, n in groups)),
            )
        return format_html('{}<ul class="outcome-legend">{}</ul>', listed, legend)

    @admin.display(description="not imported (archive entries)")
    def skipped_entries(self, batch):
        if not batch.skipped:
            return "None."
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "", "<li>{}: {}</li>", ((e["entry"], e["reason"]) for e in batch.skipped[:200])
            ),
        )

    @admin.display(description="photos")
    def photos_links(self, batch):
        counts = selectors.batch_counts(batch=batch)
        base = reverse("admin:photos_photo_changelist") + f"?batch__id__exact={batch.pk}"
        links = [(base, f"all {sum(counts.values())}")] + [
            (f"{base}&status__exact={status}", f"{counts[key]} {label}")
            for key, label, status in OUTCOMES
            if counts[key]
        ]
        return format_html_join(" · ", '<a href="{}">{}</a>', links)
