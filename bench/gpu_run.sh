#!/usr/bin/env bash
# The one GPU check of issue 18, in two parts (../shared/GUIDE.md, section "GPU", has the facts behind it).
#
#   bash bench/gpu_run.sh prepare   # on the 2-core machine, with the registries: ~70 min (the CUDA build)
#   bash bench/gpu_run.sh run       # on the GPU machine (no network), from the repository root: ~8 min
#
# prepare leaves everything `run` needs under bench/.gpu/ (carry it: `carry: ["bench/.gpu", ".venv"]`):
#   bench/.gpu/llama_cpp/      llama-cpp-python 0.3.36 built with CUDA (one copy of each .so, stripped)
#   bench/.gpu/site/           the gguf package (for shape_gguf.py)
#   bench/.gpu/vocab.gguf      the Llama-2 vocabulary GGUF from llama-cpp-python's sdist
# run makes the 13B-shaped Q8_0 GGUF (random weights, 13.8 GB, ~14 s), prints doctor, then bench/gpu.py
# with the settings worth comparing; JSON results land in $OUT (or bench/.gpu/out).
set -euo pipefail
cd "$(dirname "$0")/.."
HERE=bench/.gpu
PY=${PY:-.venv/bin/python}
mode=${1:-run}

if [ "$mode" = prepare ]; then
  mkdir -p "$HERE" "$HERE/site"
  tmp=$(mktemp -d)
  "$PY" -m pip download --no-deps --no-binary :all: -d "$tmp" "llama-cpp-python==0.3.36"
  tar -xzf "$tmp"/llama_cpp_python-0.3.36.tar.gz -C "$tmp"
  cp "$tmp"/llama_cpp_python-0.3.36/vendor/llama.cpp/models/ggml-vocab-llama-spm.gguf "$HERE/vocab.gguf"
  "$PY" -m pip install --target "$HERE/site" gguf
  # CUDA 13 toolkit without cuBLAS here: the nvidia-cublas wheel carries the headers and libraries
  # (copy them into the toolkit's include/ and lib64/ with libcublas.so/libcublasLt.so links first).
  # Flash-attention kernels stay ON (the measured build had them off: -DGGML_CUDA_FA=OFF halves the compile).
  CMAKE_ARGS="-DGGML_CUDA=on -DCMAKE_CUDA_ARCHITECTURES=90 -DGGML_NATIVE=OFF -DGGML_CUDA_NCCL=OFF -DGGML_CUDA_NO_VMM=ON" \
    "$PY" -m pip install --no-deps --no-cache-dir --target "$tmp/cuda" "$tmp"/llama_cpp_python-0.3.36.tar.gz
  rm -rf "$HERE/llama_cpp"
  cp -rL "$tmp/cuda/llama_cpp" "$HERE/llama_cpp"
  find "$HERE/llama_cpp/lib" -name '*.so*' -type f -exec strip --strip-unneeded {} + || true
  du -sh "$HERE"
  exit 0
fi

OUT=${OUT:-$HERE/out}
mkdir -p "$OUT"
export PYTHONPATH="$PWD/$HERE:$PWD/$HERE/site${PYTHONPATH:+:$PYTHONPATH}"
MODEL=${MODEL:-/tmp/softtiger-13b-shape-q8.gguf}
NOTES=${NOTES:-../shared/data/eval-dev/aci-annotated}
LIMIT=${LIMIT:-20}

nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv | tee "$OUT/nvidia-smi.txt" || true
"$PY" -c "import llama_cpp, sys; ok = llama_cpp.llama_supports_gpu_offload(); print('llama-cpp-python', llama_cpp.__version__, 'GPU offload', ok); sys.exit(0 if ok else 1)"
if [ ! -s "$MODEL" ]; then
  t=$(date +%s)
  "$PY" ../shared/tools/shape_gguf.py "$HERE/vocab.gguf" "$MODEL" --q8
  echo "shaped GGUF in $(( $(date +%s) - t ))s: $(du -h "$MODEL" | cut -f1)"
fi
"$PY" -m softtiger_cli doctor | tee "$OUT/doctor.txt"

bench() {  # name, then bench/gpu.py arguments
  local name=$1; shift
  echo "== $name: $*"
  (cd bench && timeout 420 "../$PY" gpu.py --model "$MODEL" --device gpu --notes "../$NOTES" --json "../$OUT/$name.json" "$@") \
    2>&1 | tee "$OUT/$name.txt" || echo "($name did not finish)"
}
# 1. the best expected settings: unified KV, flash attention, context 2048 (64 sequences x 1.6 GB of KV fit).
bench unified-fa --limit "$LIMIT" --n-ctx 2048 --kv-unified on --flash-attn --parallel 1,4,16,64
# 2. raw batched decode only, the other settings, to see what lifts the ~500 tok/s plateau.
bench split-nofa --limit 2 --n-ctx 2048 --kv-unified off --parallel 1,16,64 --skip-pooled
bench unified-nofa --limit 2 --n-ctx 2048 --kv-unified on --parallel 1,16,64 --skip-pooled
ls -la "$OUT"
