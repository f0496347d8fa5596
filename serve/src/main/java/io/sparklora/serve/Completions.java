package io.sparklora.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparklora.generate.Sampling;
import io.sparklora.infer.Generation;
import io.sparklora.infer.Segment;
import io.sparklora.infer.StopStrings;
import io.sparklora.infer.TextStream;
import io.sparklora.tokenizer.Tokenizer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * {@code POST /v1/completions}: tokenizes and checks every prompt, resolves the model, queues one engine job per
 * prompt (they batch with everything else running), and answers with one JSON body or, with {@code stream}, with
 * server-sent events ending {@code data: [DONE]}. Text goes through one {@link TextStream} per choice on the engine
 * thread, so the streamed deltas concatenate to exactly the plain response's text.
 */
final class Completions {
    static final ObjectMapper JSON = new ObjectMapper();

    /** Where streamed chunks go; a failure means the client left. */
    interface Sink {
        void event(String data) throws IOException;
    }

    private final Tokenizer tokenizer;
    private final TokenText tokenText;
    private final Engine engine;
    private final ServedModels models;
    private final int[] eosIds;
    private final Metrics metrics;

    Completions(Tokenizer tokenizer, Engine engine, ServedModels models, int[] eosIds, Metrics metrics) {
        this.tokenizer = tokenizer;
        this.tokenText = new TokenText(tokenizer);
        this.engine = engine;
        this.models = models;
        this.eosIds = eosIds.clone();
        this.metrics = metrics;
    }

    /** One prompt's choice: its inputs, then what the engine reported. */
    private final class Choice {
        final int index;
        final int[] prompt;
        final String promptText;
        final ServedModels.Resolved model;
        final TextStream text;
        final List<TokenLogprob> logprobs = new ArrayList<>();
        final List<Integer> tokens = new ArrayList<>();
        TokenLogprob[] promptLogprobs;
        volatile boolean cancelled;

        Choice(int index, int[] prompt, String promptText, ServedModels.Resolved model, StopStrings stops) {
            this.index = index;
            this.prompt = prompt;
            this.promptText = promptText;
            this.model = model;
            this.text = new TextStream(tokenizer, stops);
        }
    }

    /** What the engine thread hands the HTTP thread. */
    private record Event(Choice choice, String delta, TokenLogprob logprob, int token, Generation.Finish finish,
                         RuntimeException error, boolean prompt) {
    }

    /** Tokenizes and checks the prompts and resolves the model; fails before anything is queued. */
    List<Object> prepare(CompletionRequest req) throws ApiException, IOException {
        int context = engine.decoder().context();
        int vocab = engine.decoder().config().vocabSize();
        StopStrings stops = new StopStrings(req.stop());
        List<Object> choices = new ArrayList<>();
        for (int i = 0; i < req.prompts().size(); i++) {
            Object p = req.prompts().get(i);
            int[] ids = p instanceof String s ? tokenizer.encode(s) : (int[]) p;
            for (int id : ids) {
                if (id < 0 || id >= vocab) {
                    throw ApiException.invalid("prompt", "Token id " + id + " is out of vocabulary (size " + vocab
                            + ").");
                }
            }
            if (ids.length == 0) {
                throw ApiException.invalid("prompt", "The prompt is empty: it must have at least one token.");
            }
            if (ids.length + req.maxTokens() > context) {
                throw ApiException.invalid("prompt", "This model's maximum context length is " + context
                        + " tokens. However, you requested " + ((long) ids.length + req.maxTokens()) + " tokens ("
                        + ids.length + " in your prompt; " + req.maxTokens() + " for the completion). Please reduce"
                        + " your prompt; or completion length.");
            }
            String text = p instanceof String s ? s : tokenText.decode(ids);
            choices.add(new Choice(i, ids, text, models.resolve(req.model(), ids), stops));
        }
        return choices;
    }

    /** Queues every choice's job; events arrive on the returned queue. */
    private BlockingQueue<Event> submit(CompletionRequest req, List<Object> prepared) {
        BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        long seed = req.seed() != null ? req.seed() : new java.security.SecureRandom().nextLong();
        for (Object o : prepared) {
            Choice c = (Choice) o;
            metrics.promptTokens.addAndGet(c.prompt.length);
            Sampling sampling = new Sampling(req.maxTokens(), req.temperature(), req.topP(), seed + c.index);
            Segment.Logits promptLogits = req.echo() && req.logprobs() >= 0 ? Segment.Logits.ALL
                    : Segment.Logits.LAST;
            engine.submit(new Engine.Job(c.model.adapter(), c.prompt, sampling, eosIds, promptLogits,
                    req.logprobs(), new Engine.Listener() {
                        @Override
                        public void promptLogprobs(TokenLogprob[] lps) {
                            events.add(new Event(c, "", null, -1, null, null, true));
                            c.promptLogprobs = lps;
                        }

                        @Override
                        public boolean token(int id, TokenLogprob lp) {
                            String delta = c.text.accept(id);
                            events.add(new Event(c, delta, lp, id, null, null, false));
                            return !c.text.stopped() && !c.cancelled;
                        }

                        @Override
                        public void finished(Generation.Finish finish) {
                            events.add(new Event(c, c.text.finish(), null, -1, finish, null, false));
                        }

                        @Override
                        public void failed(RuntimeException e) {
                            events.add(new Event(c, "", null, -1, null, e, false));
                        }
                    }));
        }
        return events;
    }

    /** Runs the request to the end and returns the response body. */
    ObjectNode respond(CompletionRequest req, List<Object> prepared) throws IOException {
        String id = newId();
        BlockingQueue<Event> events = submit(req, prepared);
        int open = prepared.size();
        String[] finish = new String[prepared.size()];
        while (open > 0) {
            Event e = take(events);
            if (e.error() != null) {
                cancelAll(prepared);
                throw new IOException("Cannot complete: " + e.error().getMessage(), e.error());
            }
            record(e);
            if (e.finish() != null) {
                finish[e.choice().index] = finishReason(e.finish());
                open--;
            }
        }
        ObjectNode body = head(id, prepared, "text_completion");
        ArrayNode choices = body.putArray("choices");
        int completion = 0;
        for (Object o : prepared) {
            Choice c = (Choice) o;
            completion += c.tokens.size();
            ObjectNode ch = choices.addObject();
            ch.put("index", c.index);
            ch.put("text", (req.echo() ? c.promptText : "") + c.text.text());
            if (req.logprobs() >= 0) {
                ch.set("logprobs", logprobs(c, req.echo(), true, c.text.text()));
            } else {
                ch.putNull("logprobs");
            }
            ch.put("finish_reason", finish[c.index]);
        }
        body.set("usage", usage(prepared, completion));
        return body;
    }

    /** Streams the request's chunks into sink, then {@code [DONE]}. */
    void stream(CompletionRequest req, List<Object> prepared, Sink sink) throws IOException {
        String id = newId();
        if (req.echo() && req.logprobs() < 0) { // with logprobs, the prompt goes out when its log-probs are known
            for (Object o : prepared) {
                ObjectNode chunk = head(id, prepared, "text_completion");
                ObjectNode ch = chunk.putArray("choices").addObject();
                ch.put("index", ((Choice) o).index).put("text", ((Choice) o).promptText).putNull("logprobs")
                        .putNull("finish_reason");
                sink.event(JSON.writeValueAsString(chunk));
            }
        }
        BlockingQueue<Event> events = submit(req, prepared);
        int open = prepared.size();
        int completion = 0;
        boolean clientGone = false;
        IOException failure = null;
        while (open > 0) {
            Event e = take(events);
            Choice c = e.choice();
            if (e.error() != null) {
                failure = new IOException("Cannot complete: " + e.error().getMessage(), e.error());
                cancelAll(prepared);
                open--;
                continue;
            }
            record(e);
            if (e.token() >= 0) {
                completion++;
            }
            if (e.finish() != null) {
                open--;
            }
            String text = e.prompt() ? c.promptText : e.delta();
            boolean sendsLogprobs = req.logprobs() >= 0 && (e.prompt() || e.token() >= 0);
            if (clientGone || (text.isEmpty() && !sendsLogprobs && e.finish() == null)
                    || (e.prompt() && !req.echo())) {
                continue;
            }
            ObjectNode chunk = head(id, prepared, "text_completion");
            ObjectNode ch = chunk.putArray("choices").addObject();
            ch.put("index", c.index);
            ch.put("text", text);
            if (sendsLogprobs) {
                ch.set("logprobs", e.prompt() ? logprobs(c, true, false, "")
                        : single(e.logprob(), c.text.text().length() - e.delta().length()
                        + (req.echo() ? c.promptText.length() : 0)));
            } else {
                ch.putNull("logprobs");
            }
            if (e.finish() != null) {
                ch.put("finish_reason", finishReason(e.finish()));
            } else {
                ch.putNull("finish_reason");
            }
            try {
                sink.event(JSON.writeValueAsString(chunk));
            } catch (IOException gone) {
                clientGone = true;
                cancelAll(prepared);
            }
        }
        if (clientGone) {
            return;
        }
        if (failure != null) {
            sink.event(JSON.writeValueAsString(JSON.createObjectNode().set("error",
                    JSON.createObjectNode().put("message", failure.getMessage()).put("type", "server_error"))));
        } else if (req.includeUsage()) {
            ObjectNode chunk = head(id, prepared, "text_completion");
            chunk.putArray("choices");
            chunk.set("usage", usage(prepared, completion));
            sink.event(JSON.writeValueAsString(chunk));
        }
        sink.event("[DONE]");
    }

    private static Event take(BlockingQueue<Event> events) throws IOException {
        try {
            return events.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("Cannot complete: interrupted", e);
        }
    }

    private void record(Event e) {
        if (e.token() >= 0) {
            e.choice().tokens.add(e.token());
            e.choice().logprobs.add(e.logprob());
            metrics.completionTokens.incrementAndGet();
        }
    }

    private static void cancelAll(List<Object> prepared) {
        for (Object o : prepared) {
            ((Choice) o).cancelled = true;
        }
    }

    private static String newId() {
        return "cmpl-" + UUID.randomUUID().toString().replace("-", "");
    }

    private static ObjectNode head(String id, List<Object> prepared, String object) {
        ObjectNode body = JSON.createObjectNode();
        body.put("id", id);
        body.put("object", object);
        body.put("created", System.currentTimeMillis() / 1000);
        body.put("model", ((Choice) prepared.get(0)).model.name());
        return body;
    }

    private static ObjectNode usage(List<Object> prepared, int completion) {
        int prompt = 0;
        for (Object o : prepared) {
            prompt += ((Choice) o).prompt.length;
        }
        return JSON.createObjectNode().put("prompt_tokens", prompt).put("completion_tokens", completion)
                .put("total_tokens", prompt + completion);
    }

    private static String finishReason(Generation.Finish f) {
        return f == Generation.Finish.EOS || f == Generation.Finish.STOP ? "stop" : "length";
    }

    /** OpenAI's logprobs object over the echoed prompt (when echo) and, when {@code generated}, the tokens. */
    private ObjectNode logprobs(Choice c, boolean echo, boolean generated, String completionText) {
        ObjectNode lp = JSON.createObjectNode();
        ArrayNode tokens = lp.putArray("tokens");
        ArrayNode tokenLogprobs = lp.putArray("token_logprobs");
        ArrayNode top = lp.putArray("top_logprobs");
        ArrayNode offsets = lp.putArray("text_offset");
        if (echo) {
            int[] off = tokenText.offsets(c.prompt, 0);
            for (int t = 0; t < c.prompt.length; t++) {
                TokenLogprob p = c.promptLogprobs == null ? null : c.promptLogprobs[t];
                add(c.prompt[t], p, off[t], tokens, tokenLogprobs, top, offsets);
            }
        }
        if (generated) {
            int[] ids = c.tokens.stream().mapToInt(Integer::intValue).toArray();
            int[] off = tokenText.offsets(ids, echo ? c.promptText.length() : 0);
            for (int t = 0; t < ids.length; t++) {
                add(ids[t], c.logprobs.get(t), off[t], tokens, tokenLogprobs, top, offsets);
            }
        }
        return lp;
    }

    private ObjectNode single(TokenLogprob p, int offset) {
        ObjectNode lp = JSON.createObjectNode();
        add(p.token(), p, offset, lp.putArray("tokens"), lp.putArray("token_logprobs"), lp.putArray("top_logprobs"),
                lp.putArray("text_offset"));
        return lp;
    }

    private void add(int token, TokenLogprob p, int offset, ArrayNode tokens, ArrayNode tokenLogprobs, ArrayNode top,
                     ArrayNode offsets) {
        tokens.add(tokenText.token(token));
        offsets.add(offset);
        if (p == null) {
            tokenLogprobs.addNull();
            top.addNull();
            return;
        }
        tokenLogprobs.add(p.logprob());
        ObjectNode t = top.addObject();
        for (int i = 0; i < p.topTokens().length; i++) {
            t.put(tokenText.token(p.topTokens()[i]), p.topLogprobs()[i]);
        }
    }
}
