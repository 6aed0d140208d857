"""The floor: the benchmark's customer list and detail served by bare Django + django-ninja, none of Guanxi's layers.

No authentication, record scope, audit, masking, i18n or middleware; unmanaged models on Guanxi's tables. Run it with
`PYTHONPATH=bench DJANGO_SETTINGS_MODULE=floor.settings gunicorn -k gthread floor.wsgi` (bench/api_bench.py does).
"""
