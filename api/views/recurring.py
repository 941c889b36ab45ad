"""Recurring invoices (SPEC: Recurring invoices): schedules addressed by id, made, changed,
paused, resumed, ended and deleted through the same operations as the office pages
(recurring.services). The invoices themselves are made by the run, never here."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from recurring import services as recurring
from recurring.models import Occurrence, Schedule, ScheduleLine, ScheduleState
from recurring.selectors import filter_schedules

from .. import serializers as s
from ..idempotency import idempotent
from .base import (
    IDEMPOTENCY_PARAMETER,
    ApiViewMixin,
    client_by_code,
    object_by_id,
    validated,
)
from .invoices import _lines

SCHEDULE_FILTERS = [
    OpenApiParameter("state", OpenApiTypes.STR, enum=ScheduleState.values),
    OpenApiParameter("client", OpenApiTypes.STR, description="A client code, any case."),
]
SCHEDULE_ID = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The schedule's id."
)


@extend_schema(tags=["recurring invoices"])
class RecurringScheduleViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Recurring schedules: each bills its client the same template lines every N weeks,
    months, quarters or years; a daily run makes the invoices."""

    serializer_class = s.ScheduleSerializer
    lookup_field = "id"
    lookup_value_regex = "[^/]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    read_permissions = ["recurring.view_schedule"]
    write_permissions = {
        "create": ["recurring.add_schedule"],
        "partial_update": ["recurring.change_schedule"],
        "destroy": ["recurring.delete_schedule"],
        "pause": ["recurring.change_schedule"],
        "resume": ["recurring.change_schedule"],
        "end": ["recurring.change_schedule"],
    }

    def get_serializer_class(self):
        return s.ScheduleSerializer if self.action == "list" else s.ScheduleDetailSerializer

    def get_queryset(self) -> QuerySet[Schedule]:
        queryset = Schedule.objects.select_related("client").prefetch_related(
            Prefetch("lines", queryset=ScheduleLine.objects.select_related("service"))
        )
        if self.action != "list":
            queryset = queryset.prefetch_related(
                "pauses",
                Prefetch(
                    "occurrences",
                    queryset=Occurrence.objects.select_related("invoice").order_by("index"),
                ),
            )
        return queryset

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        params = self.request.query_params
        queryset = filter_schedules(
            queryset, state=params.get("state", ""), client=params.get("client", "")
        )
        return queryset.order_by("name", "id")

    def get_object(self) -> Schedule:
        return object_by_id(self.get_queryset(), self.kwargs["id"], what=_("recurring schedule"))

    def _answer(self, schedule: Schedule, status_code=status.HTTP_200_OK) -> Response:
        schedule = self.get_queryset().get(pk=schedule.pk)
        return Response(s.ScheduleDetailSerializer(schedule).data, status=status_code)

    @extend_schema(parameters=SCHEDULE_FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[SCHEDULE_ID])
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        request=s.ScheduleInputSerializer,
        responses={201: s.ScheduleDetailSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def create(self, request):
        """A new active schedule; its first invoice is dated ``start_date``, made by the
        first run on or after it."""
        data = dict(validated(s.ScheduleInputSerializer, request))
        client = client_by_code(data.pop("client"))
        lines = _lines(data.pop("lines"))
        schedule = recurring.create_schedule(
            client=client, lines=lines, acting_user=request.user, **data
        )
        return self._answer(schedule, status.HTTP_201_CREATED)

    @extend_schema(
        request=s.ScheduleInputSerializer,
        responses=s.ScheduleDetailSerializer,
        parameters=[SCHEDULE_ID],
    )
    def partial_update(self, request, id):
        """Change a schedule: the change reaches only the invoices not yet made. Its start,
        interval, day rule, client and currency are fixed once it has recorded an
        occurrence (400 naming the field); an ended schedule never changes (409)."""
        schedule = self.get_object()
        data = dict(validated(s.ScheduleInputSerializer, request, partial=True))
        if "client" in data:
            data["client"] = client_by_code(data["client"])
        if "lines" in data:
            data["lines"] = _lines(data["lines"])
        schedule = recurring.update_schedule(schedule=schedule, acting_user=request.user, **data)
        return self._answer(schedule)

    @extend_schema(responses={204: None}, parameters=[SCHEDULE_ID])
    def destroy(self, request, id):
        """Delete a schedule that has recorded nothing yet; one with made invoices or
        skipped dates is ended instead (409)."""
        recurring.delete_schedule(schedule=self.get_object(), acting_user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=s.PauseInputSerializer,
        responses=s.ScheduleDetailSerializer,
        parameters=[SCHEDULE_ID],
    )
    @action(detail=True, methods=["post"])
    def pause(self, request, id):
        """Pause an active schedule from ``starts_on`` (default today): its occurrences from
        that day on are skipped and recorded as such, never billed later."""
        schedule = self.get_object()
        data = validated(s.PauseInputSerializer, request)
        schedule = recurring.pause_schedule(schedule=schedule, acting_user=request.user, **data)
        return self._answer(schedule)

    @extend_schema(
        request=s.ResumeInputSerializer,
        responses=s.ScheduleDetailSerializer,
        parameters=[SCHEDULE_ID],
    )
    @action(detail=True, methods=["post"])
    def resume(self, request, id):
        """End the pause on ``ends_on`` (default today): the occurrence of that day and
        those after are billed again; those in the pause stay skipped."""
        schedule = self.get_object()
        data = validated(s.ResumeInputSerializer, request)
        schedule = recurring.resume_schedule(schedule=schedule, acting_user=request.user, **data)
        return self._answer(schedule)

    @extend_schema(
        request=s.EndInputSerializer,
        responses=s.ScheduleDetailSerializer,
        parameters=[SCHEDULE_ID],
    )
    @action(detail=True, methods=["post"])
    def end(self, request, id):
        """End the schedule for good: it makes nothing more; its invoices stay."""
        schedule = self.get_object()
        data = validated(s.EndInputSerializer, request)
        schedule = recurring.end_schedule(schedule=schedule, acting_user=request.user, **data)
        return self._answer(schedule)
