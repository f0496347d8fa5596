# Regenerates reference.safetensors with the reference implementation (pip install safetensors numpy).
# SafeTensorsReferenceFileTest states the same values independently; keep the two in step.
import numpy as np
from safetensors.numpy import save_file

tensors = {
    "f32": np.arange(6, dtype=np.float32).reshape(2, 3) * np.float32(0.5) - np.float32(1.0),
    "f16": np.array([1.0, -2.0, 2.0**-24, 65504.0, np.inf, -0.0], dtype=np.float16),
    "f64": np.array([0.1, -1e300], dtype=np.float64),
    "i64": np.array([[-3], [1 << 40]], dtype=np.int64),
    "i32": np.array([-7, 7], dtype=np.int32),
    "u8": np.array([0, 255], dtype=np.uint8),
    "i8": np.array([-128, 127], dtype=np.int8),
    "mask": np.array([True, False, True], dtype=np.bool_),
    "scalar": np.array(3.25, dtype=np.float32),
    "empty": np.zeros((0, 4), dtype=np.float32),
}
save_file(tensors, "reference.safetensors", metadata={"format": "np", "source": "safetensors 0.8.0"})
