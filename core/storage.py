"""Private files: uploads waiting for the validate step, import archives waiting for a worker, and
model artifacts. They live apart from the public media (MEDIA_ROOT, or the media bucket's public
part), so no web server, CDN or bucket policy that serves media can ever serve them."""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages


class PrivateFileSystemStorage(FileSystemStorage):
    """A folder outside MEDIA_ROOT (settings.PRIVATE_FILES_ROOT, read when used) with no URL."""

    @property
    def base_location(self):
        return str(settings.PRIVATE_FILES_ROOT)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise ValueError("Private files have no URL; they are never served.")


def private_storage():
    """The storage of private files (STORAGES["private"]), for FileField(storage=...)."""
    return storages["private"]
