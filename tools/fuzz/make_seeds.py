#!/usr/bin/env python3
"""Writes the fuzzing seed corpora, tools/fuzz/seeds/TARGET/*, from the shared fixtures (small files only).

Large shared files (tokenizers of 0.5-3.5 MB) are trimmed to a few hundred tokens that keep their structure, so
that AFL++ mutates structure rather than megabytes of vocabulary. Multi-file targets take their parts separated by
the line "=====" (tools/fuzz/Targets/FuzzInput.cs). Run once: python3 tools/fuzz/make_seeds.py [SHARED]
(the seeds are committed; rerun only to change them). Needs only the Python standard library.
"""
import base64, collections, io, json, os, pickle, struct, sys, types, zipfile

ROOT = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(ROOT))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("MIXLENS_SHARED", os.path.join(REPO, "..", "shared"))
SEP = b"\n=====\n"
SEEDS = os.path.join(ROOT, "seeds")


def write(target, name, data):
    os.makedirs(os.path.join(SEEDS, target), exist_ok=True)
    with open(os.path.join(SEEDS, target, name), "wb") as f:
        f.write(data)


def shared(*parts):
    with open(os.path.join(SHARED, *parts), "rb") as f:
        return f.read()


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False).encode()


TEXTS = [b"The quick brown fox jumps over the lazy dog.", "Caf\u00e9 na\u00efve \u4e2d\u6587 \U0001F600 [MASK] unaffable!".encode()]
PAIR = b"A dog sleeps."

# ---- safetensors: the converter fixture plus a hand-made file of every dtype family, with metadata and padding ----
write("safetensors", "shared_storage.safetensors", shared("fixtures", "convert", "expected.shared_storage.safetensors"))
def safetensors(tensors, metadata=None, pad=True):
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header).encode()
    if pad:
        h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data
write("safetensors", "dtypes.safetensors", safetensors([
    ("a.f32", "F32", [2, 2], struct.pack("<4f", 1, -2, 0.5, 3)),
    ("b.f16", "F16", [3], struct.pack("<3e", 1, 2, -0.25)),
    ("c.bf16", "BF16", [2], b"\x80\x3f\x00\x40"),
    ("d.i64", "I64", [2], struct.pack("<2q", 7, -1)),
    ("e.u8", "U8", [3], b"\x01\x02\x03"),
    ("f.bool", "BOOL", [1], b"\x01"),
    ("g.f8", "F8_E4M3", [2], b"\x38\xb8"),
    ("h.f64", "F64", [1], struct.pack("<d", 1.5)),
    ("i.u64", "U64", [1], struct.pack("<Q", 5)),
    ("j.scalar", "I32", [], struct.pack("<i", 9)),
], metadata={"format": "pt"}))
write("safetensors", "empty.safetensors", safetensors([], pad=False))

# ---- config.json of every family ----
for model in ["all-MiniLM-L6-v2", "minilm-l6-sst2", "random-bert-tiniest", "bert-mlm-random", "bert-tokcls-random",
              "roberta-random", "distilbert-random", "electra-random"]:
    write("config", f"{model}.json", shared("models", model, "config.json"))

# ---- tokenizer.json: WordPiece (trimmed all-MiniLM-L6-v2), BPE (trimmed roberta-base), Unigram (trimmed t5-small) ----
WORDS = "the quick brown fox jumps over lazy dog a an is was movie good bad un ##aff ##able ##s ##ing ##ed ##ly hello world".split()
def wordpiece_vocab(full):
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = [t for t in full if len(t) == 1 and (t.isascii() or t in "\u00e9\u00ef\u4e2d\u6587")]
    pieces = ["##" + c for c in "abcdefghijklmnopqrstuvwxyz" if "##" + c in full]
    vocab = []
    for t in specials + chars + pieces + WORDS:
        if t not in vocab:
            vocab.append(t)
    return vocab

bert = json.loads(shared("models", "all-MiniLM-L6-v2", "tokenizer.json"))
vocab = wordpiece_vocab(bert["model"]["vocab"])
ids = {t: i for i, t in enumerate(vocab)}
bert["model"]["vocab"] = ids
bert["added_tokens"] = [dict(t, id=ids[t["content"]]) for t in bert["added_tokens"]]
for name, tok in bert["post_processor"]["special_tokens"].items():
    tok["ids"] = [ids[name]]
bert_config = shared("models", "all-MiniLM-L6-v2", "tokenizer_config.json")
for i, text in enumerate(TEXTS):
    write("tokenizer-json", f"wordpiece-{i}.bin", SEP.join([dumps(bert), bert_config if i == 0 else b"", text, PAIR]))

roberta = json.loads(shared("tokenizers", "roberta-base", "tokenizer.json"))
model = roberta["model"]
specials = ["<s>", "<pad>", "</s>", "<unk>"]
alphabet = [t for t, i in sorted(model["vocab"].items(), key=lambda kv: kv[1]) if len(t) == 1]
bpe_vocab = list(dict.fromkeys(specials + alphabet))
merges = []
for m in model["merges"][:400]:
    a, b = m.split(" ") if isinstance(m, str) else m
    if a in bpe_vocab and b in bpe_vocab:
        merges.append(f"{a} {b}")
        if a + b not in bpe_vocab:
            bpe_vocab.append(a + b)
bpe_vocab.append("<mask>")
bpe_ids = {t: i for i, t in enumerate(bpe_vocab)}
model["vocab"], model["merges"] = bpe_ids, merges
roberta["added_tokens"] = [dict(t, id=bpe_ids[t["content"]]) for t in roberta["added_tokens"]]
roberta["post_processor"]["sep"][1] = bpe_ids["</s>"]
roberta["post_processor"]["cls"][1] = bpe_ids["<s>"]
roberta_config = shared("tokenizers", "roberta-base", "tokenizer_config.json")
write("tokenizer-json", "bpe-0.bin", SEP.join([dumps(roberta), roberta_config, TEXTS[0], PAIR]))
write("tokenizer-json", "bpe-1.bin", SEP.join([dumps(roberta), b"", TEXTS[1], b""]))

t5 = json.loads(shared("tokenizers", "t5-small", "tokenizer.json"))
pieces = t5["model"]["vocab"]
keep = pieces[:3] + [p for p in pieces[3:] if p[0].replace("\u2581", "").isascii() and p[0].replace("\u2581", "").isalpha()][:300]
keep += [["\u2581", -2.0]] if not any(p[0] == "\u2581" for p in keep) else []
t5["model"]["vocab"] = keep
t5["added_tokens"] = [t for t in t5["added_tokens"] if t["id"] < 3]
charsmap = base64.b64decode(t5["normalizer"]["precompiled_charsmap"])
trie = struct.unpack_from("<I", charsmap)[0]
small = struct.pack("<I", 2048) + charsmap[4:4 + 2048] + charsmap[4 + trie:4 + trie + 256]   # a truncated trie: malformed on purpose
t5_plain = dict(t5, normalizer=None)
write("tokenizer-json", "unigram-0.bin", SEP.join([dumps(t5_plain), b"", TEXTS[0], PAIR]))
t5_small_map = dict(t5, normalizer={"type": "Precompiled", "precompiled_charsmap": base64.b64encode(small).decode()})
write("tokenizer-json", "unigram-1.bin", SEP.join([dumps(t5_small_map), b"", TEXTS[1], b""]))

# ---- vocab.txt (+ tokenizer_config.json + special_tokens_map.json) ----
vocab_txt = "\n".join(vocab).encode() + b"\n"
special_map = shared("models", "all-MiniLM-L6-v2", "special_tokens_map.json")
write("vocab-txt", "minilm-0.bin", SEP.join([vocab_txt, bert_config, special_map, TEXTS[0], PAIR]))
write("vocab-txt", "minilm-1.bin", SEP.join([vocab_txt, b"", b"", TEXTS[1], b""]))

# ---- vocab.json + merges.txt (+ tokenizer_config.json) ----
merges_txt = ("#version: 0.2\n" + "\n".join(merges) + "\n").encode()
write("bpe-files", "roberta-0.bin", SEP.join([dumps(bpe_ids), merges_txt, roberta_config, TEXTS[0], PAIR]))
write("bpe-files", "roberta-1.bin", SEP.join([dumps(bpe_ids), merges_txt, b"", TEXTS[1], b""]))

# ---- PyTorch checkpoints: zip and legacy, built with fake torch globals (no torch needed) ----
torch = types.ModuleType("torch"); torch_utils = types.ModuleType("torch._utils")
sys.modules["torch"], sys.modules["torch._utils"] = torch, torch_utils
def _rebuild_tensor_v2(*args): pass
_rebuild_tensor_v2.__module__ = "torch._utils"; torch_utils._rebuild_tensor_v2 = _rebuild_tensor_v2
class FloatStorage: pass
class HalfStorage: pass
for cls in (FloatStorage, HalfStorage):
    cls.__module__ = "torch"; setattr(torch, cls.__name__, cls)
Storage = collections.namedtuple("Storage", "key cls numel data")
class Tensor:
    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride)
    def __reduce__(self):
        s, o, size, stride = self.args
        return (_rebuild_tensor_v2, (s, o, tuple(size), tuple(stride), False, collections.OrderedDict()))

f32 = Storage("0", FloatStorage, 6, struct.pack("<6f", 1, 2, 3, 4, 5, 6))
f16 = Storage("1", HalfStorage, 2, struct.pack("<2e", 0.5, -1))
state = collections.OrderedDict([
    ("weight", Tensor(f32, 0, [2, 3], [3, 1])),
    ("weight_t", Tensor(f32, 0, [3, 2], [1, 3])),   # a transposed view of the same storage
    ("bias", Tensor(f32, 4, [2], [1])),              # a slice
    ("half", Tensor(f16, 0, [2], [1])),
])

class ZipPickler(pickle.Pickler):
    def persistent_id(self, obj):
        return ("storage", obj.cls, obj.key, "cpu", obj.numel) if isinstance(obj, Storage) else None
class LegacyPickler(pickle.Pickler):
    def persistent_id(self, obj):
        return ("storage", obj.cls, obj.key, "cpu", obj.numel, None) if isinstance(obj, Storage) else None

def pickled(cls, obj):
    buf = io.BytesIO(); cls(buf, protocol=2).dump(obj); return buf.getvalue()

def zip_checkpoint(byteorder="little"):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pickled(ZipPickler, state))
        z.writestr("archive/byteorder", byteorder)
        for s in (f32, f16):
            raw = s.data if byteorder == "little" else b"".join(s.data[i:i + (4 if s.cls is FloatStorage else 2)][::-1]
                                                                for i in range(0, len(s.data), 4 if s.cls is FloatStorage else 2))
            z.writestr(f"archive/data/{s.key}", raw)
        z.writestr("archive/version", "3\n")
    return buf.getvalue()

def legacy_checkpoint():
    out = pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2) + pickle.dumps(1001, protocol=2)
    out += pickle.dumps({"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}, protocol=2)
    out += pickled(LegacyPickler, state) + pickle.dumps(["0", "1"], protocol=2)
    for s in (f32, f16):
        out += struct.pack("<q", s.numel) + s.data
    return out

write("checkpoint", "zip.bin", zip_checkpoint())
write("checkpoint", "zip-big-endian.bin", zip_checkpoint("big"))
write("checkpoint", "legacy.bin", legacy_checkpoint())
write("checkpoint", "shared_storage.bin", shared("fixtures", "convert", "shared_storage.bin"))
write("checkpoint", "malicious_legacy.bin", shared("fixtures", "convert", "malicious_legacy.bin"))

# ---- the restricted unpickler alone: the pickles above ----
write("pickle", "state-dict.pkl", pickled(ZipPickler, state))
write("pickle", "legacy-state-dict.pkl", pickled(LegacyPickler, state))
write("pickle", "malicious.pkl", shared("fixtures", "convert", "malicious_legacy.bin"))
with zipfile.ZipFile(os.path.join(SHARED, "fixtures", "convert", "shared_storage.bin")) as z:
    write("pickle", "shared_storage.pkl", z.read("shared_storage/data.pkl"))
write("pickle", "values.pkl", pickle.dumps([1, -7, 2**70, 1.5, "s\u00e9", b"bytes", None, True, (1, 2, 3), {"k": [1]}], protocol=4))

# ---- analyze-corpus JSONL and evaluate TSV ----
write("corpus-jsonl", "corpus.jsonl", b'{"text": "The quick brown fox."}\n{"text": "A pair.", "text_pair": "Another."}\n'
      b'\n{"text": 3}\nnot json\n{"text": "caf\\u00e9 \\ud83d\\ude00", "text_pair": null, "id": 7}\r\n')
sst2 = shared("data", "sst2-dev.tsv") if os.path.exists(os.path.join(SHARED, "data", "sst2-dev.tsv")) else None
if sst2 is None:
    name = next(n for n in os.listdir(os.path.join(SHARED, "data")) if n.endswith(".tsv"))
    sst2 = shared("data", name)
write("evaluate-tsv", "sst2-head.tsv", b"\n".join(sst2.split(b"\n")[:8]) + b"\n")
write("evaluate-tsv", "decimal.tsv", b"sentence\tlabel\r\nfine\t0.75\n\nbad\t-1e3\n")
print("seeds written to", SEEDS)
