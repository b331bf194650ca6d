from rest_framework import pagination


class Pagination(pagination.PageNumberPagination):
    """Pages of 50 (up to 500 with page_size), with the count and next/previous links."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
