#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo-fuzz + libFuzzer) of the OpenRouter catalog parser and the Hermes
# config.yaml editor, NXR_FUZZ_SECS seconds per target (default 60). Seeds come from the recorded
# fixtures and the hostile-input corpus; a finding is saved under fuzz/artifacts/<target>/ and the
# script exits non-zero. Needs the nightly toolchain and cargo-fuzz (installed if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${NXR_FUZZ_SECS:-60}"

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked

mkdir -p fuzz/corpus/catalog_parse fuzz/corpus/config_edit
cp tests/fixtures/openrouter/*.json tests/corpus/openrouter-models/* fuzz/corpus/catalog_parse/ 2>/dev/null || true
for f in tests/corpus/hermes-config/*; do
  [ -f "$f" ] && { printf '\x03'; cat "$f"; } > "fuzz/corpus/config_edit/$(basename "$f")"
done

for target in catalog_parse config_edit; do
  echo "fuzz.sh: $target for ${SECS}s"
  log="$(mktemp)"
  if ! cargo +nightly fuzz run -s none "$target" "fuzz/corpus/$target" -- \
      -max_total_time="$SECS" -max_len=65536 -print_final_stats=1 >"$log" 2>&1; then
    tail -40 "$log"
    echo "fuzz.sh: $target FAILED; the input is under fuzz/artifacts/$target/" >&2
    exit 1
  fi
  runs="$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | tail -1)"
  echo "fuzz.sh: $target: ${runs:-no run count}, crashes 0"
  rm -f "$log"
done
