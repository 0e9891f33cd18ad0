"""What every page module shares: the signed-in user, the scoped fetch, paging."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest

from referrals.handoffs.models import HandoffStatus

S = HandoffStatus


M = TypeVar("M", bound=Model)


PAGE_SIZE = 25


def _get(fetch: Callable[..., M], model: type[M], **kwargs: Any) -> M:
    """Fetch through a selector; outside the user's scope is a 404."""
    try:
        return fetch(**kwargs)
    except model.DoesNotExist as exc:  # type: ignore[attr-defined]
        raise Http404(f"No such {model._meta.verbose_name}.") from exc


def _page(request: HttpRequest, items: QuerySet[Any], param: str = "page") -> Page[Any]:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get(param))


def _deny_unless(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied
