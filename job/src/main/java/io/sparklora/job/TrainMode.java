package io.sparklora.job;

/** What a run trains: the LoRA matrices of an adapter over a frozen base, or every weight of the model. */
public enum TrainMode {
    /** Only LoRA A and B change; the base stays bit-identical. */
    LORA,
    /** Every base weight is trainable (pretraining a small base, or the full fine-tuning corner of the plane). */
    FULL_WEIGHTS
}
