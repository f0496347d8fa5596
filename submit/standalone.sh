#!/usr/bin/env bash
# spark-lora on a Spark standalone cluster: one adapter per language, data and output on HDFS.
# Adjust the master URL, paths and sizes; see conf/spark-defaults.conf for why each setting is there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
app=$(ls "$root"/app/target/spark-lora-app-*.jar | grep -v /original- | head -n 1)   # mvn -B -DskipTests package

"$SPARK_HOME"/bin/spark-submit \
  --master spark://spark-master:7077 \
  --deploy-mode client \
  --class io.sparklora.cli.SparkLoraCli \
  --properties-file "$root"/conf/spark-defaults.conf \
  --total-executor-cores 32 \
  --conf spark.executor.cores=8 \
  --conf spark.task.cpus=4 \
  --conf spark.executorEnv.OMP_NUM_THREADS=4 \
  --conf spark.executorEnv.OPENBLAS_NUM_THREADS=4 \
  --conf spark.executor.memory=6g \
  --conf "spark.executor.extraJavaOptions=-XX:MaxDirectMemorySize=9g -Dorg.bytedeco.javacpp.maxbytes=9g" \
  "$app" train \
    --model hdfs://namenode:8020/models/llama-base \
    --data 'hdfs://namenode:8020/data/corpus/*.jsonl' \
    --partition-by lang \
    --rank 8 --alpha 16 --targets q_proj,v_proj \
    --steps 500 --batch 8 --seq 256 --lr 2e-4 \
    --out hdfs://namenode:8020/runs/by-lang
# Standalone mode has no container limit on off-heap memory: size MaxDirectMemorySize and executor memory so that
# (memory + direct memory + ~1 GB native) x executors per worker fits the machine.
