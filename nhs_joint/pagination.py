import json
import re

from django.core.paginator import Paginator as DjangoPaginator
from django.utils.functional import cached_property
from rest_framework import exceptions, pagination
from rest_framework.response import Response

from . import conditional, page_ids

WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")


COUNT_CAP = 1000  # counted exactly up to here (an exact count of a long list costs more than the page)


class CappedPaginator(DjangoPaginator):
    """A paginator that counts rows only up to a cap (or the page asked for, if further).

    ``SELECT count(*) FROM (… LIMIT cap + 1)``: exact below the cap, and otherwise ``capped``, with the count
    one past the limit, so that the page after the last counted one is still offered (the pages say "more
    than 1,000"). The count's order is dropped: it does not change how many. A deep page's records come by the
    list's order kept for this data version (nhs_joint/page_ids.py).
    """

    def __init__(self, object_list, per_page, cap=COUNT_CAP, page=1, *, version=None, read=None, deep=None, shape=None):
        super().__init__(object_list, per_page)
        self.read = read  # (queryset) -> the page's rows as values() (ListConfig.values); None: its records
        self.shape = shape  # what alone decides the list's SQL, compiled once per process (page_ids.compiled)
        self.limit = min(max(cap, page * per_page), 10**12)  # far past any table, and within SQL's bigint
        self.capped = False
        self.asked = page
        self.ranked = None  # the page asked for and the list's count, read at once (page_ids.ranked_page)
        self.version = version
        self.cached_order = None
        self.key = None  # the list's key for what is kept of it per data version: its order, count, estimate
        if hasattr(object_list, "order_by") and page < 10**9:
            if getattr(object_list, "ordered", False):
                self.key = page_ids.list_key(object_list, version, shape)
            self.cached_order = page_ids.order_for(
                object_list, version, (page - 1) * per_page, page * per_page, key=self.key, deep=deep
            )

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        if self.ranked is not None and number == self.asked:
            return self._get_page(self.ranked.rows, number, self)
        if self.ranked is not None:  # past the last page: the last, read in the same order as the others
            ranked = page_ids.ranked_page(self.object_list, bottom, bottom + self.per_page, self.read, self.limit)
            if ranked is not None:
                return self._get_page(ranked.rows, number, self)
        if self.cached_order is not None and self.cached_order.covers(top):
            ids = self.cached_order.ids[bottom:top]
            return self._get_page(
                page_ids.rows(self.object_list, ids, self.read, self.shape, key=self.key), number, self
            )
        page = super().page(number)
        if self.read is not None:
            page.object_list = list(self.read(page.object_list.prefetch_related(None)))
        return page

    def counted(self):
        """The rows up to one past the limit."""
        counted = self.cached_order.count_up_to(self.limit) if self.cached_order is not None else None
        if counted is None and self.cached_order is None and self.asked < 10**9:
            # A list ordered by a search's rank: its page and its count in one reading (page_ids.ranked_page).
            bottom = (self.asked - 1) * self.per_page
            self.ranked = page_ids.ranked_page(self.object_list, bottom, bottom + self.per_page, self.read, self.limit)
            counted = None if self.ranked is None else min(self.ranked.count, self.limit + 1)
        if counted is None:
            # Every page of a list has the same count: kept per query and data version, like its order.
            counted = page_ids.cached_count(
                self.key, self.limit, lambda: self.object_list.order_by()[: self.limit + 1].count()
            )
        return counted

    @cached_property
    def count(self):
        if not hasattr(self.object_list, "order_by"):  # a list, not a queryset
            return len(self.object_list)
        counted = self.counted()
        self.capped = counted > self.limit
        return counted


class EstimatingPaginator(CappedPaginator):
    """The API's: beyond the cap the count is the planner's estimate of the rows (never less than the rows up to
    the page asked for), and ``exact`` is False."""

    @property
    def exact(self):
        return self.count is not None and not self.capped

    @cached_property
    def count(self):
        if not hasattr(self.object_list, "order_by"):
            return len(self.object_list)
        counted = self.counted()
        self.capped = counted > self.limit
        if not self.capped:
            return counted
        estimated = page_ids.cached_estimate(self.object_list.order_by(), self.version, self.estimate, key=self.key)
        return max(counted, estimated)

    @staticmethod
    def estimate(queryset):
        plan = json.loads(queryset.values("pk").explain(format="json"))
        return int(plan[0]["Plan"]["Plan Rows"])


class Pagination(pagination.PageNumberPagination):
    """Pages of 50 (up to 500 with page_size), with the count and next/previous links.

    ``page`` and ``page_size`` are checked, not guessed: anything but one whole number in range
    is a 400 naming the parameter; a page past the last is a 404.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    last_page_strings = ()

    def paginate_queryset(self, queryset, request, view=None):
        self.check_query(request)
        self.requested_page = int(request.query_params.get(self.page_query_param) or 1)
        return super().paginate_queryset(queryset, request, view)

    def django_paginator_class(self, queryset, page_size):
        rendering = conditional.rendering()
        return EstimatingPaginator(
            queryset,
            page_size,
            page=getattr(self, "requested_page", 1),
            version=rendering.version if rendering is not None else None,
        )

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.page.paginator.count,
                "count_exact": self.page.paginator.exact,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        response_schema = super().get_paginated_response_schema(schema)
        response_schema["properties"]["count"]["description"] = (
            f"The number of records, exact up to {COUNT_CAP:,}; beyond, PostgreSQL's estimate (see count_exact)."
        )
        response_schema["properties"] = {
            "count": response_schema["properties"]["count"],
            "count_exact": {
                "type": "boolean",
                "description": f"False when count is an estimate (more than {COUNT_CAP:,} records).",
            },
            **{k: v for k, v in response_schema["properties"].items() if k != "count"},
        }
        return response_schema

    def check_query(self, request):
        errors = {}
        bounds = {self.page_query_param: None, self.page_size_query_param: self.max_page_size}
        for name, maximum in bounds.items():
            values = request.query_params.getlist(name)
            if not values:
                continue
            if len(values) > 1:
                errors[name] = [f"Give {name} once."]
            elif not WHOLE_NUMBER.fullmatch(values[0]) or int(values[0]) < 1:
                errors[name] = [f"Give {name} as a whole number from 1."]
            elif maximum is not None and int(values[0]) > maximum:
                errors[name] = [f"Give {name} as a whole number from 1 to {maximum}."]
        if errors:
            raise exceptions.ValidationError(errors)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["maximum"] = 10**18 - 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
                parameter["description"] = (
                    f"Number of results to return per page (1 to {self.max_page_size}; 50 unless given)."
                )
        return parameters
