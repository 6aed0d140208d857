#!/usr/bin/env python
"""Print as JSON the SQL statements one GET makes, through the full Django stack (Django's test client).

    DATABASE_URL=... python bench/capture_queries.py guanxi.settings /api/v1/customers?... "Bearer gx_..."
    DATABASE_URL=... PYTHONPATH=bench python bench/capture_queries.py floor.settings /api/customers?...

bench/api_bench.py runs it in a subprocess for Guanxi and for the floor (one settings module per process), then times
the captured statements with psycopg / sqlite3 directly. The path is requested twice and the second request is
captured, so once-per-process work (permission caches, a token's last-used update) is left out.
"""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> int:
    settings_module, *requests = sys.argv[1:]
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    output = []
    for spec in requests:
        path, _sep, authorization = spec.partition(" ")
        headers = {"Authorization": authorization} if authorization else {}
        client = Client(headers=headers)
        client.get(path)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        output.append(
            {
                "path": path,
                "status": response.status_code,
                "queries": [query["sql"] for query in captured.captured_queries],
            }
        )
    json.dump(output, sys.stdout, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
