#!/usr/bin/env bash
# spark-lora on YARN (cluster deploy mode): one adapter per language, data on HDFS, adapters to S3 through S3A.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
app=$(ls "$root"/app/target/spark-lora-app-*.jar | grep -v /original- | head -n 1)   # mvn -B -DskipTests package

# hadoop-aws must match the cluster's Hadoop version (Spark 4.0.1 is built against Hadoop 3.4.1).
"$SPARK_HOME"/bin/spark-submit \
  --master yarn \
  --deploy-mode cluster \
  --name spark-lora-by-lang \
  --queue default \
  --class io.sparklora.cli.SparkLoraCli \
  --packages org.apache.hadoop:hadoop-aws:3.4.1 \
  --properties-file "$root"/conf/spark-defaults.conf \
  --num-executors 8 \
  --executor-cores 8 \
  --executor-memory 6g \
  --conf spark.task.cpus=4 \
  --conf spark.executorEnv.OMP_NUM_THREADS=4 \
  --conf spark.executorEnv.OPENBLAS_NUM_THREADS=4 \
  --conf spark.executor.memoryOverhead=10g \
  --conf "spark.executor.extraJavaOptions=-XX:MaxDirectMemorySize=9g -Dorg.bytedeco.javacpp.maxbytes=9g" \
  --conf spark.driver.memoryOverhead=6g \
  --conf "spark.driver.extraJavaOptions=-XX:MaxDirectMemorySize=5g -Dorg.bytedeco.javacpp.maxbytes=5g" \
  --conf spark.hadoop.fs.s3a.aws.credentials.provider=software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider \
  --conf spark.hadoop.fs.s3a.endpoint.region=eu-west-1 \
  --conf spark.hadoop.fs.s3a.fast.upload=true \
  "$app" train \
    --model hdfs:///models/llama-base \
    --data 'hdfs:///data/corpus/*.parquet' --format parquet \
    --partition-by lang \
    --rank 8 --alpha 16 --targets q_proj,v_proj \
    --steps 500 --batch 8 --seq 256 \
    --out s3a://my-bucket/runs/by-lang
# YARN kills a container whose resident memory exceeds executor memory + memoryOverhead. spark-lora's tensors are
# off-heap (direct buffers + native BLAS), so memoryOverhead must exceed MaxDirectMemorySize by ~1 GB.
