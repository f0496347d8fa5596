package io.sparklora.cli;

import io.sparklora.serve.ServeBench;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench-serve}: the serving figures of issue 10 as one JSON document (see {@link ServeBench}): adapter switch
 * time, single- and multi-adapter throughput and latency under concurrent load, and merged against base latency.
 */
@Command(name = "bench-serve", mixinStandardHelpOptions = true,
        description = "Print serving figures as JSON: adapter switch time, tokens/s and p50/p99 latency with one "
                + "adapter and with many under concurrent load, merged vs base latency.")
final class BenchServeCommand implements Callable<Integer> {
    @Option(names = "--model", description = "base model directory (default: a random LLaMA of dim 256, 4 layers)")
    Path model;

    @Option(names = "--adapters", defaultValue = "8", description = "distinct adapters of the mixed load "
            + "(default: ${DEFAULT-VALUE})")
    int adapters;

    @Option(names = "--rank", defaultValue = "8", description = "LoRA rank on q_proj,v_proj (default: ${DEFAULT-VALUE})")
    int rank;

    @Option(names = "--clients", defaultValue = "16", description = "concurrent HTTP clients, also the batch size "
            + "(default: ${DEFAULT-VALUE})")
    int clients;

    @Option(names = "--requests", defaultValue = "64", description = "requests per load phase (default: "
            + "${DEFAULT-VALUE})")
    int requests;

    @Option(names = "--prompt-tokens", defaultValue = "32", description = "prompt length (default: ${DEFAULT-VALUE})")
    int promptTokens;

    @Option(names = "--max-tokens", defaultValue = "32", description = "tokens generated per request (default: "
            + "${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--repeats", defaultValue = "3", description = "alternating repeats of the phases (default: "
            + "${DEFAULT-VALUE})")
    int repeats;

    @Override
    public Integer call() throws Exception {
        System.out.println(ServeBench.run(new ServeBench.Options(model, adapters, rank, clients, requests,
                promptTokens, maxTokens, repeats)).toPrettyString());
        return 0;
    }
}
