"""Pages of the care area: patients and consent."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Organization, User
from accounts.selectors import request_user as _user  # the one helper of pages and API
from referrals import access as referrals_access
from referrals.audit import services as audit_services
from referrals.care import policies as care_policies
from referrals.care import selectors as care_selectors
from referrals.care import services as care_services
from referrals.care.models import Consent, Patient, TreatmentPlan
from referrals.errors import (
    DomainError,
    DuplicatePatient,
    NotPermitted,
)
from referrals.handoffs import eligibility as handoffs_eligibility
from referrals.progress import charts as progress_charts
from referrals.progress import policies as progress_policies
from referrals.web import forms as web_forms
from referrals.web.common import _deny_unless, _get, _page

# --- patients ------------------------------------------------------------------------------------------


PATIENT_SEARCH_KEY = "patient_search"


@login_required
@require_http_methods(["GET", "POST"])
def patient_list(request: HttpRequest) -> HttpResponse:
    """The search words are a patient's name: they are posted and kept in the session, never put in a
    URL, where web-server logs and the browser history would keep them."""
    user = _user(request)
    _deny_unless(referrals_access.is_physiotherapist(user))
    if request.method == "POST":
        request.session[PATIENT_SEARCH_KEY] = str(request.POST.get("q", "")).strip()[:100]
        return redirect("patient_list")
    query = str(request.session.get(PATIENT_SEARCH_KEY, ""))
    patients = care_selectors.patient_list_for_user(user=user).order_by("full_name", "id")
    for word in query.split()[:5]:
        patients = patients.filter(full_name__icontains=word)
    return render(request, "referrals/patient_list.html", {"page": _page(request, patients), "q": query})


@login_required
@require_http_methods(["GET", "POST"])
def patient_create(request: HttpRequest) -> HttpResponse:
    """A physiotherapist of several clinics chooses the clinic (as in the API); of one, it is theirs."""
    user = _user(request)
    clinics = {str(c.public_id): c for c in handoffs_eligibility.clinic_list_for_physio(user=user)}
    _deny_unless(bool(clinics))
    form = web_forms.PatientCreateForm(
        request.POST or None, clinics=[(k, c.name) for k, c in clinics.items()]
    )
    duplicate: Patient | None = None
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        clinic = clinics[fields.pop("clinic")] if "clinic" in fields else next(iter(clinics.values()))
        try:
            patient = care_services.patient_create(clinic=clinic, actor=user, **fields)
        except DuplicatePatient as exc:
            # The clinic has them already: show who, and ask for the "different person" box to add anyway.
            duplicate = exc.existing
        except ValidationError as exc:
            web_forms.apply_service_errors(exc, form)
        except NotPermitted as exc:
            raise PermissionDenied(exc.message) from exc
        else:
            messages.success(request, f"{patient.full_name} was added.")
            return redirect("patient_detail", public_id=patient.public_id)
    context = {"form": form, "patient": None, "duplicate": duplicate}
    return render(request, "referrals/patient_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def patient_edit(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    patient = _get(care_selectors.patient_get_for_user, Patient, user=user, public_id=public_id)
    _deny_unless(care_policies.can_edit_patient(user, patient))
    audit_services.record_read(request, patient, channel=audit_services.Channel.PAGE)
    initial = {name: getattr(patient, name) for name in care_services.PATIENT_FIELDS}
    form = web_forms.PatientForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            care_services.patient_update(patient=patient, actor=user, **form.cleaned_data)
        except ValidationError as exc:
            web_forms.apply_service_errors(exc, form)
        except NotPermitted as exc:
            raise PermissionDenied(exc.message) from exc
        else:
            messages.success(request, "The patient's details were saved.")
            return redirect("patient_detail", public_id=patient.public_id)
    return render(request, "referrals/patient_form.html", {"form": form, "patient": patient})


def _render_patient(
    request: HttpRequest,
    patient: Patient,
    consent_form: web_forms.ConsentForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    plans = list(care_selectors.plan_list_for_patient(user=user, patient=patient))
    context = {
        "patient": patient,
        "plans": plans,
        "progress": _progress(user, plans),
        "consents": care_selectors.consent_list_for_patient(user=user, patient=patient),
        "consent_form": consent_form or web_forms.ConsentForm(gyms=_gym_choices(patient)),
        "withdraw_form": web_forms.WithdrawConsentForm(),
    }
    return render(request, "referrals/patient_detail.html", context, status=status)


def _progress(user: User, plans: list[TreatmentPlan]) -> list[tuple[str, list[progress_charts.Chart]]]:
    """Each referral of the patient's plans that has sessions, with its charts: one query for them all
    (the referrals come with the plans)."""
    handoffs = [
        h for plan in plans for h in plan.handoffs.all() if progress_policies.can_view_progress(user, h)
    ]
    charts = progress_charts.progress_charts_for_handoffs(handoffs=handoffs)
    return [
        (f"Progress at {h.gym.name} with {h.trainer.full_name}", charts[h.pk])
        for h in handoffs
        if charts[h.pk]
    ]


def _gym_choices(patient: Patient) -> list[tuple[str, str]]:
    gyms = handoffs_eligibility.gym_list_partners_for_clinic(clinic=patient.clinic)
    return [(str(gym.public_id), gym.name) for gym in gyms]


@login_required
@require_GET
def patient_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    patient = _get(care_selectors.patient_get_for_user, Patient, user=user, public_id=public_id)
    _deny_unless(care_policies.can_view_patient(user, patient))
    audit_services.record_read(request, patient, channel=audit_services.Channel.PAGE)
    return _render_patient(request, patient)


# --- consent -------------------------------------------------------------------------------------------


@login_required
@require_POST
def consent_record(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    patient = _get(care_selectors.patient_get_for_user, Patient, user=user, public_id=public_id)
    _deny_unless(care_policies.can_record_consent(user, patient))
    form = web_forms.ConsentForm(request.POST, gyms=_gym_choices(patient))
    if form.is_valid():
        gyms = handoffs_eligibility.gym_list_partners_for_clinic(clinic=patient.clinic)
        gym = _get(gyms.get, Organization, public_id=form.cleaned_data["gym"])
        try:
            care_services.consent_record(
                patient=patient, gym=gym, scope=form.cleaned_data["scope"], actor=user
            )
        except ValidationError as exc:
            web_forms.apply_service_errors(exc, form)
        except NotPermitted as exc:
            raise PermissionDenied(exc.message) from exc
        else:
            messages.success(request, f"Consent for {gym.name} was recorded.")
            return redirect("patient_detail", public_id=patient.public_id)
    return _render_patient(request, patient, consent_form=form, status=400)


@login_required
@require_POST
def consent_withdraw(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    consent = _get(care_selectors.consent_get_for_user, Consent, user=user, public_id=public_id)
    _deny_unless(care_policies.can_record_consent(user, consent.patient))
    form = web_forms.WithdrawConsentForm(request.POST)
    if not form.is_valid():  # a reason over the limit is refused, not dropped: nothing is withdrawn
        messages.error(request, " ".join(str(m) for errors in form.errors.values() for m in errors))
        return redirect("patient_detail", public_id=consent.patient.public_id)
    reason = form.cleaned_data["reason"]
    try:
        care_services.consent_withdraw(consent=consent, actor=user, reason=reason)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except NotPermitted as exc:
        raise PermissionDenied(exc.message) from exc
    except DomainError as exc:  # already withdrawn
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"Consent for {consent.gym.name} was withdrawn; open referrals there were cancelled."
        )
    return redirect("patient_detail", public_id=consent.patient.public_id)
