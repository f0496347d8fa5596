"""spark-lora as an Airflow task: one train run per day, retried until complete.

Retries are safe and cheap: train skips every adapter already committed under --out (manifest.json lists them
with the SHA-256 of their files) and resumes an interrupted one from its last checkpoint, so a retry trains only
what is missing.
"""
from datetime import datetime, timedelta

from airflow import DAG
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

with DAG(
    dag_id="spark_lora_nightly",
    start_date=datetime(2026, 1, 1),
    schedule="30 1 * * *",
    catchup=False,
    default_args={"retries": 6, "retry_delay": timedelta(minutes=20)},
) as dag:
    SparkSubmitOperator(
        task_id="train_adapters",
        conn_id="spark_yarn",  # an Airflow connection to the cluster (master yarn)
        application="/opt/spark-lora/app/target/spark-lora-app-0.1.0-SNAPSHOT.jar",
        java_class="io.sparklora.cli.SparkLoraCli",
        properties_file="/opt/spark-lora/conf/spark-defaults.conf",
        application_args=[
            "train",
            "--config", "/opt/spark-lora/conf/train-by-key.yaml",
            "--data", "hdfs:///data/tickets/{{ ds }}/*.jsonl",
            "--out", "hdfs:///runs/tickets/{{ ds }}",
        ],
    )
