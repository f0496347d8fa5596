package io.sparklora.cli;

import io.sparklora.job.Bench;
import io.sparklora.job.FusedBench;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bench}: training tokens/s of one core, the model's GFLOP/s, the same run's sgemm GFLOP/s at the model's GEMM
 * shapes and of a 2048³ square (the peak is the larger), and the model's GFLOP/s over that peak (MFU), as one JSON
 * line. {@code --threads N} sets N OpenBLAS threads for the run (default one, the per-core figure). The {@code cpu_*}
 * keys repeat the figures on the training thread's CPU clock, which a machine shared with other work leaves comparable.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Print training tokens/s, model GFLOP/s, the same run's sgemm peak and MFU against it as JSON.")
final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--preset", defaultValue = "tiny",
            description = "tiny (dim 256, 4 layers, seq 128, batch 8), small (dim 512, 8 layers, seq 256, batch 4), "
                    + "or layer (one dim-512 block) (default: ${DEFAULT-VALUE})")
    Bench.Preset preset;

    @Option(names = "--threads", defaultValue = "1",
            description = "BLAS threads in this one task, set through OpenBLAS's set_num_threads (default: "
                    + "${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--adapters", description = "measure K adapters trained fused in one task against the same K "
            + "one after another (aggregate tokens/s, memory per adapter), at batch 1 and the preset's batch")
    Integer adapters;

    @Option(names = "--batch", description = "with --adapters: measure at this batch size only")
    Integer batch;

    @Override
    public Integer call() {
        if (adapters != null || batch != null) {
            return fused();
        }
        if (threads < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "Cannot run bench: --threads expects a positive number of BLAS threads, got " + threads);
        }
        System.out.println(Bench.run(preset, threads).toJson());
        return 0;
    }

    private Integer fused() {
        if (adapters == null) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "Cannot run bench: --batch is an option of the fused bench, expected --adapters K with it");
        }
        if (adapters < 1 || (batch != null && batch < 1)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "Cannot run bench: --adapters and --batch "
                    + "expect positive numbers, got " + adapters + " and " + batch);
        }
        if (threads != 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "Cannot run bench: the fused bench "
                    + "measures one BLAS thread, got --threads " + threads);
        }
        List<Integer> batches = batch != null ? List.of(batch) : List.of(1, preset.batch()).stream().distinct().toList();
        for (int b : batches) {
            System.out.println(FusedBench.run(preset, adapters, b).toJson());
        }
        return 0;
    }
}
