#!/usr/bin/env bash
# The long fuzz mode: every target (or those named) in a JVM of its own, one after the other, each to
# 10^6 executions or 300 s, whichever comes first, with a new seed per target unless one is given.
#   test-support/fuzz-long.sh [TARGET ...]
# Environment:
#   BERTJ_FUZZ_EXECUTIONS  executions per target (default 1000000)
#   BERTJ_FUZZ_SECONDS     seconds per target (default 300)
#   BERTJ_FUZZ_SEED        the seed of every target (default: each JVM draws its own and prints it)
#   BERTJ_FUZZ_GUIDED      1: each target's coverage-guided variant under Jazzer instead (its budget is the
#                          @FuzzTest's: 10^6 executions or 5 minutes; a seed is Jazzer's own, printed as "Seed:")
#   BERTJ_FUZZ_PAUSE_FILE  while this file exists, wait before starting the next target (a machine that also times
#                          benchmarks can hold the runs off)
# Each target's output goes to target/fuzz-long/TARGET.log; its summary line is printed as it ends. Exits 1 when a
# target failed (the log has the failure, its saved input and the commands that replay it).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EXECUTIONS=${BERTJ_FUZZ_EXECUTIONS:-1000000}
SECONDS_PER_TARGET=${BERTJ_FUZZ_SECONDS:-300}

# target -> module and test method (the guided variant is the method's name with "Guided" appended)
# the Hub's targets have no guided variant: a guided run skips them
declare -A TESTS=(
  [safetensors]="loader LoaderFuzzTest#safetensorsFiles"
  [shard-index]="loader LoaderFuzzTest#shardIndexFiles"
  [config-json]="loader LoaderFuzzTest#configFiles"
  [sentence-transformers]="loader LoaderFuzzTest#sentenceTransformersFiles"
  [hub-headers]="loader HubFuzzTest#responseHeaders"
  [hub-json]="loader HubFuzzTest#filesThatChooseTheDownloads"
  [tokenizer-json]="tokenizer TokenizerFuzzTest#tokenizerJsonFiles"
  [vocab-txt]="tokenizer TokenizerFuzzTest#vocabTxtFiles"
  [model-config]="engine ModelConfigFuzzTest#configJsonAgainstRealWeights"
  [onnx-reader]="tools OnnxFuzzTest#onnxReaderAndConversionPlan"
  [onnx-converter]="tools OnnxFuzzTest#onnxConversion"
  [cli-json-lines]="tools CliFuzzTest#jsonLinesCommands"
)
ORDER=(safetensors shard-index config-json sentence-transformers hub-headers hub-json tokenizer-json vocab-txt model-config onnx-reader
       onnx-converter cli-json-lines)
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=("${ORDER[@]}")
for t in "${targets[@]}"; do
  [[ -n "${TESTS[$t]:-}" ]] || { echo "unknown target '$t'; the targets: ${ORDER[*]}" >&2; exit 2; }
done

mkdir -p "$ROOT/target/fuzz-long"
failed=0
for t in "${targets[@]}"; do
  if [[ -n "${BERTJ_FUZZ_PAUSE_FILE:-}" ]]; then
    while [[ -e "$BERTJ_FUZZ_PAUSE_FILE" ]]; do sleep 15; done
  fi
  read -r module test <<<"${TESTS[$t]}"
  if [[ "${BERTJ_FUZZ_GUIDED:-0}" == 1 && "$t" == hub-* ]]; then echo "$t: skipped, no guided variant"; continue; fi
  args=(-pl "$module" -am -Dsurefire.failIfNoSpecifiedTests=false)
  if [[ "${BERTJ_FUZZ_GUIDED:-0}" == 1 ]]; then
    args+=(-Dtest="${test}Guided" -DexcludedGroups=none)
    export JAZZER_FUZZ=1
  else
    args+=(-Dtest="$test" -Dbertj.fuzz.executions="$EXECUTIONS" -Dbertj.fuzz.seconds="$SECONDS_PER_TARGET")
    [[ -n "${BERTJ_FUZZ_SEED:-}" ]] && args+=(-Dbertj.fuzz.seed="$BERTJ_FUZZ_SEED")
  fi
  log="$ROOT/target/fuzz-long/$t.log"
  started=$(date +%s)
  # a generous bound on the whole build and run: a guided run has no hang watchdog of its own
  if timeout $(( SECONDS_PER_TARGET + 900 )) "$ROOT/bertj" test -q "${args[@]}" >"$log" 2>&1; then status=ok
  else status=FAILED; failed=1; fi
  # the harness's summary line, or libFuzzer's last status line and Jazzer's seed
  line=$(grep -E "^fuzz $t " "$log" | tail -n1)
  [[ -z "$line" ]] && line="$(grep -E "^#[0-9]+" "$log" | tail -n1) ($(grep -m1 -oE "Seed: [0-9]+" "$log"))"
  echo "$t: $status after $(( $(date +%s) - started )) s: ${line:-no summary line, see $log}"
done
exit $failed
