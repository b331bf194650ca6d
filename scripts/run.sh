#!/usr/bin/env bash
# Run the portal on this machine: virtual environment, requirements, services,
# database, reference and demonstration data, a Celery worker and the web server.
#   scripts/run.sh            (PORT=8000 by default; Ctrl-C stops everything it started)
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${PORT:-8000}"
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))'; then
    echo "run: the portal needs Python 3.11 or newer ($PYTHON is older); set PYTHON=/path/to/python3.11" >&2
    exit 1
fi

if [ ! -x .venv/bin/python ]; then
    echo "run: creating the virtual environment in .venv"
    "$PYTHON" -m venv .venv
fi
echo "run: installing the requirements"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt

eval "$(.venv/bin/python scripts/bootstrap.py services)"

export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-nhs_joint.settings.base}"
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py collectstatic --noinput --verbosity 0
.venv/bin/python manage.py load_reference
.venv/bin/python manage.py import_ods data/ods/etr.csv --kind trusts
.venv/bin/python manage.py import_ods data/ods/eccg.csv --kind ccgs
.venv/bin/python manage.py seed_demo
.venv/bin/python manage.py rebuild_search
.venv/bin/python manage.py make_api_schema

mkdir -p .local
children=()
stop_children() {
    for pid in "${children[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap stop_children EXIT INT TERM

if [ "${CELERY_TASK_ALWAYS_EAGER:-false}" != "true" ]; then
    echo "run: starting a Celery worker with the nightly schedule (log: .local/celery.log)"
    .venv/bin/celery -A nhs_joint worker --beat --schedule .local/celerybeat-schedule \
        --concurrency 2 --loglevel INFO >.local/celery.log 2>&1 &
    children+=("$!")
fi

echo
echo "run: the portal is at http://127.0.0.1:${PORT}/  (sign in with a demonstration login above; Ctrl-C stops it)"
echo
.venv/bin/gunicorn nhs_joint.wsgi --bind "127.0.0.1:${PORT}" --workers "${WEB_CONCURRENCY:-2}" \
    --no-control-socket --access-logfile - &
children+=("$!")
wait "${children[-1]}"
