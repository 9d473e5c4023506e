"""Admin forms of the ways a photo enters: the import page and the "add photo" form."""

from django import forms

from core.errors import ApplicationError
from photos.models import Photo

from . import imports, urls

MAX_CSV_BYTES = 5 * 1024 * 1024


class PhotoImportForm(forms.Form):
    lines = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 12, "cols": 100, "placeholder": "url,city"}),
        help_text=(
            "One photo per line: <code>https://example.com/photo.jpg,Paris</code>. The city is "
            "a slug or a name and may be left empty. A header line <code>url,city</code> is fine."
        ),
    )
    csv_file = forms.FileField(
        required=False,
        label="or a CSV file",
        help_text="UTF-8 CSV with the same two columns, at most 5 MB.",
    )

    upload = forms.FileField(
        required=False,
        label="or an image or a zip of images",
        help_text=(
            "A zip's folders may be city names (slug or name); other files get the city below."
        ),
    )
    city = forms.CharField(
        required=False, max_length=128, help_text="City (slug or name) for an uploaded file."
    )

    def clean_csv_file(self):
        upload = self.cleaned_data.get("csv_file")
        if upload is None:
            return ""
        if upload.size > MAX_CSV_BYTES:
            raise forms.ValidationError("The CSV file is larger than 5 MB.")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise forms.ValidationError("The CSV file is not UTF-8 text.") from error

    def clean(self):
        cleaned = super().clean()
        text = "\n".join(part for part in (cleaned.get("lines"), cleaned.get("csv_file")) if part)
        if not self.errors and not text.strip() and not cleaned.get("upload"):
            raise forms.ValidationError("Paste some lines or choose a CSV file, an image or a zip.")
        if text.strip() and cleaned.get("upload"):
            raise forms.ValidationError("Import either lines or a file, not both at once.")
        cleaned["text"] = text
        return cleaned

    def save(self, user=None):
        """Import every line (or the file) or nothing. Problems become form errors."""
        try:
            if self.cleaned_data.get("upload"):
                return imports.photos_import_request(
                    user=user, file=self.cleaned_data["upload"], city=self.cleaned_data["city"]
                )
            return imports.photos_import_lines(
                text=self.cleaned_data["text"], source="admin import", user=user
            )
        except ApplicationError as error:
            line_errors = (error.details or {}).get("lines", {})
            self.add_error(None, error.message)
            for line_number, message in line_errors.items():
                self.add_error(None, f"Line {line_number}: {message}")
            return None


class PhotoAdminForm(forms.ModelForm):
    """The admin's "add photo" form: an image file or a URL the fetcher would accept. Either way
    the photo goes through the import pipeline like every other."""

    image_url = forms.URLField(
        required=False,
        max_length=Photo._meta.get_field("image_url").max_length,
        assume_scheme="https",
        help_text=Photo._meta.get_field("image_url").help_text,
    )

    class Meta:
        model = Photo
        fields = ["image", "city", "is_synthetic"]  # + the declared image_url

    def clean_image_url(self):
        url = self.cleaned_data.get("image_url", "")
        if url and (problem := urls.url_problem(url)):
            raise forms.ValidationError(problem)
        return url

    def clean(self):
        cleaned = super().clean()
        adding = self.instance.pk is None
        if adding and not cleaned.get("image") and not cleaned.get("image_url") and not self.errors:
            raise forms.ValidationError("Choose an image file or give its URL.")
        return cleaned
