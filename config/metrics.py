"""Prometheus metrics at /metrics/, for the intranet's monitoring server only.

Requests and latency come from django-prometheus's middleware; the tracker's own figures are
read from the database at each scrape by ``TrackerCollector`` (a few aggregate queries): open
and overdue tasks, reminders recorded, deliveries by status and channel, and the Celery queue
depth where the broker is Redis. Only addresses in METRICS_ALLOWED_ADDRESSES may read them (the
figures say how far behind the province is); everyone else gets 404.

With several gunicorn processes, set PROMETHEUS_MULTIPROC_DIR so that request counters add up
(prometheus_client's multiprocess mode); the tracker's figures come from the database and are
the same whichever process answers.
"""

from django.conf import settings
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.core import GaugeMetricFamily

from config import celery_queues
from config.celery_app import app as celery_app
from tracker.deadlines import overdue_q
from tracker.models import OPEN_STATUSES, Delivery, Reminder, Task
from tracker.services.auth import client_address


class TrackerCollector:
    def collect(self):
        today = timezone.localdate()
        tasks = Task.objects.aggregate(
            open=Count("pk", filter=_open_q()), overdue=Count("pk", filter=overdue_q(today))
        )
        yield _gauge("tracker_tasks_open", "未销号的整改任务数", tasks["open"])
        yield _gauge("tracker_tasks_overdue", "逾期的整改任务数", tasks["overdue"])
        yield _gauge("tracker_reminders_recorded", "已记录的提醒总数", Reminder.objects.count())

        deliveries = GaugeMetricFamily("tracker_deliveries", "消息发送记录数（按状态、渠道）",
                                       labels=["status", "channel"])
        for row in Delivery.objects.values("status", "channel").annotate(n=Count("pk")):
            deliveries.add_metric([row["status"], row["channel"]], row["n"])
        yield deliveries

        depth = _queue_depths()
        if depth:
            family = GaugeMetricFamily("tracker_celery_queue_depth", "等待中的后台任务数",
                                       labels=["queue"])
            for queue, length in depth.items():
                family.add_metric([queue], length)
            yield family


def _open_q() -> Q:
    return Q(status__in=OPEN_STATUSES)


def _gauge(name: str, documentation: str, value: int) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _queue_depths() -> dict[str, int]:
    """Messages waiting per queue on a Redis broker (a list per queue); empty otherwise."""
    if not str(celery_app.conf.broker_url or "").startswith("redis://"):
        return {}
    names = getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", None)
    queues = set(celery_queues.QUEUES) | {names or "celery"}
    try:
        with celery_app.connection_for_read() as conn:
            client = conn.default_channel.client
            return {queue: int(client.llen(queue)) for queue in sorted(queues)}
    except Exception:  # a scrape reports what it can; the health check names the broker
        return {}


_registered = False


def register_collector() -> None:
    global _registered
    if not _registered:
        REGISTRY.register(TrackerCollector())
        _registered = True


@never_cache
@require_GET
def metrics(request):
    if client_address(request) not in settings.METRICS_ALLOWED_ADDRESSES:
        raise Http404
    register_collector()
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
