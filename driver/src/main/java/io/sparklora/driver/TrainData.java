package io.sparklora.driver;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.api.java.UDF3;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Reads the training data with Spark's DataFrame readers and turns it into four standard columns: {@value #KEY} (the
 * adapter key as a string: the partition column's value, or the shard index), {@value #TEXT}, {@value #PROMPT} and
 * {@value #COMPLETION}. Checks the columns, and finds malformed JSON lines (Spark's {@code PERMISSIVE} mode puts them in
 * a corrupt-record column), naming the file and line of the first one.
 */
public final class TrainData {
    public static final String KEY = "_sl_key";
    public static final String TEXT = "_sl_text";
    public static final String PROMPT = "_sl_prompt";
    public static final String COMPLETION = "_sl_completion";
    /** The key of rows whose partition value is null (null cannot be a map key in the planner). */
    public static final String NULL_KEY = "\u0000null";
    private static final String CORRUPT = "_corrupt_record";

    private TrainData() {
    }

    /** The standard rows and the number of malformed lines dropped under --skip-malformed. */
    public record Read(Dataset<Row> rows, long malformedSkipped) {
    }

    public static Read read(SparkSession spark, DataOptions o) {
        Dataset<Row> df;
        try {
            df = switch (o.format()) {
                case DataOptions.JSONL -> spark.read().option("mode", "PERMISSIVE")
                        .option("columnNameOfCorruptRecord", CORRUPT).json(o.path());
                case DataOptions.PARQUET -> spark.read().parquet(o.path());
                case DataOptions.CSV -> spark.read().option("header", "true").csv(o.path());
                default -> spark.read().text(o.path());
            };
        } catch (RuntimeException e) { // AnalysisException: path not found, unreadable footer, …
            throw new IllegalArgumentException("Cannot read data " + o.path() + ": " + firstLine(e.getMessage()), e);
        }
        long malformed = 0;
        List<String> columns = Arrays.asList(df.columns());
        if (columns.contains(CORRUPT)) {
            if (!o.skipMalformed()) {
                throw new IllegalArgumentException(firstMalformed(spark, df.inputFiles()));
            }
            if (columns.size() == 1) {
                throw new IllegalArgumentException("Cannot read data " + o.path() + ": no line is a JSON object");
            }
            // Spark refuses queries of the corrupt-record column alone on raw files; on a persisted frame they work.
            df = df.persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
            malformed = df.filter(col(CORRUPT).isNotNull()).count();
            df = df.filter(col(CORRUPT).isNull()).drop(CORRUPT);
            columns = Arrays.asList(df.columns());
        }
        if (columns.isEmpty()) { // Spark infers no schema from empty JSON files
            throw new IllegalArgumentException("Cannot train: the data " + o.path() + " has no rows");
        }
        if (o.partitionBy() != null && !columns.contains(o.partitionBy())) {
            throw new IllegalArgumentException("Cannot train: --partition-by column '" + o.partitionBy()
                    + "' is not in the data " + o.path() + "; its columns are " + new TreeSet<>(columns));
        }
        if (o.promptCompletion()) {
            for (String c : List.of(o.promptColumn(), o.completionColumn())) {
                if (!columns.contains(c)) {
                    throw new IllegalArgumentException("Cannot train: column '" + c + "' is not in the data "
                            + o.path() + "; its columns are " + new TreeSet<>(columns));
                }
            }
        } else if (!columns.contains(o.textColumn())) {
            throw new IllegalArgumentException("Cannot train: text column '" + o.textColumn()
                    + "' is not in the data " + o.path() + "; its columns are " + new TreeSet<>(columns)
                    + " (use --text-column, or --prompt-column and --completion-column)");
        }
        Column nullText = lit(null).cast(DataTypes.StringType);
        Column text = o.promptCompletion() ? nullText : col(o.textColumn()).cast(DataTypes.StringType);
        Column prompt = o.promptCompletion() ? col(o.promptColumn()).cast(DataTypes.StringType) : nullText;
        Column completion = o.promptCompletion() ? col(o.completionColumn()).cast(DataTypes.StringType) : nullText;
        Dataset<Row> std = df.select(text.as(TEXT), prompt.as(PROMPT), completion.as(COMPLETION),
                o.partitionBy() != null ? functions.coalesce(col(o.partitionBy()).cast(DataTypes.StringType),
                        lit(NULL_KEY)).as(KEY) : lit(null).cast(DataTypes.StringType).as(KEY));
        if (o.shards() > 0) {
            long seed = o.seed();
            int shards = o.shards();
            UDF3<String, String, String, String> shardOf = (t, p, c) ->
                    Integer.toString(TrainRow.shardOf(t, p, c, seed, shards));
            std = std.withColumn(KEY, functions.udf(shardOf, DataTypes.StringType)
                    .apply(col(TEXT), col(PROMPT), col(COMPLETION)));
        }
        return new Read(std, malformed);
    }

    /** The row's ids under the model's tokenizer ({@link TrainRow#encode}), null when it cannot be trained on. */
    public static final String TOKENS = "_sl_tokens";
    /** The first target position within {@link #TOKENS}. */
    public static final String LOSS_FROM = "_sl_loss_from";

    /**
     * The rows with their encoding: one pass of the tokenizer over every row, on the executors that read them, kept
     * (memory and disk) so the planner's counts and the training tasks read the same ids without tokenizing again.
     * Release with {@link #release}.
     */
    public static Read tokenized(Read read, TokenizerSpec tokenizer) {
        StructType encoding = new StructType()
                .add("tokens", DataTypes.createArrayType(DataTypes.IntegerType), true)
                .add("loss_from", DataTypes.IntegerType, false);
        UDF3<String, String, String, Row> encode = (t, p, c) -> {
            io.sparklora.tokenizer.EncodedRow e;
            try {
                e = TrainRow.encode(tokenizer.get(), t, p, c);
            } catch (RuntimeException ex) { // a row the tokenizer cannot encode is unusable, not a job failure
                e = null;
            }
            return e == null ? RowFactory.create(null, -1) : RowFactory.create(e.tokens(), e.lossFrom());
        };
        Column enc = functions.udf(encode, encoding).apply(col(TEXT), col(PROMPT), col(COMPLETION));
        Dataset<Row> rows = read.rows().withColumn("_sl_enc", enc)
                .withColumn(TOKENS, col("_sl_enc.tokens")).withColumn(LOSS_FROM, col("_sl_enc.loss_from"))
                .drop("_sl_enc").persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
        return new Read(rows, read.malformedSkipped());
    }

    /** Drops the kept encoding of {@link #tokenized}. */
    public static void release(Read read) {
        read.rows().unpersist(false);
    }

    /** "Cannot read data <file>: line N is not a JSON object (…)" for the first malformed line of the files. */
    private static String firstMalformed(SparkSession spark, String[] files) {
        ObjectMapper json = new ObjectMapper();
        String[] sorted = files.clone();
        Arrays.sort(sorted);
        for (String f : sorted) {
            Path p = new Path(f);
            try (BufferedReader r = new BufferedReader(new InputStreamReader(
                    p.getFileSystem(spark.sparkContext().hadoopConfiguration()).open(p), StandardCharsets.UTF_8))) {
                long lineNo = 0;
                for (String line; (line = r.readLine()) != null; ) {
                    lineNo++;
                    if (line.isBlank()) {
                        continue;
                    }
                    String problem;
                    try {
                        JsonNode n = json.readTree(line);
                        problem = n != null && n.isObject() ? null : "not a JSON object";
                    } catch (IOException e) {
                        problem = "not valid JSON";
                    }
                    if (problem != null) {
                        return "Cannot read data " + f + ": line " + lineNo + " is " + problem + " ("
                                + abbreviate(line) + "); fix it or pass --skip-malformed to drop such lines";
                    }
                }
            } catch (IOException e) {
                return "Cannot read data " + f + ": " + e.getMessage();
            }
        }
        return "Cannot read data: Spark's JSON reader found malformed lines in " + Arrays.toString(sorted)
                + "; pass --skip-malformed to drop them";
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }

    static String firstLine(String s) {
        if (s == null) {
            return "unknown error";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
