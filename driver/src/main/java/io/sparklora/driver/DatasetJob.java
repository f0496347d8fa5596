package io.sparklora.driver;

import static org.apache.spark.sql.functions.col;

import io.sparklora.route.NgramRouter;
import io.sparklora.serve.AdapterCatalog;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The driver side that {@code score} and {@code generate} over a dataset share: read the rows, check the columns and
 * every adapter the rows name against the train output before any work (an unknown name fails the job naming it:
 * a typo should not cost a run whose rows come back half empty), broadcast the base once, and write the result rows —
 * the input's columns plus the job's — as one JSONL or Parquet file, atomically (Spark writes a temporary directory
 * beside the target; its one part file is renamed onto the target).
 */
final class DatasetJob {
    static final String ROW = "_sl_row"; // input order, restored before writing

    /** What the command names. */
    record Options(String command, String modelUri, String adaptersUri, String dataPath, String dataFormat,
                   String adapterColumn, String inputColumn, String outUri, String outFormat) {
    }

    final Options o;
    final SparkSession spark;
    final JavaSparkContext sc;
    final ModelStore.ModelInfo model;
    final Dataset<Row> rows; // the input with ROW last
    final int adapterColumn;
    final int inputColumn;
    final String outFormat;

    DatasetJob(SparkSession spark, Options o, List<String> addedColumns) throws IOException {
        this.o = o;
        this.spark = spark;
        this.sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        this.outFormat = outputFormat(o.outFormat(), o.outUri());
        this.model = ModelStore.describe(o.modelUri(), sc.hadoopConfiguration());
        Dataset<Row> df = read(spark, o.dataPath(), o.dataFormat());
        List<String> columns = Arrays.asList(df.columns());
        for (String c : List.of(o.adapterColumn(), o.inputColumn())) {
            if (!columns.contains(c)) {
                throw new IllegalArgumentException("Cannot " + o.command() + ": column '" + c + "' is not in the data "
                        + o.dataPath() + "; its columns are " + new TreeSet<>(columns));
            }
        }
        for (String c : addedColumns) {
            if (columns.contains(c)) {
                throw new IllegalArgumentException("Cannot " + o.command() + ": the data " + o.dataPath()
                        + " already has a column '" + c + "', which the output adds; rename it");
            }
        }
        this.rows = df.withColumn(ROW, functions.monotonically_increasing_id());
        this.adapterColumn = columns.indexOf(o.adapterColumn());
        this.inputColumn = columns.indexOf(o.inputColumn());
    }

    /** Checks the names the rows ask for and broadcasts the base: the serializable half of the tasks. */
    RoutedRows prepare() throws IOException {
        Configuration conf = sc.hadoopConfiguration();
        HadoopAdapterStorage storage = new HadoopAdapterStorage(o.adaptersUri(), conf);
        List<String> names = new ArrayList<>(new AdapterCatalog(storage).adapters().keySet());
        List<String> unknown = new ArrayList<>();
        for (Row r : rows.select(col(o.adapterColumn()).cast(DataTypes.StringType)).distinct().collectAsList()) {
            String v = r.getString(0);
            if (!RoutedRows.routes(v) && !v.equals(RoutedRows.BASE) && !names.contains(v)) {
                unknown.add(v);
            }
        }
        if (!unknown.isEmpty()) {
            java.util.Collections.sort(unknown);
            throw new IllegalArgumentException("Cannot " + o.command() + ": column '" + o.adapterColumn() + "' of "
                    + o.dataPath() + " names adapter(s) " + unknown + " that " + o.adaptersUri() + " does not have;"
                    + " it has " + names + " (or use base, or auto to route)");
        }
        byte[] router = storage.readIfExists(NgramRouter.FILE);
        if (router != null) {
            NgramRouter.read(router, o.adaptersUri() + "/" + NgramRouter.FILE); // a bad file fails here, once
        }
        Broadcast<BroadcastModel> base = sc.broadcast(BroadcastModel.read(model.uri(), conf));
        return new RoutedRows(base, o.adaptersUri(), names, router, model.tokenizer(), new HadoopConf(conf));
    }

    /** Writes the result rows (the input's columns, ROW, then {@code added}) in input order, without ROW. */
    void write(JavaRDD<Row> result, StructType added) throws IOException {
        StructType schema = rows.schema();
        for (var f : added.fields()) {
            schema = schema.add(f);
        }
        Dataset<Row> out = spark.createDataFrame(result, schema).repartition(1).sortWithinPartitions(ROW).drop(ROW);
        Configuration conf = sc.hadoopConfiguration();
        Path target = new Path(o.outUri());
        FileSystem fs = target.getFileSystem(conf);
        Path parent = fs.makeQualified(target).getParent();
        fs.mkdirs(parent);
        Path tmp = new Path(parent, "_" + target.getName() + ".tmp-" + java.util.UUID.randomUUID());
        try {
            var writer = out.write();
            if (outFormat.equals(DataOptions.JSONL)) {
                writer.option("ignoreNullFields", "false").json(tmp.toString());
            } else {
                writer.parquet(tmp.toString());
            }
            FileStatus[] parts = fs.globStatus(new Path(tmp, "part-*"));
            if (parts == null || parts.length != 1) {
                throw new IOException("Cannot write " + o.outUri() + ": Spark wrote " + (parts == null ? 0
                        : parts.length) + " part files, expected one");
            }
            FileContext.getFileContext(target.toUri(), conf).rename(parts[0].getPath(), fs.makeQualified(target),
                    org.apache.hadoop.fs.Options.Rename.OVERWRITE);
        } finally {
            fs.delete(tmp, true);
        }
    }

    /** {@code --format}, else the extension of {@code --out}: {@code .parquet} or {@code .jsonl}/{@code .json}. */
    static String outputFormat(String given, String out) {
        String f = given != null ? given.toLowerCase(Locale.ROOT) : out.toLowerCase(Locale.ROOT).endsWith(".parquet")
                ? DataOptions.PARQUET : out.toLowerCase(Locale.ROOT).matches(".*\\.jsonl?$") ? DataOptions.JSONL : null;
        if (f == null || !(f.equals(DataOptions.JSONL) || f.equals(DataOptions.PARQUET))) {
            throw new IllegalArgumentException("Invalid --out " + out + (given != null ? " --format " + given : "")
                    + ": the output is jsonl or parquet; name it *.jsonl or *.parquet, or pass --format");
        }
        return f;
    }

    private static Dataset<Row> read(SparkSession spark, String path, String format) {
        String f = format != null ? format.toLowerCase(Locale.ROOT) : DataOptions.formatOf(path);
        try {
            return switch (f) {
                case DataOptions.JSONL -> spark.read().option("mode", "FAILFAST").json(path);
                case DataOptions.PARQUET -> spark.read().parquet(path);
                case DataOptions.CSV -> spark.read().option("header", "true").csv(path);
                default -> throw new IllegalArgumentException("Invalid --data-format " + f
                        + ": must be jsonl, parquet or csv");
            };
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("Cannot read data " + path + ": " + TrainData.firstLine(e.getMessage()),
                    e);
        }
    }
}
