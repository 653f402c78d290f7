#!/usr/bin/env bash
# Issue 5's ratios, ours against PyTorch, in alternated pairs: each pair runs transformer_bench and
# ../shared/bench/torch_lora_baseline.py one right after the other at the same shape and threads, so
# both see the host in the same state; the table gives each pair's ratio and the median of them.
# PyTorch runs with the OpenBLAS kernels slmtune itself runs (read from `slmtune --version`): on a CPU
# that Debian's OpenBLAS does not know, PyTorch as shipped would run SSE3 kernels and the ratio would
# measure that instead (bench/README.md, "a CPU OpenBLAS does not know"). BASELINE_AS_SHIPPED=1 runs
# it as shipped.
#
#   bench/issue5_pairs.sh [train|infer] [smollm2-135m|qwen2.5-0.5b] [PAIRS]
#
# train: LoRA forward+backward+AdamW, sequence 256, batch 4, 2 threads (tokens/s, peak RSS).
# infer: a 256-token prompt (tokens/s), then 32 greedy tokens with a KV cache (tokens/s), batch 1.
# Needs the benchmarks built (cmake -DSLMTUNE_BENCH=ON) and run from the repository root.
set -euo pipefail

what=${1:-train}
shape=${2:-smollm2-135m}
pairs=${3:-3}
bench=build/transformer_bench
baseline=../shared/bench/torch_lora_baseline.py
for file in "$bench" build/slmtune "$baseline"; do
  [[ -e $file ]] || { echo "issue5_pairs.sh: $file not found (build with -DSLMTUNE_BENCH=ON, run from the repository root)" >&2; exit 1; }
done
case $what in train | infer) ;; *) echo "issue5_pairs.sh: the first argument is train or infer, not '$what'" >&2; exit 1 ;; esac

torch_env=()
if [[ ${BASELINE_AS_SHIPPED:-0} != 1 ]]; then
  core=$(build/slmtune --version | sed -n 's/^OpenBLAS kernels: \([A-Za-z0-9_]*\).*/\1/p')
  [[ -n $core ]] && torch_env=(env "OPENBLAS_CORETYPE=$core")
fi
echo "# $what, $shape, $pairs pairs, $(date -u '+%Y-%m-%d %H:%M UTC'); PyTorch: ${torch_env[*]:-as shipped}"

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for ((pair = 1; pair <= pairs; pair++)); do
  if [[ $what == train ]]; then
    ours=$("$bench" --shape "$shape" --mode lora --seq 256 --batch 4 --steps 3 --threads 2 | sed -n 's/^RESULT //p')
    theirs=$("${torch_env[@]}" /usr/bin/python3 "$baseline" --shape "$shape" --mode lora --seq 256 --batch 4 --steps 1 \
      --warmup 1 --threads 2 --infer-reps 0 2>&1 | grep -E '^TRAIN:')
  else
    ours=$("$bench" --shape "$shape" --mode frozen --steps 0 --threads 2 --seq 256 --prompt --decode 32 | sed -n 's/^RESULT //p')
    theirs=$("${torch_env[@]}" /usr/bin/python3 "$baseline" --shape "$shape" --steps 0 --threads 2 --prompt-len 256 \
      --decode-len 32 2>&1 | grep -E '^INFER')
  fi
  printf '%s\t%s\t%s\n' "$pair" "$ours" "$theirs" >>"$results"
done

/usr/bin/python3 - "$what" "$results" <<'PY'
import json, re, statistics, sys
what, path = sys.argv[1], sys.argv[2]
rows = []
for line in open(path):
    pair, ours, theirs = line.rstrip("\n").split("\t")
    o = json.loads(ours)
    if what == "train":
        t = float(re.search(r"TRAIN: ([0-9.]+) tokens/s", theirs).group(1))
        rss = float(re.search(r"peak RSS ([0-9.]+) MiB", theirs).group(1)) * 1024**2 / 1e9
        rows.append((pair, o["train_tokens_per_s"], t, o["peak_rss_gb"], rss))
    else:
        m = re.search(r"prompt \d+ tok: ([0-9.]+) tok/s.*decode \d+ tok \(KV cache\): ([0-9.]+) tok/s", theirs)
        rows.append((pair, o["prompt_tokens_per_s"], float(m.group(1)), o["decode_tokens_per_s"], float(m.group(2)),
                     o["decode_weight_gb_per_s"], o["read_roofline_gb_per_s"]))
if what == "train":
    print("| pair | ours tokens/s | PyTorch tokens/s | ratio | ours peak RSS GB | PyTorch peak RSS GB | RSS ratio |")
    print("|---|---|---|---|---|---|---|")
    for p, o, t, ro, rt in rows:
        print(f"| {p} | {o:.1f} | {t:.1f} | {o / t:.2f}× | {ro:.2f} | {rt:.2f} | {ro / rt:.2f}× |")
    print(f"median ratio {statistics.median(o / t for _, o, t, _, _ in rows):.2f}× (target ≥ 2.5×); "
          f"RSS {statistics.median(ro / rt for *_, ro, rt in rows):.2f}× (target ≤ 0.4×)")
else:
    print("| pair | ours prompt | PyTorch prompt | ratio | ours decode (GB/s; roofline GB/s) | PyTorch decode | ratio |")
    print("|---|---|---|---|---|---|---|")
    for p, op, tp, od, td, gbs, roof in rows:
        print(f"| {p} | {op:.0f} | {tp:.0f} | {op / tp:.2f}× | {od:.1f} ({gbs:.1f}; {roof:.1f}) | {td:.1f} | {od / td:.2f}× |")
    print(f"median ratios: prompt {statistics.median(r[1] / r[2] for r in rows):.2f}× (target ≥ 1.5×), "
          f"decode {statistics.median(r[3] / r[4] for r in rows):.2f}× (target ≥ 3.5×)")
PY
