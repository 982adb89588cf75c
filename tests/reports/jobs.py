"""Doing the worker's part in tests: run the queued report uploads the way the Celery task
does (reports.services.report_import_run, which reads each file in a child process)."""

from reports.models import ReportImport, ReportImportState
from reports.services import report_import_run


def run_queued_imports() -> list[str]:
    """Run every queued upload; return their final states, oldest first."""
    queued = ReportImport.objects.filter(state=ReportImportState.QUEUED).order_by("id")
    return [report_import_run(job_id=pk) for pk in queued.values_list("pk", flat=True)]
