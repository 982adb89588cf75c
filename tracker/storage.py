import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class PrivateStorage(FileSystemStorage):
    """Evidence files: kept outside any public URL, streamed only by a permission-checked view.

    The location is read from settings on every use (not cached at import), so a deployment
    or a test that sets PRIVATE_MEDIA_ROOT is always honoured.
    """

    @property
    def base_location(self):
        return settings.PRIVATE_MEDIA_ROOT

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise ValueError("佐证材料没有公开URL，只能通过经权限检查的下载接口获取")


private_storage = PrivateStorage()

# Uploads wait here until their transaction commits; only then are they moved to the name their
# row holds. A rolled-back upload leaves its bytes here, never among the stored files, and the
# nightly sweep deletes them. Backups skip this folder.
STAGING_FOLDER = "staging"


def get_private_storage() -> PrivateStorage:
    """For FileField(storage=...): a callable keeps the storage out of migrations."""
    return private_storage
