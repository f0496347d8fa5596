#!/usr/bin/env bash
# Tree vs flat per-leaf adapters on the demo languages (README, "Trees of adapters"). For each seed and each es/it
# row budget: a tree (conf/tree-demo.yaml, S steps per node) and flat es/it adapters with S and 3·S steps (3·S: the
# optimizer steps of the whole path), all on the same per-key held-out windows. Prints one line per run:
#   rows seed kind es_loss it_loss seconds
# Usage: [SEQ=128] [BATCH=8] tools/tree-vs-flat/run.sh OUT_DIR "ROWS..." "SEEDS..." [STEPS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out=$1; rows_list=$2; seeds=$3; steps=${4:-100}
mkdir -p "$out"
common=(--model "$root/models/demo-base" --partition-by lang --rank 8 --alpha 16 --targets all-linear
  --batch "${BATCH:-8}" --seq "${SEQ:-128}" --lr 0.002 --held-out 0.1 --progress-seconds 600)
for rows in $rows_list; do
  all="$out/data-$rows.jsonl"; leaves="$out/leaves-$rows.jsonl"
  # de, en: every row; es, it: the first $rows rows each ("all": every row)
  python3 - "$root/data/demo/fortunes.jsonl" "$rows" "$all" "$leaves" <<'PY'
import json, sys
src, n, all_out, leaf_out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
seen = {}
with open(src) as f, open(all_out, "w") as a, open(leaf_out, "w") as l:
    for line in f:
        lang = json.loads(line)["lang"]
        seen[lang] = seen.get(lang, 0) + 1
        if lang in ("es", "it") and n != "all" and seen[lang] > int(n):
            continue
        a.write(line)
        if lang in ("es", "it"):
            l.write(line)
PY
  for seed in $seeds; do
    loss() { python3 -c "import json,sys; m=json.load(open(sys.argv[1])); d={a['name']:a for a in m['adapters']}; \
print('%.4f %.4f' % (d['es']['final_held_out_loss'], d['it']['final_held_out_loss']))" "$1/manifest.json"; }
    t0=$(date +%s); "$root/submit/spark-lora" train "${common[@]}" --data "$all" --tree "$root/conf/tree-demo.yaml" \
      --steps "$steps" --seed "$seed" --out "$out/tree-$rows-$seed" > "$out/tree-$rows-$seed.log" 2>&1
    echo "$rows $seed tree-${steps}x3 $(loss "$out/tree-$rows-$seed") $(( $(date +%s) - t0 ))"
    for s in "$steps" $((3 * steps)); do
      t0=$(date +%s); "$root/submit/spark-lora" train "${common[@]}" --data "$leaves" --steps "$s" --seed "$seed" \
        --out "$out/flat$s-$rows-$seed" > "$out/flat$s-$rows-$seed.log" 2>&1
      echo "$rows $seed flat-$s $(loss "$out/flat$s-$rows-$seed") $(( $(date +%s) - t0 ))"
    done
  done
done
