"""Fire every work item timer that is due (recovery after a restart; cron-able)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from cases import services
from cases.models import LIVE_ITEM_STATES, WorkItem


class Command(BaseCommand):
    help = "Fire the timers of live work items whose due time has passed."

    def handle(self, *args, **options) -> None:
        due = WorkItem.objects.filter(timer_due_at__lte=timezone.now(), state__in=LIVE_ITEM_STATES)
        fired = 0
        for case_id, engine_id in due.values_list("case_id", "engine_id"):
            if services.fire_timer(case_id, engine_id) is not None:
                fired += 1
        self.stdout.write(f"fired {fired} timer(s)")
