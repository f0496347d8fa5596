package io.sparklora.job;

import io.sparklora.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Everything an exact resume needs, as written to and read from a checkpoint: after loading it, the next step computes
 * bit for bit what the uninterrupted run computed.
 *
 * @param adapterName     the adapter
 * @param step            optimizer steps completed
 * @param totalSteps      steps of the whole run (a resume with another length is refused)
 * @param runFingerprint  SHA-256 (hex) of the spec and the packed windows: a resume with other settings or data is
 *                        refused
 * @param adamStep        AdamW's update count (bias correction)
 * @param dropoutRngState state of the model's dropout generator
 * @param data            position of the data-order stream
 * @param parameters      trainable tensors by name (LoRA A/B by PEFT key, or base weights by HF key)
 * @param adamM           AdamW first moments by parameter name
 * @param adamV           AdamW second moments by parameter name
 * @param trainHistory    training loss per step so far
 * @param heldOutHistory  held-out losses so far
 */
public record TrainerState(String adapterName, int step, int totalSteps, String runFingerprint, long adamStep,
                           long dropoutRngState, BatchStream.Position data, Map<String, Tensor> parameters,
                           Map<String, Tensor> adamM, Map<String, Tensor> adamV, List<LossPoint> trainHistory,
                           List<LossPoint> heldOutHistory) {

    /** SHA-256 over the spec's text and every window's tokens and targets, training then held-out. */
    static String fingerprint(TrainSpec spec, PackedData data) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
        sha.update(spec.toString().getBytes(StandardCharsets.UTF_8));
        ByteBuffer buf = ByteBuffer.allocate(2 * 4 * spec.seqLen() + 4);
        for (List<Window> part : List.of(data.train(), data.heldOut())) {
            buf.clear();
            buf.putInt(part.size());
            sha.update(buf.array(), 0, 4);
            for (Window w : part) {
                buf.clear();
                buf.asIntBuffer().put(w.inputs()).put(w.targets());
                sha.update(buf.array(), 0, 2 * 4 * w.seqLen());
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
