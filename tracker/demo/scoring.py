"""The demo's scoring schemes (考评方案): last year's defaults and this year's weights, set by
the demo administrator through the audited service, so 考评排名 shows the scheme in force
and a period of last year keeps its own weights."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from tracker.models import DEFAULT_WEIGHTS, ScoringScheme, User
from tracker.services.scoring import scoring_scheme_save

SCHEMES = [
    # (name, year offset from today's year, weights over the defaults, note)
    ("上年度考评方案", -1, {}, "按默认权重计分"),
    ("本年度考评方案", 0, {"overdue_day_weight": Decimal("1"), "notice_late_weight": Decimal("8")},
     "加大逾期和逾期回复督办的扣分"),
]


def ensure_scoring_schemes(*, admin: User, today: dt.date) -> int:
    """Create the schemes that are missing; returns how many were created."""
    created = 0
    for name, offset, weights, note in SCHEMES:
        effective_from = dt.date(today.year + offset, 1, 1)
        if ScoringScheme.objects.filter(effective_from=effective_from).exists():
            continue
        scoring_scheme_save(actor=admin, now=timezone.now(), name=name,
                            effective_from=effective_from, note=note,
                            **(DEFAULT_WEIGHTS | weights))
        created += 1
    return created
