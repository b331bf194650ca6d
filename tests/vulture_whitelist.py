# ruff: noqa: B018  (each line names an attribute so that vulture counts it as used)
"""Names vulture (tests/test_code_health.py) would report as unused that the frameworks require.

Each is a parameter of a method or function that Django, Django REST framework or django-axes calls with
a fixed signature, or of a Python protocol method: the portal must accept it even where it does not read
it. Dead code is removed, never listed here.
"""

from types import SimpleNamespace

_ = SimpleNamespace()

_.original_response  # accounts/lockout.py: django-axes' AXES_LOCKOUT_CALLABLE(request, original_response, credentials)
_.format_suffix  # collaboration/api.py: DRF's BaseContentNegotiation.select_renderer(request, renderers, format_suffix)
_.file_size  # collaboration/uploads.py: Django's FileUploadHandler.file_complete(file_size)
_.memo  # nhs_joint/filters.py, regions/filters.py: Python's copy protocol, __deepcopy__(memo)
_.files  # nhs_joint/forms.py, regions/filters.py: Django's Widget.value_from_datadict / value_omitted_from_data

_.script_prefix  # nhs_joint/generic.py: _detail_url_halves keys its lru_cache by the prefix reverse() reads
