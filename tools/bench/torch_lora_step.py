#!/usr/bin/env python3
"""The PyTorch side of `submit/bench-vs-pytorch`: the same LoRA training step as `spark-lora bench --preset P`.

A randomly initialised LLaMA block stack (byte vocabulary 256, RMSNorm eps 1e-6, RoPE theta 10000 rotating halves as
HF does, SwiGLU MLP, untied LM head), frozen; LoRA r = 8, alpha = 16 on q_proj and v_proj (B·A·x, B = 0 at init as
PEFT); AdamW (lr 1e-3, no weight decay) on A and B only, global gradient norm clipped to 1.0; mean cross-entropy over
batch x seq next-token targets. Eager attention (softmax of masked scores), as our trainer computes it.

Prints one JSON line: preset, torch version, threads, median step seconds and tokens/s over the measured steps, on
the wall clock and on the main thread's CPU clock (cpu_*: at one thread PyTorch computes in the caller, so this is the
figure a loaded machine leaves comparable, as bench's cpu_* keys).
Written for this comparison, not taken from elsewhere; shapes must follow io.sparklora.job.Bench.Preset.
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn.functional as F

# (dim, layers, heads, ffn, seq, batch, measured steps) as Bench.Preset
PRESETS = {
    "tiny": (256, 4, 4, 688, 128, 8, 12),
    "small": (512, 8, 8, 1376, 256, 4, 6),
}
VOCAB = 256
RANK = 8
ALPHA = 16
EPS = 1e-6
THETA = 10000.0


class LoraLinear(torch.nn.Module):
    def __init__(self, inp, out, adapted):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(out, inp) * 0.02, requires_grad=False)  # (out, in)
        self.adapted = adapted
        if adapted:
            bound = 1.0 / math.sqrt(inp)
            self.lora_a = torch.nn.Parameter(torch.empty(RANK, inp).uniform_(-bound, bound))  # (rank, in)
            self.lora_b = torch.nn.Parameter(torch.zeros(out, RANK))  # (out, rank)

    def forward(self, x):
        y = x @ self.weight.t()
        if self.adapted:
            y = y + (ALPHA / RANK) * ((x @ self.lora_a.t()) @ self.lora_b.t())
        return y


def rms_norm(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * w


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Block(torch.nn.Module):
    def __init__(self, dim, heads, ffn):
        super().__init__()
        self.heads = heads
        self.w1 = torch.nn.Parameter(torch.ones(dim), requires_grad=False)
        self.w2 = torch.nn.Parameter(torch.ones(dim), requires_grad=False)
        self.q = LoraLinear(dim, dim, True)
        self.k = LoraLinear(dim, dim, False)
        self.v = LoraLinear(dim, dim, True)
        self.o = LoraLinear(dim, dim, False)
        self.gate = LoraLinear(dim, ffn, False)
        self.up = LoraLinear(dim, ffn, False)
        self.down = LoraLinear(ffn, dim, False)

    def forward(self, x, cos, sin, mask):
        b, s, d = x.shape
        hd = d // self.heads
        n = rms_norm(x, self.w1)
        q = self.q(n).view(b, s, self.heads, hd).transpose(1, 2)  # (b, heads, s, hd)
        k = self.k(n).view(b, s, self.heads, hd).transpose(1, 2)
        v = self.v(n).view(b, s, self.heads, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(hd) + mask  # (b, heads, s, s)
        attn = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(b, s, d)
        h = x + self.o(attn)
        n2 = rms_norm(h, self.w2)
        return h + self.down(F.silu(self.gate(n2)) * self.up(n2))


class Model(torch.nn.Module):
    def __init__(self, dim, layers, heads, ffn, seq):
        super().__init__()
        self.embed = torch.nn.Parameter(torch.randn(VOCAB, dim) * 0.02, requires_grad=False)
        self.blocks = torch.nn.ModuleList(Block(dim, heads, ffn) for _ in range(layers))
        self.norm = torch.nn.Parameter(torch.ones(dim), requires_grad=False)
        self.head = torch.nn.Parameter(torch.randn(VOCAB, dim) * 0.02, requires_grad=False)
        hd = dim // heads
        inv = 1.0 / (THETA ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
        ang = torch.outer(torch.arange(seq, dtype=torch.float32), inv)
        emb = torch.cat((ang, ang), dim=-1)  # (seq, hd)
        self.register_buffer("cos", emb.cos())
        self.register_buffer("sin", emb.sin())
        self.register_buffer("mask", torch.full((seq, seq), float("-inf")).triu(1))

    def forward(self, tokens):
        x = self.embed[tokens]
        for blk in self.blocks:
            x = blk(x, self.cos, self.sin, self.mask)
        return rms_norm(x, self.norm) @ self.head.t()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", choices=sorted(PRESETS), default="small")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=None, help="measured steps (default: the preset's)")
    args = p.parse_args()
    if args.threads < 1:
        sys.exit("Cannot run the PyTorch step: --threads expects a positive number, got %d" % args.threads)
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    dim, layers, heads, ffn, seq, batch, steps = PRESETS[args.preset]
    steps = args.steps or steps
    model = Model(dim, layers, heads, ffn, seq)
    params = [q for q in model.parameters() if q.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.0, betas=(0.9, 0.999), eps=1e-8)
    warmup = 2
    tokens = torch.randint(0, VOCAB, (warmup + steps, batch, seq + 1))
    times, cpu = [], []
    for i in range(warmup + steps):
        t0, c0 = time.perf_counter(), time.thread_time()
        inp, tgt = tokens[i, :, :-1], tokens[i, :, 1:]
        logits = model(inp)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), tgt.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
    times.sort()
    cpu.sort()
    step = times[len(times) // 2]
    cpu_step = cpu[len(cpu) // 2]
    print(json.dumps({"preset": args.preset, "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "step_s": round(step, 5), "tokens_per_s": round(batch * seq / step, 1),
                      "cpu_step_s": round(cpu_step, 5), "cpu_tokens_per_s": round(batch * seq / cpu_step, 1)}))


if __name__ == "__main__":
    main()
