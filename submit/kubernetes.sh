#!/usr/bin/env bash
# spark-lora on Kubernetes: adapters trained from and written to S3 (or any S3-compatible store) through S3A.
# The container image must hold Spark 4 (e.g. the official apache/spark image) and the application jar, or reach the
# jar by URL: here it is uploaded to S3 first and the pods fetch it through S3A.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
app=$(ls "$root"/app/target/spark-lora-app-*.jar | grep -v /original- | head -n 1)   # mvn -B -DskipTests package
# aws s3 cp "$app" s3://my-bucket/jars/spark-lora-app.jar

"$SPARK_HOME"/bin/spark-submit \
  --master k8s://https://kubernetes.example.com:6443 \
  --deploy-mode cluster \
  --name spark-lora-shards \
  --class io.sparklora.cli.SparkLoraCli \
  --packages org.apache.hadoop:hadoop-aws:3.4.1 \
  --properties-file "$root"/conf/spark-defaults.conf \
  --conf spark.kubernetes.container.image=apache/spark:4.0.1 \
  --conf spark.kubernetes.container.image.pullPolicy=IfNotPresent \
  --conf spark.kubernetes.namespace=spark-lora \
  --conf spark.kubernetes.authenticate.driver.serviceAccountName=spark \
  --conf spark.executor.instances=8 \
  --conf spark.executor.cores=8 \
  --conf spark.kubernetes.executor.request.cores=8 \
  --conf spark.task.cpus=4 \
  --conf spark.executorEnv.OMP_NUM_THREADS=4 \
  --conf spark.executorEnv.OPENBLAS_NUM_THREADS=4 \
  --conf spark.executor.memory=6g \
  --conf spark.executor.memoryOverhead=10g \
  --conf "spark.executor.extraJavaOptions=-XX:MaxDirectMemorySize=9g -Dorg.bytedeco.javacpp.maxbytes=9g" \
  --conf spark.jars.ivy=/tmp/.ivy2 \
  --conf spark.hadoop.fs.s3a.endpoint=https://s3.eu-west-1.amazonaws.com \
  --conf spark.hadoop.fs.s3a.path.style.access=false \
  --conf spark.hadoop.fs.s3a.aws.credentials.provider=software.amazon.awssdk.auth.credentials.WebIdentityTokenFileCredentialsProvider \
  --conf spark.hadoop.fs.s3a.fast.upload=true \
  s3a://my-bucket/jars/spark-lora-app.jar train \
    --model s3a://my-bucket/models/gpt2-small \
    --data s3a://my-bucket/data/corpus.parquet --format parquet \
    --shards 16 \
    --rank 4 --alpha 8 --targets all-linear \
    --epochs 1 --batch 8 --seq 128 \
    --out s3a://my-bucket/runs/shards-16
# For MinIO or another S3-compatible store: fs.s3a.endpoint=http://minio:9000, fs.s3a.path.style.access=true, and
# fs.s3a.access.key / fs.s3a.secret.key from a Kubernetes secret (spark.kubernetes.driver.secretKeyRef.*), never
# on the command line. Pods are killed (OOMKilled) above memory + memoryOverhead: keep memoryOverhead above
# MaxDirectMemorySize + ~1 GB.
