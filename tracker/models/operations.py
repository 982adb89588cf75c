from django.db import models


class ServiceHeartbeat(models.Model):
    """The last time a background component proved it was alive: the scheduler's heartbeat
    task, queued by beat and run by a worker, stamps ``scheduler`` on every tick. The readiness
    check (config/health.py) reads it, so a stopped beat or a worker that takes nothing from the
    queue shows up on /health/ready/ within minutes."""

    name = models.CharField("组件", max_length=50, primary_key=True)
    seen_at = models.DateTimeField("最近心跳")

    class Meta:
        verbose_name = "运行心跳"
        verbose_name_plural = "运行心跳"

    def __str__(self) -> str:
        return f"{self.name} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"
