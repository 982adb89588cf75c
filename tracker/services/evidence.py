"""Evidence files (佐证材料): size and type limits, content hash, private storage, and the
content type a download is served with (a text file's detected charset).

A completed (已销号) task takes evidence only with its 回头看 report (`recheck=`, passed by
tracker.services.rechecks.recheck_report); the rule is `_refuse_unless_open_or_rechecked`."""

import codecs
import datetime as dt
import hashlib
import mimetypes
import os
import uuid
from collections.abc import Sequence
from pathlib import Path, PurePath

import charset_normalizer
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from tracker import access
from tracker.errors import ActionForbidden, InvalidInput, TransitionNotAllowed
from tracker.models import (
    Evidence,
    ProgressReport,
    RecheckState,
    Task,
    TaskRecheck,
    TaskStatus,
    User,
)
from tracker.models.tasks import evidence_upload_to
from tracker.storage import STAGING_FOLDER

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


def _refusal(uploaded: UploadedFile) -> tuple[str, str] | None:
    """Why this file is refused, as (message, short hint), both naming the file; None if fine.

    The name is in every message so that among several files the refused one is known.
    """
    name = PurePath(uploaded.name or "").name or "未命名文件"
    extension = PurePath(name).suffix.lower().lstrip(".")
    if uploaded.size == 0:
        return f"文件为空：{name}", f"文件为空：{name}"
    allowed = settings.EVIDENCE_ALLOWED_EXTENSIONS
    if extension not in allowed:
        return (f"{name}：文件类型不允许（“{extension or '无扩展名'}”不在允许之列，仅允许："
                f"{'、'.join(allowed)}）", f"{name}：文件类型不允许")
    if uploaded.size > settings.EVIDENCE_MAX_BYTES:
        return (f"{name}：文件过大（{_human_size(uploaded.size)}），单个文件不能超过"
                f"{_human_size(settings.EVIDENCE_MAX_BYTES)}", f"{name}：文件过大")
    signatures = MAGIC_NUMBERS.get(extension)
    if signatures:
        uploaded.seek(0)
        head = uploaded.read(8)
        uploaded.seek(0)
        if not head.startswith(signatures):
            return (f"{name}：文件内容与扩展名“{extension}”不符", f"{name}：文件内容与扩展名不符")
    return None


def validate_evidence_files(files: Sequence[UploadedFile]) -> None:
    """Check every file (size, extension, signature) before any is stored; one InvalidInput
    names each refused file ("文件为空：a.pdf；b.exe：不支持的文件类型…")."""
    refusals = [refusal for uploaded in files if (refusal := _refusal(uploaded))]
    if refusals:
        raise InvalidInput("；".join(message for message, _ in refusals),
                           fields={"file": "；".join(hint for _, hint in refusals)})


def validate_evidence_file(uploaded: UploadedFile) -> str:
    """Check one file; return its extension. Raises InvalidInput naming the file."""
    validate_evidence_files([uploaded])
    return PurePath(uploaded.name or "").suffix.lower().lstrip(".")


def _refuse_unless_open_or_rechecked(
    task: Task, recheck: TaskRecheck | None, progress_report: ProgressReport | None
) -> None:
    """A completed task takes evidence only with its 回头看 report: the file names a re-check of
    this task that is being (has just been) reported. Any task takes a re-check's files so."""
    if recheck is None:
        if task.status == TaskStatus.COMPLETED:
            raise TransitionNotAllowed(
                "任务已销号，不能再上传佐证材料（回头看的佐证材料请随回头看报告一并上传）"
            )
        return
    if recheck.task_id != task.pk or progress_report is not None:
        raise InvalidInput("该回头看不属于此任务", fields={"recheck": "无效的回头看"})
    if recheck.state != RecheckState.REPORTED:
        raise TransitionNotAllowed("回头看的佐证材料只能随回头看报告一并上传")


@transaction.atomic
def evidence_add(
    *,
    task: Task,
    actor: User,
    uploaded: UploadedFile,
    progress_report: ProgressReport | None = None,
    recheck: TaskRecheck | None = None,
    now: dt.datetime | None = None,
) -> Evidence:
    now = now or timezone.now()
    if not access.can_contribute(actor, task):
        raise ActionForbidden("您没有权限为该任务上传佐证材料")
    _refuse_unless_open_or_rechecked(task, recheck, progress_report)
    extension = validate_evidence_file(uploaded)
    digest = hashlib.sha256()
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    evidence = Evidence(
        task=task,
        progress_report=progress_report,
        recheck=recheck,
        original_name=PurePath(uploaded.name).name[:255],
        content_type=mimetypes.types_map.get(f".{extension}", "application/octet-stream"),
        size=uploaded.size,
        sha256=digest.hexdigest(),
        uploaded_by=actor,
        uploaded_at=now,
    )
    duplicate = f"{evidence.original_name}：该文件已上传过"
    if Evidence.objects.filter(task=task, sha256=evidence.sha256).exists():
        raise InvalidInput(duplicate, fields={"file": duplicate})
    # The name is fixed by the task and the content hash, unique per task; the bytes are staged
    # now (the upload's temporary file is gone after the request) and put under that name only
    # once the row is committed, so a rollback never leaves a stored file without its row.
    evidence.file.name = evidence_upload_to(evidence, uploaded.name)
    staged = _stage(uploaded)
    try:
        with transaction.atomic():
            evidence.save()
    except IntegrityError as error:
        staged.unlink(missing_ok=True)
        raise InvalidInput(duplicate, fields={"file": duplicate}) from error
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    final = Path(settings.PRIVATE_MEDIA_ROOT) / evidence.file.name
    transaction.on_commit(lambda: _publish(staged, final))
    return evidence


def _stage(uploaded: UploadedFile) -> Path:
    folder = Path(settings.PRIVATE_MEDIA_ROOT) / STAGING_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / uuid.uuid4().hex
    uploaded.seek(0)
    with path.open("wb") as out:
        for chunk in uploaded.chunks():
            out.write(chunk)
    uploaded.seek(0)
    return path


def _publish(staged: Path, final: Path) -> None:
    """Move a committed upload's bytes under its row's name: a rename on the same disk, so a
    reader sees the whole file or none."""
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, final)


@transaction.atomic
def evidence_add_many(
    *, task: Task, actor: User, files: Sequence[UploadedFile],
    progress_report: ProgressReport | None = None, recheck: TaskRecheck | None = None,
    now: dt.datetime | None = None,
) -> list[Evidence]:
    """Several files at once, all or nothing: every file is checked first, so one refused
    file (named in the message) leaves none of the others stored."""
    validate_evidence_files(files)
    return [
        evidence_add(task=task, actor=actor, uploaded=uploaded, progress_report=progress_report,
                     recheck=recheck, now=now)
        for uploaded in files
    ]


# --- Serving ---------------------------------------------------------------------------------

# Types served with a charset: their bytes are text in whatever encoding the uploader's PC used.
TEXT_TYPES = {"text/plain", "text/csv"}
# Enough to tell the encoding; the time and memory spent on a download stay bounded.
CHARSET_SNIFF_BYTES = 64 * 1024
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "hz", "cp936"}


def _decodes(head: bytes, encoding: str) -> bool:
    """Strictly decodable, allowing a character cut off at the end of the sniffed head."""
    try:
        codecs.getincrementaldecoder(encoding)().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def detect_charset(head: bytes) -> str | None:
    """The charset to label text bytes with: a byte-order mark, else strict UTF-8, else strict
    GB18030 (the superset of GBK and GB2312, what Chinese Windows saves) unless the bytes read
    better as Big5, else charset-normalizer's best reading; None when nothing reads them."""
    for bom, charset in _BOMS:
        if head.startswith(bom):
            return charset
    if _decodes(head, "utf-8"):
        return "utf-8"
    if _decodes(head, "gb18030"):
        if _decodes(head, "big5"):
            # Traditional Chinese saved as Big5 (Hong Kong, Taiwan) also decodes as GB18030,
            # into odd characters: let the detector choose between the two.
            best = charset_normalizer.from_bytes(head, cp_isolation=["gb18030", "big5"]).best()
            if best is not None and best.encoding == "big5":
                return "big5"
        return "gb18030"
    best = charset_normalizer.from_bytes(head).best()
    if best is None:
        return None
    return "gb18030" if best.encoding in _GB_FAMILY else best.encoding.replace("_", "-")


def evidence_content_type(evidence: Evidence) -> str:
    """The Content-Type a download of this file is served with (page and API alike): the stored
    type, and for text its detected charset, so a GBK .txt shows as Chinese, not mojibake."""
    content_type = evidence.content_type or (
        mimetypes.guess_type(evidence.original_name)[0] or "application/octet-stream"
    )
    if content_type not in TEXT_TYPES:
        return content_type
    # Its own handle: the response streams the file through evidence.file afterwards.
    with evidence.file.storage.open(evidence.file.name, "rb") as handle:
        charset = detect_charset(handle.read(CHARSET_SNIFF_BYTES))
    return f"{content_type}; charset={charset}" if charset else content_type


# --- Orphans ---------------------------------------------------------------------------------

ORPHAN_CHUNK = 500


def evidence_orphans_sweep(*, now: dt.datetime, grace: dt.timedelta) -> list[str]:
    """Delete files no Evidence row names: staged uploads whose transaction rolled back (or
    whose process died before the move), and stored files whose row is gone (files written
    before uploads were staged, or put there by hand).

    Only files older than ``grace`` go, so an upload still in flight is never touched. Walks
    the task folders (evidence/<task id>/) in chunks, one query per chunk: memory and queries
    stay bounded at any number of files. Returns the deleted names (idempotent)."""
    cutoff = (now - grace).timestamp()
    deleted = _staged_leftovers_sweep(cutoff)
    root = Path(settings.PRIVATE_MEDIA_ROOT) / "evidence"
    if not root.is_dir():
        return deleted
    folders = sorted(p for p in root.iterdir() if p.is_dir() and p.name.isdigit())
    for start in range(0, len(folders), ORPHAN_CHUNK):
        chunk = folders[start:start + ORPHAN_CHUNK]
        named = set(
            Evidence.objects.filter(task_id__in=[int(p.name) for p in chunk])
            .values_list("file", flat=True)
        )
        for folder in chunk:
            for path in folder.iterdir():
                name = f"evidence/{folder.name}/{path.name}"
                if path.is_file() and name not in named and path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
                    deleted.append(name)
    return deleted


def _staged_leftovers_sweep(cutoff: float) -> list[str]:
    """Staged uploads whose transaction rolled back (or whose process died before the move)."""
    folder = Path(settings.PRIVATE_MEDIA_ROOT) / STAGING_FOLDER
    if not folder.is_dir():
        return []
    deleted = []
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            deleted.append(f"{STAGING_FOLDER}/{path.name}")
    return deleted
