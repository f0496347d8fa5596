package io.sparklora.serve;

import java.util.List;

/**
 * How {@code serve} runs.
 *
 * @param host          address to bind (loopback by default: exposing a server is a decision)
 * @param port          0 picks a free port
 * @param cacheBytes    RAM budget of the adapter cache
 * @param pin           adapters loaded at start and never evicted
 * @param merge         null, or the one adapter to serve merged into the base
 * @param maxBatch      sequences decoded together
 * @param queueCapacity requests waiting beyond the running batch before 429
 * @param maxBodyBytes  larger request bodies are refused (413) before they are read
 * @param apiKey        null, or the bearer key every /v1 request must carry
 */
public record ServeOptions(String host, int port, long cacheBytes, List<String> pin, String merge, int maxBatch,
                           int queueCapacity, int maxBodyBytes, String apiKey) {
    public static final long DEFAULT_CACHE_BYTES = 1L << 30;

    public ServeOptions {
        pin = List.copyOf(pin);
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("Invalid port " + port + ": must be between 0 and 65535");
        }
        if (cacheBytes < 0) {
            throw new IllegalArgumentException("Invalid cache bytes " + cacheBytes + ": must be >= 0");
        }
        if (maxBatch < 1) {
            throw new IllegalArgumentException("Invalid max batch " + maxBatch + ": must be >= 1");
        }
        if (queueCapacity < 1) {
            throw new IllegalArgumentException("Invalid queue capacity " + queueCapacity + ": must be >= 1");
        }
        if (maxBodyBytes < 1) {
            throw new IllegalArgumentException("Invalid max body bytes " + maxBodyBytes + ": must be >= 1");
        }
        if (merge != null && !pin.isEmpty()) {
            throw new IllegalArgumentException("Invalid options: --pin has no meaning with --merge (one adapter, "
                    + "merged into the base)");
        }
    }

    /** Loopback, port 8000, 1 GiB of adapters, batches of 32, 256 waiting, 1 MiB bodies, no key. */
    public static ServeOptions defaults() {
        return new ServeOptions("127.0.0.1", 8000, DEFAULT_CACHE_BYTES, List.of(), null, 32, 256, 1 << 20, null);
    }

    public ServeOptions withPort(int p) {
        return new ServeOptions(host, p, cacheBytes, pin, merge, maxBatch, queueCapacity, maxBodyBytes, apiKey);
    }

    public ServeOptions withHost(String h) {
        return new ServeOptions(h, port, cacheBytes, pin, merge, maxBatch, queueCapacity, maxBodyBytes, apiKey);
    }

    public ServeOptions withCacheBytes(long b) {
        return new ServeOptions(host, port, b, pin, merge, maxBatch, queueCapacity, maxBodyBytes, apiKey);
    }

    public ServeOptions withPin(List<String> p) {
        return new ServeOptions(host, port, cacheBytes, p, merge, maxBatch, queueCapacity, maxBodyBytes, apiKey);
    }

    public ServeOptions withMerge(String m) {
        return new ServeOptions(host, port, cacheBytes, pin, m, maxBatch, queueCapacity, maxBodyBytes, apiKey);
    }

    public ServeOptions withMaxBatch(int n) {
        return new ServeOptions(host, port, cacheBytes, pin, merge, n, queueCapacity, maxBodyBytes, apiKey);
    }

    public ServeOptions withQueueCapacity(int n) {
        return new ServeOptions(host, port, cacheBytes, pin, merge, maxBatch, n, maxBodyBytes, apiKey);
    }

    public ServeOptions withMaxBodyBytes(int n) {
        return new ServeOptions(host, port, cacheBytes, pin, merge, maxBatch, queueCapacity, n, apiKey);
    }

    public ServeOptions withApiKey(String k) {
        return new ServeOptions(host, port, cacheBytes, pin, merge, maxBatch, queueCapacity, maxBodyBytes, k);
    }

    /** "123", "64k", "512m", "2g" (binary multiples) as bytes. */
    public static long parseSize(String s) {
        String t = s.trim().toLowerCase(java.util.Locale.ROOT);
        long mult = 1;
        if (t.endsWith("k") || t.endsWith("m") || t.endsWith("g")) {
            mult = switch (t.charAt(t.length() - 1)) {
                case 'k' -> 1L << 10;
                case 'm' -> 1L << 20;
                default -> 1L << 30;
            };
            t = t.substring(0, t.length() - 1);
        }
        try {
            long v = Long.parseLong(t);
            if (v < 0) {
                throw new NumberFormatException();
            }
            return Math.multiplyExact(v, mult);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("Invalid size " + s + ": expected bytes, or a number with a k, m or g "
                    + "suffix (e.g. 512m)");
        }
    }
}
