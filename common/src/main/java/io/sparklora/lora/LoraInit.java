package io.sparklora.lora;

/**
 * How A is initialised (B always starts at zero, so a fresh adapter leaves the base model unchanged). PEFT's
 * {@code init_lora_weights}: {@code true} is {@link #KAIMING_UNIFORM}, {@code "gaussian"} is {@link #GAUSSIAN}.
 */
public enum LoraInit {
    /** {@code kaiming_uniform_(A, a=√5)}, torch's default for {@code nn.Linear}: U(−1/√in, 1/√in). PEFT's default. */
    KAIMING_UNIFORM,
    /** {@code normal_(A, std=1/rank)}, PEFT's {@code init_lora_weights="gaussian"}. */
    GAUSSIAN
}
