#!/usr/bin/env python3
"""Convert a CTranslate2 Whisper model directory into a whisper.cpp ggml file.

Why: every Whisper model the package registries ship is in CTranslate2 format, while
whisper.cpp (behind whisper-rs) reads only its own ggml layout. Standard library only, so
it runs on a fresh machine before any virtualenv exists.

Input  (CTranslate2 `model.bin`, binary version >= 4, little endian):
    u32 version, str spec_name, u32 spec_revision, u32 n_vars,
    per variable: str name, u8 rank, u32 dims[rank], u8 dtype, u32 n_bytes, data,
    u32 n_aliases, per alias: str alias, str target.
    A `str` is a u16 byte length (NUL included) followed by the bytes.
Output (whisper.cpp legacy ggml, as read by whisper_model_load):
    u32 magic "ggml", i32 hparams[11], i32 n_mel, i32 n_fft, f32 filters[n_mel*n_fft],
    i32 n_tokens, per token: u32 len + bytes,
    per tensor: i32 n_dims, i32 name_len, i32 type (0 f32, 1 f16), i32 ne[n_dims]
    (innermost first, i.e. the reverse of the row-major shape), name, data.

Usage: ct2_to_ggml.py MODEL_DIR OUTPUT.bin
"""

import math
import os
import struct
import sys

GGML_MAGIC = 0x67676D6C
GGML_F32 = 0
GGML_F16 = 1
CT2_FLOAT32 = 0
CT2_FLOAT16 = 4
SAMPLE_RATE = 16000
N_FFT = 400
# GPT-2 byte-level tokens before <|endoftext|>; whisper.cpp derives the special tokens itself.
N_TEXT_TOKENS = 50256


class Tensor:
    """One CTranslate2 variable: row-major shape, dtype code and raw little-endian bytes."""

    def __init__(self, shape, dtype, data):
        self.shape = shape
        self.dtype = dtype
        self.data = data


def read_ct2(path):
    """Read every variable of a CTranslate2 model.bin into a name -> Tensor dict."""
    with open(path, "rb") as f:

        def unpack(fmt):
            size = struct.calcsize("<" + fmt)
            raw = f.read(size)
            if len(raw) != size:
                raise ValueError("truncated model.bin")
            return struct.unpack("<" + fmt, raw)

        def string():
            (length,) = unpack("H")
            return f.read(length).rstrip(b"\0").decode()

        (version,) = unpack("I")
        if version < 4:
            raise ValueError(f"unsupported CTranslate2 binary version {version}")
        spec = string()
        unpack("I")  # spec revision
        if spec != "WhisperSpec":
            raise ValueError(f"not a Whisper model: {spec}")
        (n_vars,) = unpack("I")
        tensors = {}
        for _ in range(n_vars):
            name = string()
            (rank,) = unpack("B")
            shape = unpack("I" * rank) if rank else ()
            dtype, n_bytes = unpack("BI")
            tensors[name] = Tensor(shape, dtype, f.read(n_bytes))
        (n_aliases,) = unpack("I")
        for _ in range(n_aliases):
            alias, target = string(), string()
            tensors[alias] = tensors[target]
        return tensors


def as_f32(tensor):
    """Raw little-endian float32 bytes of a float16 or float32 tensor."""
    if tensor.dtype == CT2_FLOAT32:
        return tensor.data
    if tensor.dtype != CT2_FLOAT16:
        raise ValueError(f"unexpected dtype {tensor.dtype}")
    count = len(tensor.data) // 2
    return struct.pack(f"<{count}f", *struct.unpack(f"<{count}e", tensor.data))


def as_f16(tensor):
    """Raw little-endian float16 bytes of a float16 or float32 tensor."""
    if tensor.dtype == CT2_FLOAT16:
        return tensor.data
    if tensor.dtype != CT2_FLOAT32:
        raise ValueError(f"unexpected dtype {tensor.dtype}")
    count = len(tensor.data) // 4
    return struct.pack(f"<{count}e", *struct.unpack(f"<{count}f", tensor.data))


def rows(tensor, start, stop):
    """Rows [start, stop) of a row-major tensor (used to split fused q/k/v projections)."""
    row_bytes = len(tensor.data) // tensor.shape[0]
    shape = (stop - start,) + tuple(tensor.shape[1:])
    return Tensor(shape, tensor.dtype, tensor.data[start * row_bytes : stop * row_bytes])


def hz_to_mel(hz):
    """Slaney mel scale (linear below 1 kHz, logarithmic above), as librosa and Whisper use."""
    if hz < 1000.0:
        return hz * 3.0 / 200.0
    return 15.0 + math.log(hz / 1000.0) / (math.log(6.4) / 27.0)


def mel_to_hz(mel):
    if mel < 15.0:
        return mel * 200.0 / 3.0
    return 1000.0 * math.exp((math.log(6.4) / 27.0) * (mel - 15.0))


def mel_filters(n_mels):
    """Slaney-normalised triangular filters over the n_fft/2+1 bins: Whisper's mel_filters.npz."""
    n_bins = N_FFT // 2 + 1
    fft_freqs = [i * (SAMPLE_RATE / 2) / (n_bins - 1) for i in range(n_bins)]
    top = hz_to_mel(SAMPLE_RATE / 2)
    mel_freqs = [mel_to_hz(top * i / (n_mels + 1)) for i in range(n_mels + 2)]
    filters = []
    for m in range(n_mels):
        low, centre, high = mel_freqs[m], mel_freqs[m + 1], mel_freqs[m + 2]
        norm = 2.0 / (high - low)
        for f in fft_freqs:
            rising = (f - low) / (centre - low)
            falling = (high - f) / (high - centre)
            filters.append(max(0.0, min(rising, falling)) * norm)
    return filters, n_bins


def byte_decoder():
    """Inverse of GPT-2's bytes_to_unicode: printable stand-in character -> original byte."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    chars = list(printable)
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(printable, chars)}


def read_tokens(model_dir):
    """The ordinary BPE tokens as raw bytes, from CTranslate2's vocabulary.txt."""
    with open(os.path.join(model_dir, "vocabulary.txt"), encoding="utf-8") as f:
        lines = f.read().split("\n")
    if len(lines) <= N_TEXT_TOKENS or lines[N_TEXT_TOKENS] != "<|endoftext|>":
        raise ValueError("vocabulary.txt does not have <|endoftext|> at 50256")
    decoder = byte_decoder()
    return [bytes(decoder[c] for c in token) for token in lines[:N_TEXT_TOKENS]]


def layer_count(tensors, prefix):
    return sum(1 for name in tensors if name.startswith(prefix) and name.endswith("/ffn/linear_0/weight"))


def attention_tensors(ct2, prefix, out, fused_qkv):
    """Map one attention block; CTranslate2 fuses q,k,v (self) or k,v (cross) into one matrix."""
    state = ct2[f"{prefix}/linear_0/weight"].shape[1]
    tensors = []
    if fused_qkv:
        w, b = ct2[f"{prefix}/linear_0/weight"], ct2[f"{prefix}/linear_0/bias"]
        tensors += [
            (f"{out}.query.weight", rows(w, 0, state)),
            (f"{out}.query.bias", rows(b, 0, state)),
            (f"{out}.key.weight", rows(w, state, 2 * state)),
            (f"{out}.value.weight", rows(w, 2 * state, 3 * state)),
            (f"{out}.value.bias", rows(b, 2 * state, 3 * state)),
        ]
        projection = "linear_1"
    else:
        kv_w, kv_b = ct2[f"{prefix}/linear_1/weight"], ct2[f"{prefix}/linear_1/bias"]
        tensors += [
            (f"{out}.query.weight", ct2[f"{prefix}/linear_0/weight"]),
            (f"{out}.query.bias", ct2[f"{prefix}/linear_0/bias"]),
            (f"{out}.key.weight", rows(kv_w, 0, state)),
            (f"{out}.value.weight", rows(kv_w, state, 2 * state)),
            (f"{out}.value.bias", rows(kv_b, state, 2 * state)),
        ]
        projection = "linear_2"
    tensors += [
        (f"{out}.out.weight", ct2[f"{prefix}/{projection}/weight"]),
        (f"{out}.out.bias", ct2[f"{prefix}/{projection}/bias"]),
        (f"{out}_ln.weight", ct2[f"{prefix}/layer_norm/gamma"]),
        (f"{out}_ln.bias", ct2[f"{prefix}/layer_norm/beta"]),
    ]
    return tensors


def mlp_tensors(ct2, prefix, out):
    return [
        (f"{out}.mlp.0.weight", ct2[f"{prefix}/ffn/linear_0/weight"]),
        (f"{out}.mlp.0.bias", ct2[f"{prefix}/ffn/linear_0/bias"]),
        (f"{out}.mlp.2.weight", ct2[f"{prefix}/ffn/linear_1/weight"]),
        (f"{out}.mlp.2.bias", ct2[f"{prefix}/ffn/linear_1/bias"]),
        (f"{out}.mlp_ln.weight", ct2[f"{prefix}/ffn/layer_norm/gamma"]),
        (f"{out}.mlp_ln.bias", ct2[f"{prefix}/ffn/layer_norm/beta"]),
    ]


def whisper_tensors(ct2):
    """All tensors under whisper.cpp's (OpenAI's) names, in a stable order."""
    conv1_bias, conv2_bias = ct2["encoder/conv1/bias"], ct2["encoder/conv2/bias"]
    tensors = [
        ("encoder.positional_embedding", ct2["encoder/position_encodings/encodings"]),
        ("encoder.conv1.weight", ct2["encoder/conv1/weight"]),
        # whisper.cpp wants conv biases as [n_state, 1] so they broadcast over time.
        ("encoder.conv1.bias", Tensor((conv1_bias.shape[0], 1), conv1_bias.dtype, conv1_bias.data)),
        ("encoder.conv2.weight", ct2["encoder/conv2/weight"]),
        ("encoder.conv2.bias", Tensor((conv2_bias.shape[0], 1), conv2_bias.dtype, conv2_bias.data)),
        ("encoder.ln_post.weight", ct2["encoder/layer_norm/gamma"]),
        ("encoder.ln_post.bias", ct2["encoder/layer_norm/beta"]),
    ]
    for i in range(layer_count(ct2, "encoder/")):
        src, dst = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        tensors += attention_tensors(ct2, f"{src}/self_attention", f"{dst}.attn", True)
        tensors += mlp_tensors(ct2, src, dst)
    tensors += [
        ("decoder.positional_embedding", ct2["decoder/position_encodings/encodings"]),
        ("decoder.token_embedding.weight", ct2["decoder/embeddings/weight"]),
        ("decoder.ln.weight", ct2["decoder/layer_norm/gamma"]),
        ("decoder.ln.bias", ct2["decoder/layer_norm/beta"]),
    ]
    for i in range(layer_count(ct2, "decoder/")):
        src, dst = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        tensors += attention_tensors(ct2, f"{src}/self_attention", f"{dst}.attn", True)
        tensors += attention_tensors(ct2, f"{src}/attention", f"{dst}.cross_attn", False)
        tensors += mlp_tensors(ct2, src, dst)
    return tensors


def scalar_i16(tensor):
    return struct.unpack("<h", tensor.data[:2])[0]


def hparams(ct2):
    n_vocab, n_text_state = ct2["decoder/embeddings/weight"].shape
    n_audio_ctx, n_audio_state = ct2["encoder/position_encodings/encodings"].shape
    n_text_ctx = ct2["decoder/position_encodings/encodings"].shape[0]
    n_mels = ct2["encoder/conv1/weight"].shape[1]
    return [
        n_vocab,
        n_audio_ctx,
        n_audio_state,
        scalar_i16(ct2["encoder/num_heads"]),
        layer_count(ct2, "encoder/"),
        n_text_ctx,
        n_text_state,
        scalar_i16(ct2["decoder/num_heads"]),
        layer_count(ct2, "decoder/"),
        n_mels,
        GGML_F16,
    ]


def write_tensor(out, name, tensor):
    """Matrices (rank >= 2) as f16 except positional embeddings and biases, which whisper.cpp keeps f32."""
    shape = tensor.shape
    keep_f32 = len(shape) < 2 or name.endswith("positional_embedding") or name.endswith("conv1.bias") or name.endswith("conv2.bias")
    kind, data = (GGML_F32, as_f32(tensor)) if keep_f32 else (GGML_F16, as_f16(tensor))
    encoded = name.encode()
    out.write(struct.pack("<iii", len(shape), len(encoded), kind))
    out.write(struct.pack(f"<{len(shape)}i", *reversed(shape)))
    out.write(encoded)
    out.write(data)


def convert(model_dir, output):
    ct2 = read_ct2(os.path.join(model_dir, "model.bin"))
    params = hparams(ct2)
    filters, n_bins = mel_filters(params[9])
    tokens = read_tokens(model_dir)
    partial = output + ".part"
    with open(partial, "wb") as out:
        out.write(struct.pack("<I", GGML_MAGIC))
        out.write(struct.pack("<11i", *params))
        out.write(struct.pack("<ii", params[9], n_bins))
        out.write(struct.pack(f"<{len(filters)}f", *filters))
        out.write(struct.pack("<i", len(tokens)))
        for token in tokens:
            out.write(struct.pack("<I", len(token)))
            out.write(token)
        for name, tensor in whisper_tensors(ct2):
            write_tensor(out, name, tensor)
    os.replace(partial, output)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    convert(sys.argv[1], sys.argv[2])
    print(f"wrote {sys.argv[2]}")


if __name__ == "__main__":
    main()
