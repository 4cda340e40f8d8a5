#!/usr/bin/env bash
# The CUDA check, run on a GPU machine that has no .NET (README, Benchmarks, "On a GPU"):
#   1. both golden models through `logits --device cuda --reference golden.safetensors`: logits and MTP logits
#      within relative L2 1e-4 of the float64 reference, greedy continuations identical (tiny-v3 also with every
#      step in the expanded attention form);
#   2. `bench --device cuda` on bench-small: prefill and decode at batch 1, 16 and 64, prompt 128 and 512;
#   3. `bench-throughput` on the demo model (trained MTP head) without and with one speculative token.
# Usage: tests/cuda/check.sh SERVERV3 OUTDIR   (SERVERV3: the executable that tests/cuda/bundle.sh packs)
# Exit status 1 when a golden check fails or a step errs; the output of every step is in OUTDIR/check.log and
# each benchmark's figures in OUTDIR/bench-b<batch>-p<prompt>.json.
set -u -o pipefail
serverv3=${1:?usage: check.sh SERVERV3 OUTDIR}
out=${2:?usage: check.sh SERVERV3 OUTDIR}
cd "$(dirname "$0")/../.."
mkdir -p "$out"
status=0

# ILGPU opens the driver as libcuda.so; driver-only installs may ship just libcuda.so.1.
driver=$(ldconfig -p | awk '/libcuda\.so\.1 /{print $NF; exit}')
[ -n "$driver" ] || driver=$(find /usr/local/nvidia /usr/lib /usr/lib64 -name 'libcuda.so.1' 2>/dev/null | head -1)
if [ -n "$driver" ]; then
  mkdir -p /tmp/serverv3-libcuda && ln -sf "$driver" /tmp/serverv3-libcuda/libcuda.so
  export LD_LIBRARY_PATH=/tmp/serverv3-libcuda:${LD_LIBRARY_PATH:-}
fi

# step NAME SECONDS COMMAND...: runs with a time limit, keeps the log, records a failure.
step() {
  local name=$1 limit=$2 start=$SECONDS rc
  shift 2
  echo "== $name: $*" | tee -a "$out/check.log"
  timeout "$limit" "$@" 2>&1 | tee -a "$out/check.log"
  rc=$?
  echo "== $name: exit $rc after $((SECONDS - start)) s" | tee -a "$out/check.log"
  [ "$rc" -eq 0 ] || status=1
  return "$rc"
}

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv | tee -a "$out/check.log"
for model in tiny-v3 tiny-v3-fp8; do
  step "golden-$model" 120 "$serverv3" logits --model "tests/golden/$model" --reference "tests/golden/$model/golden.safetensors" \
    --out "/tmp/serverv3-$model.safetensors" --greedy 16 --device cuda
done
# The golden prompts are shorter than a default expanded-attention chunk: check that form on its own.
step "golden-tiny-v3-expanded" 120 "$serverv3" logits --model tests/golden/tiny-v3 --reference tests/golden/tiny-v3/golden.safetensors \
  --out /tmp/serverv3-tiny-v3-expanded.safetensors --greedy 16 --device cuda --expanded-attention-min-tokens 1

step make-bench-small 180 "$serverv3" make-model --config configs/bench-small.json --out /tmp/bench-small --seed 1 || exit 1
# batch prompt generate; speculation off so the figures compare with the CPU table in the README.
for shape in "1 128 32" "1 512 16" "16 128 16" "64 128 8"; do
  set -- $shape
  step "bench-b$1-p$2" 120 "$serverv3" bench --model /tmp/bench-small --device cuda --speculative-tokens 0 \
    --batch "$1" --prompt-tokens "$2" --gen-tokens "$3" --kv-cache-memory 2GiB --json "$out/bench-b$1-p$2.json"
  [ $? -ne 124 ] || break # a step that ran out of time would leave the next ones none
done
for k in 0 1; do
  step "throughput-k$k" 90 "$serverv3" bench-throughput --model models/kjv-tiny-v3 --device cuda --concurrency 1 8 \
    --prompt-tokens 64 --gen-tokens 64 --speculative-tokens "$k"
done
exit "$status"
