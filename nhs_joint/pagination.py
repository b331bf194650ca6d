import re

from rest_framework import exceptions, pagination

WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")


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
        return super().paginate_queryset(queryset, request, view)

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
                parameter["description"] = f"Number of results to return per page (1 to {self.max_page_size}; 50 unless given)."
        return parameters
