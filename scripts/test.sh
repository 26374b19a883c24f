#!/usr/bin/env bash
# The whole test suite: installs what is missing, trains the model if its
# data changed, then runs every test (unit, back office, NLU, dialogue, end to end).
# Extra arguments go to pytest, e.g. `make test ARGS="-k places"`.
set -euo pipefail
cd "$(dirname "$0")/.."
# Rasa would otherwise report usage and errors to its servers.
export RASA_TELEMETRY_ENABLED=false

scripts/setup.sh
export CITY_ASSISTANT_MODEL
CITY_ASSISTANT_MODEL=$(scripts/train.sh | tail -1)
exec .venv/bin/python -m pytest "$@"
