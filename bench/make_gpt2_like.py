"""Writes GPT-2-like state dicts for the listing benchmark (names and shapes of HF GPT-2; values are zeros).

  small:  12 layers, d=768   (~124M parameters, ~0.5 GB)
  medium: 24 layers, d=1024  (~355M parameters, ~1.4 GB)
Run with Debian's interpreter: /usr/bin/python3 bench/make_gpt2_like.py OUT_DIR
"""
import os
import sys
from collections import OrderedDict

import torch


def gpt2_state_dict(n_layer, d, vocab=50257, ctx=1024):
    sd = OrderedDict()
    sd["transformer.wte.weight"] = torch.zeros(vocab, d)
    sd["transformer.wpe.weight"] = torch.zeros(ctx, d)
    for i in range(n_layer):
        p = f"transformer.h.{i}."
        sd[p + "ln_1.weight"] = torch.ones(d)
        sd[p + "ln_1.bias"] = torch.zeros(d)
        sd[p + "attn.bias"] = torch.tril(torch.ones(ctx, ctx, dtype=torch.bool)).view(1, 1, ctx, ctx)
        sd[p + "attn.c_attn.weight"] = torch.zeros(d, 3 * d)
        sd[p + "attn.c_attn.bias"] = torch.zeros(3 * d)
        sd[p + "attn.c_proj.weight"] = torch.zeros(d, d)
        sd[p + "attn.c_proj.bias"] = torch.zeros(d)
        sd[p + "ln_2.weight"] = torch.ones(d)
        sd[p + "ln_2.bias"] = torch.zeros(d)
        sd[p + "mlp.c_fc.weight"] = torch.zeros(d, 4 * d)
        sd[p + "mlp.c_fc.bias"] = torch.zeros(4 * d)
        sd[p + "mlp.c_proj.weight"] = torch.zeros(4 * d, d)
        sd[p + "mlp.c_proj.bias"] = torch.zeros(d)
    sd["transformer.ln_f.weight"] = torch.ones(d)
    sd["transformer.ln_f.bias"] = torch.zeros(d)
    sd["lm_head.weight"] = sd["transformer.wte.weight"]  # tied, as in GPT-2
    return sd


out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "data")
os.makedirs(out, exist_ok=True)
for name, n_layer, d in [("gpt2-small-like.pt", 12, 768), ("gpt2-medium-like.pt", 24, 1024)]:
    path = os.path.join(out, name)
    if not os.path.exists(path):
        torch.save(gpt2_state_dict(n_layer, d), path)
    print(path, os.path.getsize(path))
