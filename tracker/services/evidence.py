"""Evidence files (佐证材料): size and type limits, content hash, private storage."""

import datetime as dt
import hashlib
import mimetypes
from pathlib import PurePath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from tracker import access
from tracker.errors import ActionForbidden, InvalidInput, TransitionNotAllowed
from tracker.models import Evidence, ProgressReport, Task, TaskStatus, User

# Signatures of the binary formats we accept, so a renamed executable is not taken for a PDF.
MAGIC_NUMBERS = {
    "pdf": (b"%PDF",),
    "png": (b"\x89PNG",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "docx": (b"PK\x03\x04",),
    "xlsx": (b"PK\x03\x04",),
    "zip": (b"PK\x03\x04",),
    "ofd": (b"PK\x03\x04",),
    "doc": (b"\xd0\xcf\x11\xe0",),
    "xls": (b"\xd0\xcf\x11\xe0",),
}


def _human_size(size: int) -> str:
    return f"{size / 1024 / 1024:.0f}MB" if size >= 1024 * 1024 else f"{size / 1024:.0f}KB"


def validate_evidence_file(uploaded: UploadedFile) -> str:
    """Check size, extension and signature; return the extension. Raises InvalidInput."""
    name = uploaded.name or ""
    extension = PurePath(name).suffix.lower().lstrip(".")
    allowed = settings.EVIDENCE_ALLOWED_EXTENSIONS
    if extension not in allowed:
        raise InvalidInput(
            f"不支持的文件类型“{extension or '无扩展名'}”，仅允许：{'、'.join(allowed)}",
            fields={"file": "文件类型不允许"},
        )
    if uploaded.size == 0:
        raise InvalidInput("文件为空", fields={"file": "文件为空"})
    if uploaded.size > settings.EVIDENCE_MAX_BYTES:
        raise InvalidInput(
            f"文件过大（{_human_size(uploaded.size)}），单个文件不能超过"
            f"{_human_size(settings.EVIDENCE_MAX_BYTES)}",
            fields={"file": "文件过大"},
        )
    signatures = MAGIC_NUMBERS.get(extension)
    if signatures:
        uploaded.seek(0)
        head = uploaded.read(8)
        uploaded.seek(0)
        if not head.startswith(signatures):
            raise InvalidInput(
                f"文件内容与扩展名“{extension}”不符", fields={"file": "文件内容与扩展名不符"}
            )
    return extension


@transaction.atomic
def evidence_add(
    *,
    task: Task,
    actor: User,
    uploaded: UploadedFile,
    progress_report: ProgressReport | None = None,
    now: dt.datetime | None = None,
) -> Evidence:
    now = now or timezone.now()
    if not access.can_contribute(actor, task):
        raise ActionForbidden("您没有权限为该任务上传佐证材料")
    if task.status == TaskStatus.COMPLETED:
        raise TransitionNotAllowed("任务已销号，不能再上传佐证材料")
    extension = validate_evidence_file(uploaded)
    digest = hashlib.sha256()
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    evidence = Evidence(
        task=task,
        progress_report=progress_report,
        original_name=PurePath(uploaded.name).name[:255],
        content_type=mimetypes.types_map.get(f".{extension}", "application/octet-stream"),
        size=uploaded.size,
        sha256=digest.hexdigest(),
        uploaded_by=actor,
        uploaded_at=now,
    )
    if Evidence.objects.filter(task=task, sha256=evidence.sha256).exists():
        raise InvalidInput("该文件已上传过", fields={"file": "重复的文件"})
    evidence.file.save(uploaded.name, uploaded, save=False)
    try:
        with transaction.atomic():
            evidence.save()
    except IntegrityError as error:
        evidence.file.delete(save=False)
        raise InvalidInput("该文件已上传过", fields={"file": "重复的文件"}) from error
    return evidence
