"""The models of every area, re-exported: Django loads the app's models from here (the app label, the
tables and the migrations are unchanged). Each model lives in its area: care, library, handoffs, concerns,
notify, audit."""

from referrals.audit.models import AccessLog as AccessLog
from referrals.audit.models import AccessLogQuerySet as AccessLogQuerySet
from referrals.audit.models import AppendOnlyError as AppendOnlyError
from referrals.care.models import DOSE_LIMITS as DOSE_LIMITS
from referrals.care.models import LOAD_LIMITS as LOAD_LIMITS
from referrals.care.models import PLAN_MAX_EXERCISES as PLAN_MAX_EXERCISES
from referrals.care.models import PLAN_MAX_PRECAUTIONS as PLAN_MAX_PRECAUTIONS
from referrals.care.models import PLAN_MAX_RED_FLAGS as PLAN_MAX_RED_FLAGS
from referrals.care.models import Consent as Consent
from referrals.care.models import DecimalShape as DecimalShape
from referrals.care.models import LoadUnit as LoadUnit
from referrals.care.models import Patient as Patient
from referrals.care.models import PlanExercise as PlanExercise
from referrals.care.models import Precaution as Precaution
from referrals.care.models import RedFlag as RedFlag
from referrals.care.models import TreatmentPlan as TreatmentPlan
from referrals.care.models import decimal_shape as decimal_shape
from referrals.care.models import dose_bounds as dose_bounds
from referrals.care.models import icd10_validator as icd10_validator
from referrals.care.models import tempo_validator as tempo_validator
from referrals.common import text_limit as text_limit
from referrals.concerns.models import CONCERN_MAX_LENGTH as CONCERN_MAX_LENGTH
from referrals.concerns.models import CONCERN_NOTE_MAX_LENGTH as CONCERN_NOTE_MAX_LENGTH
from referrals.concerns.models import Concern as Concern
from referrals.handoffs.models import CASELOAD_STATUSES as CASELOAD_STATUSES
from referrals.handoffs.models import OPEN_STATUSES as OPEN_STATUSES
from referrals.handoffs.models import REASON_MAX_LENGTH as REASON_MAX_LENGTH
from referrals.handoffs.models import REASON_REQUIRED_STATUSES as REASON_REQUIRED_STATUSES
from referrals.handoffs.models import SYSTEM_ACTOR_NAME as SYSTEM_ACTOR_NAME
from referrals.handoffs.models import TERMINAL_STATUSES as TERMINAL_STATUSES
from referrals.handoffs.models import HandoffEvent as HandoffEvent
from referrals.handoffs.models import HandoffStatus as HandoffStatus
from referrals.handoffs.models import TrainerHandoff as TrainerHandoff
from referrals.library.models import BodyRegion as BodyRegion
from referrals.library.models import Exercise as Exercise
from referrals.library.models import exercise_slug as exercise_slug
from referrals.notify.models import HANDOFF_EVENT_KIND as HANDOFF_EVENT_KIND
from referrals.notify.models import Notification as Notification
from referrals.notify.models import OutboxMessage as OutboxMessage
from referrals.notify.models import OwedQuerySet as OwedQuerySet
from referrals.notify.models import event_source_key as event_source_key
