#!/usr/bin/env bash
# Train the Rasa model only when its inputs changed. The model is named after
# a hash of everything that goes into it, so an unchanged project reuses it.
# Prints the model path on the last line.
set -euo pipefail
cd "$(dirname "$0")/.."
# Rasa would otherwise report usage and errors to its servers.
export RASA_TELEMETRY_ENABLED=false

fingerprint=$(
  { cat config.yml domain.yml; find data components -type f \( -name '*.yml' -o -name '*.py' \) | sort | xargs cat; } \
    | sha256sum | cut -c1-16
)
model="models/model-$fingerprint.tar.gz"
if [ -f "$model" ]; then
  echo "==> Model is up to date: $model" >&2
else
  echo "==> Training the model (data changed)…" >&2
  start=$(date +%s)
  .venv/bin/rasa train --config config.yml --domain domain.yml --data data \
    --out models --fixed-model-name "model-$fingerprint" >var/train.log 2>&1 || {
      tail -40 var/train.log >&2; echo "ERROR: training failed (full log: var/train.log)" >&2; exit 1; }
  echo "==> Trained $model in $(( $(date +%s) - start ))s" >&2
fi
echo "$model"
