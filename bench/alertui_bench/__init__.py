"""The alertui benchmark, run as `bench/run.py` (the command line: cli.py; what it measures and
what the numbers mean: bench/README.md).

- cli.py: the command line and the run as a whole.
- bench_count.py: everything for one `--alerts N`, in order.
- servers.py: Prometheus with failing targets, Alertmanager; alertmanager_data.py: the alerts
  and silences loaded into it.
- app_env.py: alertui's fresh database, Redis, environment and manage.py commands.
- children.py: the in-process tasks, each in a fresh interpreter after django.setup():
  child_seed.py (audit rows), child_sync.py (sync vs. raw fetches), child_views.py (pages
  in-process, SQL, profiles, audit query plans).
- web.py: gunicorn, login, the pages; load.py: the load test (wrk or Python, py-spy);
  celery_worker.py: the sync worker's memory.
- measure.py: percentiles, query counter, profiles; procfs.py: load, CPU and memory from /proc;
  machine.py: the machine, versions and code fingerprint of a run.
- evaluate.py: the targets, PASS or MISS; report.py, report_count.py: the Markdown.
- processes.py: starting, waiting for and stopping processes; config.py: shared settings.
"""
