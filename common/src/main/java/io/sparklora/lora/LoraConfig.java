package io.sparklora.lora;

/** Placeholder so the skeleton compiles; replaced by the LoRA configuration record. */
public record LoraConfig(int rank, float alpha) {
}
