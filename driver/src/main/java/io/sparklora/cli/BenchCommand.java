package io.sparklora.cli;

import io.sparklora.job.Bench;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench}: training tokens/s of one core, the model's GFLOP/s, the same run's sgemm GFLOP/s at the model's GEMM
 * shapes, and their ratio, as one JSON line. OpenBLAS reads {@code OMP_NUM_THREADS} when the JVM starts, so one core
 * means {@code OMP_NUM_THREADS=1} in the environment ({@code submit/spark-lora bench} sets it unless given).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Print training tokens/s, model GFLOP/s, sgemm GFLOP/s and their ratio (MFU) as JSON.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--preset", defaultValue = "tiny",
            description = "tiny (dim 256, 4 layers, seq 128, batch 8), small (dim 512, 8 layers, seq 256, batch 4), "
                    + "or layer (one dim-512 block) (default: ${DEFAULT-VALUE})")
    Bench.Preset preset;

    @Override
    public Integer call() {
        if (!"1".equals(System.getenv("OMP_NUM_THREADS"))) {
            System.err.println("Note: OMP_NUM_THREADS is " + System.getenv().getOrDefault("OMP_NUM_THREADS", "unset")
                    + "; the presets are defined per core (OMP_NUM_THREADS=1).");
        }
        System.out.println(Bench.run(preset).toJson());
        return 0;
    }
}
