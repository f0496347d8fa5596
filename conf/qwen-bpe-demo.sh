#!/usr/bin/env bash
# The path a user takes with their own model, end to end on the shipped text (README: "A Qwen-shaped base with a BPE
# tokenizer"). Run from the repository root: bash conf/qwen-bpe-demo.sh   (outputs under runs/qwen-bpe/)
#   1. train a byte-level BPE tokenizer on data/demo/pretrain.txt
#   2. write a random Qwen3-shaped base (q/k norms, GQA, explicit head_dim) carrying that tokenizer
#   3. pretrain it on the same text (every row ends with the tokenizer's <|endoftext|>)
#   4. train one LoRA adapter per language on Spark local[*] (conf/qwen-bpe.yaml), evaluate, render the report
#   5. generate with the German adapter
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
sl=submit/spark-lora
out=runs/qwen-bpe
rm -rf "$out"
$sl train-tokenizer --data data/demo/pretrain.txt --vocab 2048 --max-length 256 --out "$out/tokenizer"
$sl init-model --family qwen3 --dim 128 --layers 4 --heads 4 --kv-heads 2 --head-dim 32 --ffn 384 --vocab 2048 \
    --max-seq 256 --tie-embeddings --tokenizer "$out/tokenizer" --seed 1 --out "$out/init"
OMP_NUM_THREADS=1 $sl pretrain --model "$out/init" --data data/demo/pretrain.txt --steps 1500 --batch 8 --seq 128 \
    --lr 3e-3 --warmup 100 --held-out 0.05 --seed 42 --out "$out/base"
$sl train --config conf/qwen-bpe.yaml
$sl eval --model "$out/base" --adapters "$out/adapters" --out "$out/adapters/eval-matrix.json"
$sl generate --model "$out/base" --adapter "$out/adapters/adapters/de" --prompt "Der Mensch" --max-new-tokens 40 \
    --temperature 0.7 --seed 1
