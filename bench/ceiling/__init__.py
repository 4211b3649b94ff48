"""The machine's ceiling for the HTTP benchmark: a bare DRF endpoint (no auth, no engine) that does one
INSERT per POST, served by the same gunicorn and middleware as the API. Enabled only by running with
DJANGO_SETTINGS_MODULE=bench.ceiling.settings (bench/http.py does); never part of production URLs."""

TABLE = "bench_ceiling"
CREATE_TABLE = (f"CREATE TABLE IF NOT EXISTS {TABLE} "
                "(id bigserial PRIMARY KEY, payload jsonb NOT NULL, created_at timestamptz NOT NULL)")
