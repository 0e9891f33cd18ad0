"""The world of tests/integration/test_backup_restore.py, built and read by a process of its own against the
scratch database DATABASE_URL names (never the pytest database):

    python -m tests.integration.restore_world build   # the referrals and their outbox rows; prints JSON
    python -m tests.integration.restore_world state   # the outbox rows, row counts, migrations: JSON

`build` runs with the broker down (REDIS_URL naming a closed port), as when Redis was away while the
physiotherapist sent: every publish after commit fails and the outbox rows wait, as in production. It then
delivers some of them in this process, the way a worker does (notify.outbox.deliver), through the SMTP edge
of tests/mail_backends.py (DJANGO_EMAIL_BACKEND, HANDOFF_TEST_MAIL_DIR), so the backup holds:

- `sent`: trainer A's email about referral A, delivered before the backup;
- `pending`: trainer B's email about referral B, never attempted;
- `retrying`: the physiotherapist's email that trainer B accepted, whose first attempt the mail server
  refused (pending, one attempt counted, its retry due).
"""

from __future__ import annotations

import json
import sys
from typing import Any


def build() -> dict[str, Any]:
    from accounts.models import Membership, Organization, User
    from referrals.care.models import Consent, TreatmentPlan
    from referrals.handoffs import sending as handoffs_sending
    from referrals.handoffs import services as handoffs_services
    from referrals.notify import outbox as notify_outbox
    from referrals.notify.models import OutboxMessage
    from tests import factories as f
    from tests.mail_backends import EdgeBackend, MailEdge

    clinic = f.ClinicFactory(name="Lakeside Physio")
    gym = f.GymFactory(name="Iron Works Gym")
    f.PartnershipFactory(clinic=clinic, gym=gym)
    physio = f.UserFactory(full_name="Pat Physio", email="pat@lakeside.test")
    f.MembershipFactory(user=physio, organization=clinic, role=Membership.Role.PHYSIOTHERAPIST)
    f.PhysioProfileFactory(user=physio)

    def trainer(email: str) -> User:
        user = f.UserFactory(email=email)
        f.MembershipFactory(user=user, organization=gym, role=Membership.Role.TRAINER)
        f.CertificationFactory(profile=f.TrainerProfileFactory(user=user))
        return user

    def plan(patient_name: str, gym: Organization) -> TreatmentPlan:
        patient = f.PatientFactory(clinic=clinic, full_name=patient_name)
        plan = f.PlanFactory(patient=patient, physiotherapist=physio)
        f.PlanExerciseFactory(plan=plan, position=0)
        f.ConsentFactory(patient=patient, gym=gym, recorded_by=physio, scope=Consent.Scope.GUIDELINES)
        return plan

    trainer_a, trainer_b = trainer("trainer-a@ironworks.test"), trainer("trainer-b@ironworks.test")
    referral_a = handoffs_sending.plan_discharge(
        plan=plan("Alex Patient", gym), trainer=trainer_a, gym=gym, actor=physio
    )
    referral_b = handoffs_sending.plan_discharge(
        plan=plan("Blake Patient", gym), trainer=trainer_b, gym=gym, actor=physio
    )
    handoffs_services.handoff_accept(handoff=referral_b, actor=trainer_b)

    rows = OutboxMessage.objects.order_by("pk")
    sent = rows.get(handoff=referral_a, recipient=trainer_a)
    pending = rows.get(handoff=referral_b, recipient=trainer_b)
    retrying = rows.get(handoff=referral_b, recipient=physio)
    assert rows.count() == 3, f"expected three outbox rows, found {rows.count()}"
    assert set(rows.values_list("status", flat=True)) == {OutboxMessage.Status.PENDING}, "the broker is up?"

    from django.conf import settings

    backend: str = settings.EMAIL_BACKEND
    assert backend == f"{EdgeBackend.__module__}.{EdgeBackend.__name__}", "the SMTP edge records each email"
    assert notify_outbox.deliver(sent.pk).outcome(sent.pk) == "sent"
    MailEdge(EdgeBackend().root).control(fail_next=1)
    assert notify_outbox.deliver(retrying.pk).outcome(retrying.pk) == "retry"
    MailEdge(EdgeBackend().root).control()
    return {"sent": [sent.pk], "pending": [pending.pk], "retrying": [retrying.pk]}


def state() -> dict[str, Any]:
    from django.apps import apps
    from django.db.migrations.recorder import MigrationRecorder

    from referrals.handoffs.models import HandoffEvent
    from referrals.notify.models import OutboxMessage

    outbox = [
        {**row, "sent_at": row["sent_at"].isoformat() if row["sent_at"] else None}
        for row in OutboxMessage.objects.order_by("pk").values(
            "pk", "source_key", "recipient__email", "status", "attempts", "sent_at"
        )
    ]
    events = [
        {"pk": pk, "delivered_at": delivered.isoformat() if delivered else None}
        for pk, delivered in HandoffEvent.objects.order_by("pk").values_list("pk", "delivered_at")
    ]
    counts = {
        model._meta.label: model._default_manager.count()
        for app in ("accounts", "referrals")
        for model in apps.get_app_config(app).get_models()
    }
    migrations = sorted(MigrationRecorder.Migration.objects.values_list("app", "name"))
    return {"outbox": outbox, "events": events, "counts": counts, "migrations": migrations}


def main(argv: list[str]) -> None:
    import django

    django.setup()
    commands = {"build": build, "state": state}
    if len(argv) != 2 or argv[1] not in commands:
        sys.exit(f"usage: python -m tests.integration.restore_world {'|'.join(commands)}")
    print(json.dumps(commands[argv[1]]()))


if __name__ == "__main__":
    main(sys.argv)
