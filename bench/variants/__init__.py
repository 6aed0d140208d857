"""Settings modules that prototype a proposed src change without editing src, for `api_bench.py --settings`.

Each module imports guanxi.settings and changes one thing; code changes are applied as patches by the app
`variants.apps.PatchesConfig` when Django starts (listed in BENCH_PATCHES). They exist to measure a proposal,
never to run Guanxi in production. bench/RESULTS.md says which figure comes from which variant.
"""
