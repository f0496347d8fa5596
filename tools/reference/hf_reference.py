#!/usr/bin/env python3
"""Independent numpy reference for `spark-lora score`: the mean next-token loss of a Hugging Face LLaMA, Mistral,
Qwen2, Qwen3 or GPT-2 checkpoint (config.json + model.safetensors), optionally with a PEFT LoRA adapter, over a text file's UTF-8 bytes.

Written from transformers' modeling_llama.py / modeling_mistral.py / modeling_qwen2.py / modeling_qwen3.py /
modeling_gpt2.py / modeling_rope_utils.py (rope_scaling linear and llama3) and PEFT's lora.Linear, in float64. Window rule:
consecutive non-overlapping windows of T tokens (the last may be shorter); a window of length L >= 2 predicts its
tokens 1..L-1 from their prefix inside the window. Prints {"tokens_scored": n, "mean_loss": x, "perplexity": p}.

usage: hf_reference.py --model DIR [--adapter DIR] --text-file F [--seq 128]
"""
import argparse, json, math, os, re, struct, sys
import numpy as np

DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}


def read_safetensors(path):
    """name -> float64 array; parsed by hand: u64 LE header length, JSON header, then the data buffer."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data, out = raw[8 + n:], {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        buf = data[begin:end]
        if info["dtype"] == "BF16":  # bfloat16 is the top half of a float32
            arr = (np.frombuffer(buf, "<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            arr = np.frombuffer(buf, np.dtype(DTYPES[info["dtype"]]).newbyteorder("<"))
        out[name] = arr.astype(np.float64).reshape(info["shape"])
    return out


def load_weights(model_dir):
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if not os.path.exists(index):
        return read_safetensors(os.path.join(model_dir, "model.safetensors"))
    w = {}
    for shard in sorted(set(json.load(open(index))["weight_map"].values())):
        w.update(read_safetensors(os.path.join(model_dir, shard)))
    return w


def load_adapter(adapter_dir):
    """module path -> (A (r, in), B (out, r), scaling), with PEFT's rank/alpha patterns and rsLoRA."""
    cfg = json.load(open(os.path.join(adapter_dir, "adapter_config.json")))
    tensors = read_safetensors(os.path.join(adapter_dir, "adapter_model.safetensors"))
    alpha_pattern = cfg.get("alpha_pattern") or {}
    lora = {}
    for key, a in tensors.items():
        m = re.fullmatch(r"base_model\.model\.(.+)\.lora_A(?:\.default)?\.weight", key)
        if not m:
            continue
        path = m.group(1)
        b = tensors[key.replace("lora_A", "lora_B")]
        r = a.shape[0]
        alpha = next((v for k, v in alpha_pattern.items() if re.match(rf"(.*\.)?{k}$", path)), cfg["lora_alpha"])
        lora[path] = (a, b, alpha / math.sqrt(r) if cfg.get("use_rslora") else alpha / r)
    return lora


def linear(w, lora, used, x, path, conv1d, bias):
    """torch Linear: x W^T (W is (out, in)); GPT-2 Conv1D: x W (W is (in, out)); plus PEFT's s * (x A^T) B^T."""
    y = x @ (w[path + ".weight"] if conv1d else w[path + ".weight"].T)
    if bias:
        y = y + w[path + ".bias"]
    if path in lora:
        a, b, s = lora[path]
        used.add(path)
        y = y + s * ((x @ a.T) @ b.T)
    return y


def attention(q, k, v, heads, kv_heads, hd):
    """Causal eager attention; query head h reads key/value head h // (heads / kv_heads) (repeat_kv)."""
    n = q.shape[0]
    q = q.reshape(n, heads, hd).transpose(1, 0, 2)
    k = np.repeat(k.reshape(n, kv_heads, hd).transpose(1, 0, 2), heads // kv_heads, axis=0)
    v = np.repeat(v.reshape(n, kv_heads, hd).transpose(1, 0, 2), heads // kv_heads, axis=0)
    s = q @ k.transpose(0, 2, 1) / math.sqrt(hd)
    s = np.where(np.tril(np.ones((n, n), bool)), s, -np.inf)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    return (p @ v).transpose(1, 0, 2).reshape(n, heads * hd)


def rms_norm(x, g, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * g


def layer_norm(x, g, b, eps):
    mu = x.mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + eps) * g + b


def inv_freq(c, hd):
    """rope_theta ** (-2i/d), then rope_scaling: linear divides by factor; llama3 by wavelength band."""
    f = c.get("rope_theta", 10000.0) ** (-np.arange(0, hd, 2) / hd)
    rs = c.get("rope_scaling") or {"rope_type": "default"}
    kind = rs.get("rope_type", rs.get("type"))
    if kind == "default":
        return f
    if kind == "linear":
        return f / rs["factor"]
    if kind == "llama3":
        old, lo, hi, fac = rs["original_max_position_embeddings"], rs["low_freq_factor"], rs["high_freq_factor"], rs["factor"]
        wl = 2 * math.pi / f
        smooth = (old / wl - lo) / (hi - lo)
        return np.where(wl > old / lo, f / fac, np.where(wl < old / hi, f, (1 - smooth) * f / fac + smooth * f))
    sys.exit("Cannot score: rope_scaling %s is not supported by this reference" % rs)


def llama_logits(c, w, lora, used, tokens):
    """LLaMA's block; Qwen2: q/k/v biases; Qwen3: RMSNorm per head of q and k before RoPE (head_dim default 128)."""
    mt, heads, hidden = c["model_type"], c["num_attention_heads"], c["hidden_size"]
    kv = c.get("num_key_value_heads") or {"mistral": 8, "qwen2": 32, "qwen3": 32}.get(mt, heads)
    hd = c.get("head_dim") or (128 if mt == "qwen3" else hidden // heads)
    eps, ab, mb = c.get("rms_norm_eps", 1e-6), c.get("attention_bias", False), c.get("mlp_bias", False)
    qkv_bias = ab or mt == "qwen2"
    n = len(tokens)
    ang = np.arange(n)[:, None] * inv_freq(c, hd)
    cos, sin = np.cos(np.concatenate([ang, ang], 1)), np.sin(np.concatenate([ang, ang], 1))

    def rope(x, nh):  # HF rotate_half: x*cos + cat(-x2, x1)*sin, per head
        x = x.reshape(n, nh, hd)
        rot = np.concatenate([-x[..., hd // 2:], x[..., :hd // 2]], -1)
        return (x * cos[:, None] + rot * sin[:, None]).reshape(n, nh * hd)

    h = w["model.embed_tokens.weight"][tokens]
    for l in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % l
        x = rms_norm(h, w[p + "input_layernorm.weight"], eps)
        q = linear(w, lora, used, x, p + "self_attn.q_proj", False, qkv_bias)
        k = linear(w, lora, used, x, p + "self_attn.k_proj", False, qkv_bias)
        if mt == "qwen3":
            q = rms_norm(q.reshape(n, heads, hd), w[p + "self_attn.q_norm.weight"], eps).reshape(n, heads * hd)
            k = rms_norm(k.reshape(n, kv, hd), w[p + "self_attn.k_norm.weight"], eps).reshape(n, kv * hd)
        q, k = rope(q, heads), rope(k, kv)
        v = linear(w, lora, used, x, p + "self_attn.v_proj", False, qkv_bias)
        h = h + linear(w, lora, used, attention(q, k, v, heads, kv, hd), p + "self_attn.o_proj", False, ab)
        x = rms_norm(h, w[p + "post_attention_layernorm.weight"], eps)
        g = linear(w, lora, used, x, p + "mlp.gate_proj", False, mb)
        up = linear(w, lora, used, x, p + "mlp.up_proj", False, mb)
        h = h + linear(w, lora, used, g / (1 + np.exp(-g)) * up, p + "mlp.down_proj", False, mb)
    head = w["model.embed_tokens.weight"] if c.get("tie_word_embeddings", False) else w["lm_head.weight"]
    return rms_norm(h, w["model.norm.weight"], eps) @ head.T


def gpt2_logits(c, w, lora, used, tokens):
    d, heads, eps = c["n_embd"], c["n_head"], c.get("layer_norm_epsilon", 1e-5)
    w = {k if k.startswith(("transformer.", "lm_head")) else "transformer." + k: v for k, v in w.items()}
    h = w["transformer.wte.weight"][tokens] + w["transformer.wpe.weight"][: len(tokens)]
    for l in range(c["n_layer"]):
        p = "transformer.h.%d." % l
        x = layer_norm(h, w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        qkv = linear(w, lora, used, x, p + "attn.c_attn", True, True)  # split into q | k | v along the last axis
        a = attention(qkv[:, :d], qkv[:, d:2 * d], qkv[:, 2 * d:], heads, heads, d // heads)
        h = h + linear(w, lora, used, a, p + "attn.c_proj", True, True)
        x = layer_norm(h, w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        f = linear(w, lora, used, x, p + "mlp.c_fc", True, True)
        f = 0.5 * f * (1 + np.tanh(math.sqrt(2 / math.pi) * (f + 0.044715 * f ** 3)))  # gelu_new
        h = h + linear(w, lora, used, f, p + "mlp.c_proj", True, True)
    return layer_norm(h, w["transformer.ln_f.weight"], w["transformer.ln_f.bias"], eps) @ w["transformer.wte.weight"].T


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--adapter")
    ap.add_argument("--text-file", required=True)
    ap.add_argument("--seq", type=int, default=128)
    args = ap.parse_args()
    if os.path.exists(os.path.join(args.model, "tokenizer.json")):
        sys.exit("Cannot score: %s has a tokenizer.json; this reference only scores UTF-8 byte ids" % args.model)
    c = json.load(open(os.path.join(args.model, "config.json")))
    forward = {"llama": llama_logits, "mistral": llama_logits, "qwen2": llama_logits, "qwen3": llama_logits,
               "gpt2": gpt2_logits}[c["model_type"]]
    w = load_weights(args.model)
    lora = load_adapter(args.adapter) if args.adapter else {}
    tokens = np.frombuffer(open(args.text_file, "rb").read(), np.uint8).astype(np.int64)
    if len(tokens) < 2:
        sys.exit("Cannot score %s: need at least 2 tokens, got %d" % (args.text_file, len(tokens)))
    total, count, used = 0.0, 0, set()
    for start in range(0, len(tokens), args.seq):
        win = tokens[start:start + args.seq]
        if len(win) < 2:
            continue
        z = forward(c, w, lora, used, win)[:-1]
        zmax = z.max(-1, keepdims=True)
        logp = z - zmax - np.log(np.exp(z - zmax).sum(-1, keepdims=True))
        total -= logp[np.arange(len(win) - 1), win[1:]].sum()
        count += len(win) - 1
    if set(lora) - used:
        sys.exit("Cannot apply adapter %s: no linear layer at %s" % (args.adapter, sorted(set(lora) - used)))
    mean = total / count
    print(json.dumps({"tokens_scored": count, "mean_loss": mean, "perplexity": math.exp(mean)}))


if __name__ == "__main__":
    main()
