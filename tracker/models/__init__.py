from tracker.models.audit import AuditAction, AuditAppendOnlyError, AuditEntry
from tracker.models.calendar import HolidayKind, HolidayOverride, WorkdayCalendarGeneration
from tracker.models.comments import (
    CommentKind,
    CommentMention,
    TaskComment,
    TaskWatcher,
)
from tracker.models.inspections import Inspection, InspectionKind, InspectionMode, Problem
from tracker.models.ledger_jobs import LedgerJob, LedgerJobKind, LedgerJobState
from tracker.models.notices import (
    NoticeColour,
    NoticeSequence,
    NoticeState,
    SupervisionNotice,
    SupervisionNoticeItem,
)
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
from tracker.models.tallies import NO_DEADLINE_MONTH, TaskTally
from tracker.models.tallies_events import EventTally, TallyPeriod
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
)
from tracker.models.units import Unit, UnitKind, subtree_q
from tracker.models.users import Role, User
from tracker.models.webhooks import (
    WEBHOOK_EVENT_FIELDS,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEvent,
    generate_webhook_secret,
)

__all__ = [
    "CLOSED_STATUSES",
    "NO_DEADLINE_MONTH",
    "OPEN_STATUSES",
    "WEBHOOK_EVENT_FIELDS",
    "ApiToken",
    "AuditAction",
    "AuditAppendOnlyError",
    "AuditEntry",
    "Channel",
    "CommentKind",
    "CommentMention",
    "DeadlineExtension",
    "Delivery",
    "DeliveryMode",
    "DeliveryStatus",
    "DispatchRequest",
    "EventNotice",
    "EventTally",
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
    "NoticeColour",
    "NoticeSequence",
    "NoticeState",
    "Notification",
    "NotificationKind",
    "NotificationPreference",
    "Problem",
    "ProgressReport",
    "Reminder",
    "Role",
    "SavedFilter",
    "ServiceHeartbeat",
    "SupervisionNotice",
    "SupervisionNoticeItem",
    "TallyPeriod",
    "Task",
    "TaskAction",
    "TaskComment",
    "TaskEvent",
    "TaskStatus",
    "TaskTally",
    "TaskType",
    "TaskWatcher",
    "Unit",
    "UnitKind",
    "User",
    "WebhookDelivery",
    "WebhookDeliveryStatus",
    "WebhookEndpoint",
    "WebhookEvent",
    "WorkdayCalendarGeneration",
    "generate_webhook_secret",
    "subtree_q",
]
