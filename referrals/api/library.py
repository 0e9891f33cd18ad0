"""API of the exercise library."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view

from accounts.models import User
from referrals.api.common import ApiListView, _query
from referrals.api.serializers import library as serializers_library
from referrals.library import selectors as library_selectors

# --- the exercise library and the trainers directory ---------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        operation_id="exercises_list",
        summary="The exercise library, searchable by name, category and body region",
        parameters=[serializers_library.ExerciseQuerySerializer],
        responses={200: serializers_library.ExerciseSerializer(many=True)},
    )
)
class ExerciseListApi(ApiListView):
    serializer_class = serializers_library.ExerciseSerializer
    api_ordering = ("name",)

    def scoped_queryset(self, user: User) -> QuerySet[Any]:
        query = _query(serializers_library.ExerciseQuerySerializer, self.request)
        return library_selectors.exercise_list(
            search=query.get("search", ""),
            category=query.get("category", ""),
            body_region=query.get("body_region", ""),
        )
