"""What every admin module shares: read-only admins, audited reads, capped inlines."""

from __future__ import annotations

from typing import Any, TypeVar

from django import forms
from django.db.models import Model
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from accounts.admin_base import (
    ModelAdmin,
    ScopedInlineFormSet,
    TabularInline,
)
from referrals.audit import services as audit_services
from referrals.care import services as care_services
from referrals.handoffs.models import HandoffEvent
from referrals.notify.models import Notification, OutboxMessage

_M = TypeVar("_M", bound=Model)


_P = TypeVar("_P", bound=Model)


class ReadOnlyModelAdmin(ModelAdmin[_M]):
    """A view-only admin: no add, no change, no delete. Actions that call services stay available."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return False


class AuditReadsMixin:
    """Every patient, plan or handoff the admin opens (change, history and delete pages) is recorded in the
    access log with channel=admin, once the scoped queryset and the permissions let the user see it."""

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        obj = super().get_object(request, object_id, from_field)  # type: ignore[misc]
        if obj is not None and self.has_view_or_change_permission(request, obj):  # type: ignore[attr-defined]
            audit_services.record_read(request, self.audited(obj), channel=audit_services.Channel.ADMIN)
        return obj

    def audited(self, obj: Any) -> Any:
        """What the access log names: the object itself, or (a session log, a report) its referral, as the
        pages and the API record it."""
        return obj


def _handoff_link(handoff_id: int, public_id: object) -> SafeString:
    url = reverse("admin:referrals_trainerhandoff_change", args=[handoff_id])
    return format_html('<a href="{}">{}</a>', url, str(public_id)[:8])


def _owed_handoff_link(obj: Notification | OutboxMessage) -> SafeString | str:
    """The referral a notification or outbox row is about; "-" for a kind without one."""
    if obj.handoff_id is None or obj.handoff is None:
        return "-"
    return _handoff_link(obj.handoff_id, obj.handoff.public_id)


def _actor_name(event: HandoffEvent) -> str:
    return event.actor_display


def _short(text: str, length: int = 80) -> str:
    return Truncator(text).chars(length)


class ReadOnlyTabularInline(TabularInline[_M, _P]):
    """Rows shown beside their parent that only the workflow writes: no add, change or delete here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CappedRowsFormSet(ScopedInlineFormSet):
    """A plan's rows in the admin: no more than the service allows (PLAN_MAX_*), with its message."""

    cap_key = ""

    def clean(self) -> None:
        super().clean()
        cap, _ = care_services.ROW_CAPS[self.cap_key]
        kept = [form for form in self.forms if form.has_changed() or form.instance.pk]
        kept = [form for form in kept if not getattr(form, "cleaned_data", {}).get("DELETE")]
        if len(kept) > cap:
            raise forms.ValidationError(care_services.row_cap_message(self.cap_key))


def _capped(key: str) -> type[CappedRowsFormSet]:
    return type(f"Capped{key.title()}FormSet", (CappedRowsFormSet,), {"cap_key": key})
