package io.sparklora.serve;

import io.sparklora.generate.Sampling;
import io.sparklora.infer.Generation;
import io.sparklora.infer.InferenceAdapter;
import io.sparklora.infer.KvCache;
import io.sparklora.infer.KvDecoder;
import io.sparklora.infer.Segment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Continuous batching across adapters: one decode thread takes queued jobs into a running set of at most
 * {@code maxBatch} sequences and, step after step, runs one {@link KvDecoder#forward} over every running sequence's
 * next segment (a new prompt whole, or one token), whatever adapter each names. A finished sequence leaves at once and
 * its cache goes to the next job. Listeners are called on the decode thread and must not block.
 */
public final class Engine implements AutoCloseable {
    /** What a job reports, in order: prompt log-probabilities (when asked), tokens, then finished or failed. */
    public interface Listener {
        /** (prompt.length) log-probabilities of each prompt token given the ones before; entry 0 is null. */
        default void promptLogprobs(TokenLogprob[] logprobs) {
        }

        /** A chosen token (and its log-probability when asked); returns false to stop (a stop string). */
        boolean token(int id, TokenLogprob logprob);

        void finished(Generation.Finish finish);

        void failed(RuntimeException e);
    }

    /**
     * One sequence to run.
     *
     * @param adapter      null for the base
     * @param promptLogits ALL to report the prompt's log-probabilities (echo)
     * @param topLogprobs  most likely tokens to report per position; -1 reports no log-probabilities
     */
    public record Job(InferenceAdapter adapter, int[] prompt, Sampling sampling, int[] eosIds,
                      Segment.Logits promptLogits, int topLogprobs, Listener listener) {
    }

    private record Running(Job job, Generation generation) {
    }

    private final KvDecoder decoder;
    private final int maxBatch;
    private final BlockingQueue<Job> queue;
    private final Deque<KvCache> freeCaches = new ArrayDeque<>();
    private final Thread thread;
    private volatile boolean closed;
    private final AtomicLong steps = new AtomicLong();
    private final AtomicLong rowsRun = new AtomicLong();
    private final AtomicLong tokensGenerated = new AtomicLong();
    private final AtomicLong loraRows = new AtomicLong(); // the decoder's count, published for other threads
    private final AtomicLong cpuNanos = new AtomicLong();
    private volatile boolean busy; // between taking work and adding its CPU time to cpuNanos
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    public Engine(KvDecoder decoder, int maxBatch, int queueCapacity) {
        if (maxBatch < 1 || maxBatch > decoder.maxRows()) {
            throw new IllegalArgumentException("Invalid max batch " + maxBatch + ": must be between 1 and "
                    + decoder.maxRows());
        }
        this.decoder = decoder;
        this.maxBatch = maxBatch;
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        this.thread = new Thread(this::loop, "spark-lora-engine");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    public KvDecoder decoder() {
        return decoder;
    }

    /** Queues a job; fails with RejectedExecutionException when the queue is full (HTTP 429). */
    public void submit(Job job) {
        if (closed || !queue.offer(job)) {
            throw new RejectedExecutionException("The server is busy: " + queue.size()
                    + " requests are waiting; try again later.");
        }
    }

    public int queued() {
        return queue.size();
    }

    public long steps() {
        return steps.get();
    }

    public long rowsRun() {
        return rowsRun.get();
    }

    /** Rows the decoder ran a LoRA update over, summed over layers ({@link KvDecoder#loraRows()}): 0 when merged. */
    public long loraRows() {
        return loraRows.get();
    }

    public long tokensGenerated() {
        return tokensGenerated.get();
    }

    /**
     * CPU nanoseconds the decode thread spent admitting and stepping sequences (waits for work excluded), read from its
     * own CPU clock: the time a request costs, unlike wall time, does not grow when other processes share the core.
     */
    public long cpuNanos() {
        return cpuNanos.get();
    }

    /**
     * Whether the decode thread is inside an iteration whose CPU time {@link #cpuNanos} does not hold yet. A client
     * that got its response waits for false before reading {@link #cpuNanos}: the response is sent from inside the
     * iteration.
     */
    public boolean busy() {
        return busy;
    }

    private void loop() {
        List<Running> running = new ArrayList<>();
        float[] logits = new float[decoder.config().vocabSize()];
        while (!closed) {
            try {
                Job waited = running.isEmpty() ? queue.poll(100, TimeUnit.MILLISECONDS) : null;
                busy = true;
                long cpuStart = THREADS.getCurrentThreadCpuTime();
                if (waited != null) {
                    admit(waited, running);
                }
                Job j;
                while (running.size() < maxBatch && (j = queue.poll()) != null) {
                    admit(j, running);
                }
                if (!running.isEmpty()) {
                    step(running, logits);
                }
                cpuNanos.addAndGet(THREADS.getCurrentThreadCpuTime() - cpuStart);
                busy = false;
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void admit(Job job, List<Running> running) {
        try {
            KvCache cache = freeCaches.isEmpty() ? decoder.newCache() : freeCaches.pop();
            Generation g = new Generation(cache, job.adapter(), job.prompt(), job.sampling(), job.eosIds(),
                    job.promptLogits());
            if (g.needsStep()) {
                running.add(new Running(job, g));
            } else {
                freeCaches.push(cache);
                job.listener().finished(g.finish()); // max_tokens 0 without echo: nothing to run
            }
        } catch (RuntimeException e) {
            job.listener().failed(e);
        }
    }

    private void step(List<Running> running, float[] logits) {
        List<Segment> segments = new ArrayList<>();
        List<Running> inStep = new ArrayList<>();
        int rowsLeft = decoder.maxRows();
        for (Running r : running) {
            Segment s = r.generation().nextSegment();
            if (s.tokens().length <= rowsLeft) {
                segments.add(s);
                inStep.add(r);
                rowsLeft -= s.tokens().length;
            }
        }
        try {
            decoder.forward(segments);
        } catch (RuntimeException e) {
            for (Running r : inStep) {
                finish(r, running, null, e);
            }
            return;
        }
        steps.incrementAndGet();
        loraRows.set(decoder.loraRows());
        rowsRun.addAndGet(decoder.maxRows() - rowsLeft);
        for (int i = 0; i < inStep.size(); i++) {
            Running r = inStep.get(i);
            Segment s = segments.get(i);
            int row = decoder.logitRow(i);
            try {
                if (s.logits() == Segment.Logits.ALL) {
                    r.job().listener().promptLogprobs(promptLogprobs(row, s.tokens(), r.job(), logits));
                }
                decoder.copyLogits(row + s.logitRows() - 1, logits);
                int next = r.generation().accept(logits);
                if (next >= 0) {
                    tokensGenerated.incrementAndGet();
                    TokenLogprob lp = r.job().topLogprobs() < 0 ? null
                            : TokenLogprob.of(logits, next, r.job().topLogprobs());
                    if (!r.job().listener().token(next, lp)) {
                        r.generation().stop();
                    }
                }
                if (!r.generation().needsStep()) {
                    finish(r, running, r.generation().finish(), null);
                }
            } catch (RuntimeException e) {
                finish(r, running, null, e);
            }
        }
    }

    private TokenLogprob[] promptLogprobs(int row, int[] prompt, Job job, float[] logits) {
        TokenLogprob[] out = new TokenLogprob[prompt.length];
        for (int t = 1; t < prompt.length; t++) {
            decoder.copyLogits(row + t - 1, logits);
            out[t] = TokenLogprob.of(logits, prompt[t], Math.max(0, job.topLogprobs()));
        }
        return out;
    }

    private void finish(Running r, List<Running> running, Generation.Finish finish, RuntimeException error) {
        running.remove(r);
        freeCaches.push(r.generation().cache());
        try {
            if (error != null) {
                r.job().listener().failed(error);
            } else {
                r.job().listener().finished(finish);
            }
        } catch (RuntimeException ignored) {
            // a listener's own failure must not stop the engine
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        Job j;
        while ((j = queue.poll()) != null) {
            j.listener().failed(new RejectedExecutionException("The server is shutting down."));
        }
    }
}
