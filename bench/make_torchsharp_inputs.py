"""Writes the inputs of bench/torchsharp_bench.sh (WeightScope.TorchSharp against TorchSharp.PyBridge).

  gpt2-small-tied.pt / gpt2-small-untied.pt    12 layers, d=768   (~124M parameters; untied adds a 38.6M lm_head)
  gpt2-medium-tied.pt / gpt2-medium-untied.pt  24 layers, d=1024  (~355M parameters; untied adds a 51.5M lm_head)
  resnet18.pt / resnet50.pt                    torchvision.models.resnetNN().state_dict() (random init, no download)

Unlike make_gpt2_like.py (zeros: only names and shapes matter to a listing), values here are random, N(0, 0.02)
for matrices and around 1 for LayerNorm weights, so the loaders' per-tensor sums prove they read the same bytes.
"Tied" is how Hugging Face saves GPT2LMHeadModel: lm_head.weight is the very tensor transformer.wte.weight is, so
torch.save writes one storage for both keys. "Untied" gives lm_head its own storage.
Run with Debian's interpreter: /usr/bin/python3 bench/make_torchsharp_inputs.py [OUT_DIR]  (default /tmp/ws-ts-bench)
"""
import os
import sys
from collections import OrderedDict

import torch
import torchvision


def randn(*shape):
    return torch.empty(*shape).normal_(0.0, 0.02)


def gpt2_state_dict(n_layer, d, tied, vocab=50257, ctx=1024):
    sd = OrderedDict()
    sd["transformer.wte.weight"] = randn(vocab, d)
    sd["transformer.wpe.weight"] = randn(ctx, d)
    for i in range(n_layer):
        p = f"transformer.h.{i}."
        sd[p + "ln_1.weight"] = 1 + randn(d)
        sd[p + "ln_1.bias"] = randn(d)
        # HF GPT-2's causal mask buffer, saved by transformers < 4.31 (persistent), bool [1, 1, ctx, ctx]
        sd[p + "attn.bias"] = torch.tril(torch.ones(ctx, ctx, dtype=torch.bool)).view(1, 1, ctx, ctx)
        sd[p + "attn.c_attn.weight"] = randn(d, 3 * d)
        sd[p + "attn.c_attn.bias"] = randn(3 * d)
        sd[p + "attn.c_proj.weight"] = randn(d, d)
        sd[p + "attn.c_proj.bias"] = randn(d)
        sd[p + "ln_2.weight"] = 1 + randn(d)
        sd[p + "ln_2.bias"] = randn(d)
        sd[p + "mlp.c_fc.weight"] = randn(d, 4 * d)
        sd[p + "mlp.c_fc.bias"] = randn(4 * d)
        sd[p + "mlp.c_proj.weight"] = randn(4 * d, d)
        sd[p + "mlp.c_proj.bias"] = randn(d)
    sd["transformer.ln_f.weight"] = 1 + randn(d)
    sd["transformer.ln_f.bias"] = randn(d)
    sd["lm_head.weight"] = sd["transformer.wte.weight"] if tied else randn(vocab, d)
    return sd


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/ws-ts-bench"
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(19)
    jobs = []
    for size, n_layer, d in [("small", 12, 768), ("medium", 24, 1024)]:
        for tied in (True, False):
            name = f"gpt2-{size}-{'tied' if tied else 'untied'}.pt"
            jobs.append((name, lambda n=n_layer, dd=d, t=tied: gpt2_state_dict(n, dd, t)))
    jobs.append(("resnet18.pt", lambda: torchvision.models.resnet18().state_dict()))
    jobs.append(("resnet50.pt", lambda: torchvision.models.resnet50().state_dict()))
    for name, make in jobs:
        path = os.path.join(out, name)
        if not os.path.exists(path):
            tmp = path + ".tmp"
            torch.save(make(), tmp)
            os.replace(tmp, path)
        print(path, os.path.getsize(path))


if __name__ == "__main__":
    main()
