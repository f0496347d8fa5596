package io.sparklora.serve;

import java.io.IOException;

/** What {@code model: "auto"} asks: the name of the model (an adapter, or {@code base}) to serve a prompt with. */
interface PromptRouter {
    String choose(int[] prompt) throws IOException, ApiException;
}
