#!/bin/sh
# One day's train run, for submit/cron.example: runs until train ends with 0 or 3, then is a no-op for that day.
# train exits 0 (every planned adapter present or skipped with a reason), 3 (some failed deterministically, the
# others committed: final, a re-run would report the same) or 1 (job-level error: retried by the next schedule).
set -u
day=$(date +%F)
state=${SPARK_LORA_STATE:-/var/lib/spark-lora}
done_file="$state/done-$day"
[ -e "$done_file" ] && exit 0
/opt/spark-lora/submit/spark-lora train --config /opt/spark-lora/conf/train-by-key.yaml --master yarn \
  --data "hdfs:///data/tickets/$day/*.jsonl" --out "hdfs:///runs/tickets/$day"
rc=$?
if [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ]; then
  mkdir -p "$state" && echo "$rc" > "$done_file"
fi
exit "$rc"
