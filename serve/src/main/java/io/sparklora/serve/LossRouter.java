package io.sparklora.serve;

import io.sparklora.generate.Sampling;
import io.sparklora.infer.Generation;
import io.sparklora.infer.InferenceAdapter;
import io.sparklora.infer.Segment;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code model: "auto"}: the adapter whose own language model explains the prompt best — the lowest mean next-token
 * loss over the prompt, computed by every adapter of the output in one cross-adapter batch (a prefill per adapter, no
 * generation). An adapter trained on a partition is the likelihood model of that partition, so this is the Bayes
 * choice under equal priors. A prompt of one token gives no evidence and goes to the base.
 */
final class LossRouter implements PromptRouter {
    private final AdapterCache cache;
    private final Engine engine;

    LossRouter(AdapterCache cache, Engine engine) {
        this.cache = cache;
        this.engine = engine;
    }

    /** The name of the chosen adapter ({@code base} when the prompt is one token or there is no adapter). */
    @Override
    public String choose(int[] prompt) throws IOException, ApiException {
        List<String> names = cache.names();
        if (prompt.length < 2 || names.isEmpty()) {
            return ServedModels.BASE;
        }
        double[] loss = new double[names.size()];
        CountDownLatch done = new CountDownLatch(names.size());
        AtomicReference<RuntimeException> failure = new AtomicReference<>();
        for (int i = 0; i < names.size(); i++) {
            InferenceAdapter a;
            try {
                a = cache.get(names.get(i));
            } catch (AdapterCache.UnknownAdapterException e) {
                loss[i] = Double.POSITIVE_INFINITY; // removed since the listing
                done.countDown();
                continue;
            }
            int index = i;
            engine.submit(new Engine.Job(a, prompt, Sampling.greedy(0), new int[0], Segment.Logits.ALL, 0,
                    new Engine.Listener() {
                        @Override
                        public void promptLogprobs(TokenLogprob[] logprobs) {
                            double sum = 0;
                            for (int t = 1; t < logprobs.length; t++) {
                                sum -= logprobs[t].logprob();
                            }
                            loss[index] = sum / (logprobs.length - 1);
                        }

                        @Override
                        public boolean token(int id, TokenLogprob logprob) {
                            return false;
                        }

                        @Override
                        public void finished(Generation.Finish finish) {
                            done.countDown();
                        }

                        @Override
                        public void failed(RuntimeException e) {
                            failure.set(e);
                            done.countDown();
                        }
                    }));
        }
        try {
            done.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("Cannot route: interrupted", e);
        }
        if (failure.get() != null) {
            throw new IOException("Cannot route the prompt: " + failure.get().getMessage(), failure.get());
        }
        int best = 0;
        for (int i = 1; i < loss.length; i++) {
            if (loss[i] < loss[best]) {
                best = i;
            }
        }
        return names.get(best);
    }
}
