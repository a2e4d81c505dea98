#!/usr/bin/env bash
# schemathesis against the sandbox: every operation of openapi/bundled.json,
# the default checks (response-schema conformance among them), a fixed
# example budget and seed so the run is repeatable and short.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION="4.32.5"
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-5}"
SEED="${SCHEMATHESIS_SEED:-1}"
work="${CARGO_TARGET_DIR:-target}/schemathesis"
mkdir -p "$work"

# schemathesis in its own folder, so CI needs no virtualenv support.
if ! PYTHONPATH="$work/python" python3 -c "import schemathesis, sys; sys.exit(schemathesis.__version__ != '$SCHEMATHESIS_VERSION')" 2>/dev/null; then
  echo "== installing schemathesis $SCHEMATHESIS_VERSION"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --upgrade --target "$work/python" "schemathesis==$SCHEMATHESIS_VERSION"
fi

python3 .ci/schemathesis_spec.py openapi/bundled.json "$work/spec.json"

# The binary's path from cargo itself (it honours CARGO_TARGET_DIR): the one
# `cargo test --workspace` built, when .ci/run names it (SANDBOX_BIN), else a
# build with the sandbox's `cli` feature.
if [ -n "${SANDBOX_BIN:-}" ]; then
  sandbox_bin=$SANDBOX_BIN
else
  sandbox_bin=$(cargo build --quiet -p whispir-sandbox --features cli --bin whispir-sandbox --message-format=json \
    | python3 .ci/artifacts.py bin whispir-sandbox)
fi
if [ ! -x "$sandbox_bin" ]; then
  echo "!! cargo named no whispir-sandbox binary"
  exit 1
fi
port="${SCHEMATHESIS_PORT:-18731}"
"$sandbox_bin" --port "$port" --message-step-ms 50 --quiet >"$work/sandbox.log" 2>&1 &
sandbox=$!
trap 'kill "$sandbox" 2>/dev/null || true' EXIT
listening=no
for _ in $(seq 1 100); do
  if grep -q "listening on" "$work/sandbox.log"; then listening=yes; break; fi
  if ! kill -0 "$sandbox" 2>/dev/null; then break; fi
  sleep 0.1
done
if [ "$listening" != yes ]; then
  echo "!! the sandbox did not start on port $port within 10 s:"
  cat "$work/sandbox.log"
  exit 1
fi

started=$(date +%s)
status=0
# Run from the work folder: schemathesis keeps its example database in the
# current directory. It starts empty each time, so a local run replays
# nothing CI would not.
rm -rf "$work/.schemathesis" "$work/.hypothesis"
# A schema-valid request may still be refused with 422, as Whispir does:
# the spec types a message's `to` as any string, but a recipient must be a
# number, an address, an MRI or a list's name (the sandbox's recipients.rs).
# Every other status the check expects stays as schemathesis sets it.
cat >"$work/schemathesis.toml" <<'TOML'
[checks.positive_data_acceptance]
expected-statuses = ["2XX", "3XX", "401", "403", "404", "409", "422", "429", "5XX"]
TOML
(cd "$work" && PYTHONPATH=python python3 -m schemathesis.cli run spec.json \
  --url "http://127.0.0.1:$port" \
  --auth sandbox-user:sandbox-password \
  --header "x-api-key: sandbox-api-key" \
  --max-examples "$MAX_EXAMPLES" --seed "$SEED" --no-shrink --workers 1 \
  --request-timeout 10) \
  >"$work/output.txt" 2>&1 || status=$?
elapsed=$(( $(date +%s) - started ))
cases=$(grep -Eo '[0-9]+ generated' "$work/output.txt" | tail -1 | grep -Eo '[0-9]+' || echo "?")
if [ "$status" -ne 0 ]; then
  cat "$work/output.txt"
  echo "schemathesis failed after ${elapsed}s ($cases cases); sandbox log in $work/sandbox.log"
  exit "$status"
fi
tail -n 25 "$work/output.txt"
echo "schemathesis ran $cases cases against the sandbox in ${elapsed}s"
echo "schemathesis: $cases passed, 0 failed"
