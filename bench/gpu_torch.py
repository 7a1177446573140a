#!/usr/bin/env python3
"""The PyTorch side of bench/gpu-check.sh: BERT (post-LayerNorm encoder, erf GELU) in float32 on CUDA, built from the
same model.safetensors as MixLens (read here with json + torch, no safetensors/transformers packages needed), timed
with eager attention (softmax(QKᵀ/√d)V written out) and with F.scaled_dot_product_attention, and checked against
MixLens's last hidden state of the b1 n128 input (ids and hidden state written by `MixLens.Bench gpu time --dump`).
TF32 is off (torch's default for matmul; set explicitly), so both sides do float32 arithmetic.

    python3 bench/gpu_torch.py --model DIR [--dump DIR] [--shapes b1n128,b32n128,b32n512] [--runs 5]
Prints Markdown table rows: | engine | device | workload | median ms | min ms | runs |
"""
import argparse, json, math, os, statistics, struct, sys, time


def load_safetensors(path, torch):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        assert info["dtype"] == "F32", f"{name}: dtype {info['dtype']} (expected F32)"
        tensors[name] = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32).reshape(info["shape"])
    return tensors


def build(weights, config, torch, F, sdpa):
    d, H, L = config["hidden_size"], config["num_attention_heads"], config["num_hidden_layers"]
    eps, dh = config["layer_norm_eps"], config["hidden_size"] // config["num_attention_heads"]
    p = "bert." if any(k.startswith("bert.") for k in weights) else ""
    w = lambda name: weights[p + name]

    def forward(ids):                                   # ids [B, n] int64 on the device
        B, n = ids.shape
        pos = torch.arange(n, device=ids.device)
        x = w("embeddings.word_embeddings.weight")[ids] + w("embeddings.position_embeddings.weight")[pos] \
            + w("embeddings.token_type_embeddings.weight")[0]
        x = F.layer_norm(x, (d,), w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"), eps)
        for i in range(L):
            l = f"encoder.layer.{i}."
            lin = lambda t, name: F.linear(t, w(l + name + ".weight"), w(l + name + ".bias"))
            split = lambda t: t.view(B, n, H, dh).transpose(1, 2)                 # [B, H, n, dh]
            q, k, v = split(lin(x, "attention.self.query")), split(lin(x, "attention.self.key")), split(lin(x, "attention.self.value"))
            if sdpa:
                ctx = F.scaled_dot_product_attention(q, k, v)
            else:
                ctx = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh), dim=-1) @ v
            ctx = ctx.transpose(1, 2).reshape(B, n, d)
            x = F.layer_norm(lin(ctx, "attention.output.dense") + x, (d,), w(l + "attention.output.LayerNorm.weight"),
                             w(l + "attention.output.LayerNorm.bias"), eps)
            h = F.gelu(lin(x, "intermediate.dense"))
            x = F.layer_norm(lin(h, "output.dense") + x, (d,), w(l + "output.LayerNorm.weight"), w(l + "output.LayerNorm.bias"), eps)
        return x
    return forward


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--dump")
    ap.add_argument("--shapes", default="b1n128,b32n128,b32n512")
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        print("| pytorch | (not installed) | skipped | | | |")
        return 0
    if not torch.cuda.is_available():
        print("| pytorch | (no CUDA device) | skipped | | | |")
        return 0
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = torch.device("cuda")
    name = f"torch {torch.__version__}, {torch.cuda.get_device_name(0)}"
    config = json.load(open(os.path.join(a.model, "config.json")))
    weights = {k: t.to(dev) for k, t in load_safetensors(os.path.join(a.model, "model.safetensors"), torch).items()}
    gen = torch.Generator().manual_seed(11)
    with torch.inference_mode():
        for sdpa in (False, True):
            forward = build(weights, config, torch, F, sdpa)
            label = "sdpa" if sdpa else "eager"
            if a.dump and os.path.exists(os.path.join(a.dump, "ids_b1_n128.i32")):
                ids = torch.frombuffer(bytearray(open(os.path.join(a.dump, "ids_b1_n128.i32"), "rb").read()), dtype=torch.int32)
                got = forward(ids.long().view(1, -1).to(dev))[0].float().cpu()
                for f in sorted(os.listdir(a.dump)):
                    if f.startswith("hidden_b1_n128.") and f.endswith(".f32"):
                        ref = torch.frombuffer(bytearray(open(os.path.join(a.dump, f), "rb").read()), dtype=torch.float32).view_as(got)
                        print(f"// parity: pytorch {label} vs mixlens ({f.split('.')[1]}) b1 n128 last hidden state: "
                              f"max |diff| {(got - ref).abs().max().item():.3g}", file=sys.stderr)
            for shape in a.shapes.split(","):
                b, n = (int(x) for x in shape.lstrip("b").split("n"))
                ids = torch.randint(1000, 30000, (b, n), generator=gen).to(dev)
                forward(ids); torch.cuda.synchronize()
                ms = []
                for _ in range(a.runs):
                    t0 = time.perf_counter(); forward(ids); torch.cuda.synchronize()
                    ms.append((time.perf_counter() - t0) * 1e3)
                print(f"| pytorch {label} | {name} | forward b{b} n{n} | {statistics.median(ms):.2f} | {min(ms):.2f} | {a.runs} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
