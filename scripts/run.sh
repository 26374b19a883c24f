#!/usr/bin/env bash
# Start the whole assistant locally: back office, action server, Rasa server
# (and the development identity provider when it is set up). Ctrl-C stops all.
set -euo pipefail
cd "$(dirname "$0")/.."
# Rasa would otherwise report usage and errors to its servers.
export RASA_TELEMETRY_ENABLED=false

scripts/setup.sh
MODEL=$(scripts/train.sh | tail -1)

eval "$(.venv/bin/python -m common.settings --shell)"
mkdir -p var/log
pids=()
# endpoints.yml names the default action server port; follow ACTIONS_PORT.
sed "s#127.0.0.1:5055#127.0.0.1:$ACTIONS_PORT#" endpoints.yml > var/endpoints.run.yml

stop_all() {
  trap - INT TERM EXIT
  echo; echo "==> Stopping…"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "==> Stopped."
}
trap stop_all EXIT
# Ctrl-C is the normal way to stop: clean up and exit quietly.
trap 'stop_all; exit 0' INT TERM

start() {  # name, command...
  local name=$1; shift
  "$@" >"var/log/$name.log" 2>&1 &
  pids+=($!)
  echo "==> Started $name (log: var/log/$name.log)"
}

wait_for() {  # name, url
  local name=$1 url=$2 i
  for i in $(seq 1 300); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then return 0; fi
    for pid in "${pids[@]}"; do
      kill -0 "$pid" 2>/dev/null || { echo "ERROR: a process exited; see var/log/$name.log" >&2; tail -20 "var/log/$name.log" >&2; exit 1; }
    done
    sleep 1
  done
  echo "ERROR: $name did not answer at $url; see var/log/$name.log" >&2; exit 1
}

# Telegram without a public URL: the polling runner forwards updates to the local
# webhook with the secret token, which both sides read from the environment.
if [ -n "${TELEGRAM_BOT_TOKEN:-}" ] && [ -z "${TELEGRAM_SECRET_TOKEN:-}" ]; then
  TELEGRAM_SECRET_TOKEN=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')
  export TELEGRAM_SECRET_TOKEN
fi

if [ -x .venv-idp/bin/python ] && [ -f idp/run.py ]; then
  start idp .venv-idp/bin/python idp/run.py
fi
start backoffice .venv/bin/python -m backoffice
start actions .venv/bin/rasa run actions --port "$ACTIONS_PORT" --actions actions
start rasa .venv/bin/rasa run --model "$MODEL" --port "$RASA_PORT" \
  --enable-api --auth-token "$RASA_TOKEN" --cors "*" \
  --credentials credentials.yml --endpoints var/endpoints.run.yml

wait_for backoffice "$BACKOFFICE_URL/health"
wait_for actions "http://127.0.0.1:$ACTIONS_PORT/health"
wait_for rasa "http://127.0.0.1:$RASA_PORT/status?token=$RASA_TOKEN"
telegram="off (set TELEGRAM_BOT_TOKEN to poll Telegram)"
if [ -n "${TELEGRAM_BOT_TOKEN:-}" ]; then
  start telegram_polling .venv/bin/python -m channels.telegram_polling \
    --forward-url "http://127.0.0.1:$RASA_PORT/webhooks/telegram/webhook"
  telegram="polling getUpdates (log: var/log/telegram_polling.log)"
fi

cat <<MSG

  The assistant is running.
    Web chat:          $BACKOFFICE_URL/chat/?rasa=http://127.0.0.1:$RASA_PORT
    REST channel:      http://127.0.0.1:$RASA_PORT/webhooks/rest/webhook
    Open311 API:       $BACKOFFICE_URL/open311/v2/services.json
    Telegram:          $telegram
  Press Ctrl-C to stop everything.

MSG
wait -n "${pids[@]}" || true
echo "ERROR: a process stopped unexpectedly; logs are in var/log/" >&2
exit 1
