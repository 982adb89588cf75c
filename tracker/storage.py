from django.conf import settings
from django.core.files.storage import FileSystemStorage

# No base_url: evidence has no public URL and is only streamed by a permission-checked view.
private_storage = FileSystemStorage(location=settings.PRIVATE_MEDIA_ROOT, base_url=None)
