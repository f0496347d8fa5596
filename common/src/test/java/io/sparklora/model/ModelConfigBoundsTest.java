package io.sparklora.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/**
 * Regressions the config.json fuzzer found: a config claiming a million layers parsed, then listing its modules (7
 * million of them) took the heap; widths whose product overflows an int became negative module sizes.
 */
class ModelConfigBoundsTest {
    private static final String FILE = "x/config.json";

    private static String refusal(String json) {
        return assertThrows(IllegalArgumentException.class, () -> Checkpoints.parseConfig(json, FILE)).getMessage();
    }

    private static String llama(String layers, String heads, String headDim) {
        return "{\"model_type\":\"llama\",\"vocab_size\":64,\"hidden_size\":32,\"intermediate_size\":48,"
                + "\"num_hidden_layers\":" + layers + ",\"num_attention_heads\":" + heads + ",\"num_key_value_heads\":"
                + heads + ",\"head_dim\":" + headDim + "}";
    }

    @Test
    void tooManyLayersIsRefused() {
        assertEquals("Cannot read model config x/config.json: Invalid num_hidden_layers 1000000: must be at most 4096",
                refusal(llama("1000000", "4", "8")));
        assertEquals(4096, Checkpoints.parseConfig(llama("4096", "4", "8"), FILE).numLayers());
    }

    @Test
    void attentionWidthOverflowingAnIntIsRefused() {
        assertEquals("Cannot read model config x/config.json: Invalid num_attention_heads x head_dim = 4294967296: "
                + "must be below 2^31", refusal(llama("2", "65536", "65536")));
    }

    @Test
    void gpt2WidthsAreBoundedToo() {
        String gpt2 = "{\"model_type\":\"gpt2\",\"vocab_size\":64,\"n_embd\":1000000000,\"n_layer\":2,\"n_head\":1,"
                + "\"n_inner\":4}";
        assertEquals("Cannot read model config x/config.json: Invalid 3 x n_embd (the width of c_attn) = 3000000000: "
                + "must be below 2^31", refusal(gpt2));
        assertEquals("Cannot read model config x/config.json: Invalid n_layer 5000: must be at most 4096",
                refusal(gpt2.replace("1000000000", "32").replace("\"n_layer\":2", "\"n_layer\":5000")));
    }
}
