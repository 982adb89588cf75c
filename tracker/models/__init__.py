from tracker.models.audit import AuditAction, AuditAppendOnlyError, AuditEntry
from tracker.models.calendar import HolidayKind, HolidayOverride, WorkdayCalendarGeneration
from tracker.models.inspections import Inspection, InspectionKind, InspectionMode, Problem
from tracker.models.ledger_jobs import LedgerJob, LedgerJobKind, LedgerJobState
from tracker.models.operations import ServiceHeartbeat
from tracker.models.reminders import (
    Channel,
    Delivery,
    DeliveryMode,
    DeliveryStatus,
    DispatchRequest,
    EventNotice,
    EventType,
    Notification,
    NotificationKind,
    NotificationPreference,
    Reminder,
)
from tracker.models.saved_filters import SavedFilter
from tracker.models.security import ApiToken, LoginFailure
from tracker.models.tasks import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    DeadlineExtension,
    Evidence,
    ExtensionStatus,
    ProgressReport,
    Task,
    TaskAction,
    TaskEvent,
    TaskStatus,
    TaskType,
    page_rank,
)
from tracker.models.units import Unit, UnitKind, subtree_q
from tracker.models.users import Role, User

__all__ = [
    "CLOSED_STATUSES",
    "OPEN_STATUSES",
    "ApiToken",
    "AuditAction",
    "AuditAppendOnlyError",
    "AuditEntry",
    "Channel",
    "DeadlineExtension",
    "Delivery",
    "DeliveryMode",
    "DeliveryStatus",
    "DispatchRequest",
    "EventNotice",
    "EventType",
    "Evidence",
    "ExtensionStatus",
    "HolidayKind",
    "HolidayOverride",
    "Inspection",
    "InspectionKind",
    "InspectionMode",
    "LedgerJob",
    "LedgerJobKind",
    "LedgerJobState",
    "LoginFailure",
    "Notification",
    "NotificationKind",
    "NotificationPreference",
    "Problem",
    "ProgressReport",
    "Reminder",
    "Role",
    "SavedFilter",
    "ServiceHeartbeat",
    "Task",
    "TaskAction",
    "TaskEvent",
    "TaskStatus",
    "TaskType",
    "Unit",
    "UnitKind",
    "User",
    "WorkdayCalendarGeneration",
    "page_rank",
    "subtree_q",
]
