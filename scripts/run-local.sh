#!/usr/bin/env bash
# `make run`: the API on port 8000 and one consumer, until Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=.venv/bin
export STORAGE_DIR="${STORAGE_DIR:-./data}"
scripts/ensure-broker.sh

"$bin/uvicorn" api.main:app --host "${API_HOST:-127.0.0.1}" --port "${API_PORT:-8000}" &
api_pid=$!
"$bin/python" -m consumer &
consumer_pid=$!

stop() {
  trap - INT TERM
  echo "stopping the API and the consumer ..." >&2
  kill -TERM "$api_pid" "$consumer_pid" 2>/dev/null || true
  wait "$api_pid" "$consumer_pid" 2>/dev/null || true
}
trap stop INT TERM

echo "resizeq: API on http://${API_HOST:-127.0.0.1}:${API_PORT:-8000} (docs at /docs)," \
     "consumer metrics on :${METRICS_PORT:-9100}; Ctrl-C stops both" >&2
wait -n "$api_pid" "$consumer_pid" || true
stop
