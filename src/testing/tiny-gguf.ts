// A tiny llama-architecture GGUF model with seeded random weights (~130 KB):
// llama.cpp loads and runs it like any other, so the gguf provider is tested
// end to end on a machine that can download no model. Its answers are random
// letters and words; tests assert the shape of generation (streaming, token
// counts, stops, limits), never its content.
//
// GGUF v3 (ggml's format): header, metadata key/values, tensor infos, then the
// tensor data, each aligned to 32 bytes. Vocabulary in SentencePiece style:
// <unk>, <s>, </s>, the 256 byte tokens llama.cpp requires, then letters and
// "▁"-prefixed letters. Byte tokens get zero output weights, the others larger
// ones, so sampling favours printable text.
import { writeFileSync } from "node:fs";
import { seededRandom } from "../core/seeded-random.js";

const enum ValueType {
  U32 = 4,
  I32 = 5,
  F32 = 6,
  STRING = 8,
  ARRAY = 9,
}
type Scalar = { type: ValueType.U32 | ValueType.I32 | ValueType.F32; value: number } | { type: ValueType.STRING; value: string };
type Value = Scalar | { type: ValueType.ARRAY; of: ValueType.I32 | ValueType.F32 | ValueType.STRING; values: Array<number | string> };

const ALIGN = 32;
const EMBD = 32;
const HEADS = 2;
const FF = 64;
const LAYERS = 1;

/** The vocabulary: token texts and their SentencePiece types (1 normal, 2 unknown, 3 control, 6 byte). */
function vocabulary(): { tokens: string[]; types: number[] } {
  const letters = "abcdefghijklmnopqrstuvwxyz".split("");
  const bytes = Array.from({ length: 256 }, (_, i) => `<0x${i.toString(16).toUpperCase().padStart(2, "0")}>`);
  const normal = [...letters.map((c) => `▁${c}`), ...letters, "▁", ".", ",", "▁the", "▁and", "▁model"];
  return {
    tokens: ["<unk>", "<s>", "</s>", ...bytes, ...normal],
    types: [2, 3, 3, ...bytes.map(() => 6), ...normal.map(() => 1)],
  };
}

class Writer {
  private readonly parts: Buffer[] = [];
  length = 0;
  private put(b: Buffer): void {
    this.parts.push(b);
    this.length += b.length;
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.put(b);
  }
  u64(v: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.put(b);
  }
  scalar(type: ValueType, v: number | string): void {
    const b = Buffer.alloc(4);
    if (type === ValueType.STRING) return this.string(v as string);
    if (type === ValueType.U32) b.writeUInt32LE(v as number);
    else if (type === ValueType.I32) b.writeInt32LE(v as number);
    else b.writeFloatLE(v as number);
    this.put(b);
  }
  string(s: string): void {
    const b = Buffer.from(s, "utf8");
    this.u64(b.length);
    this.put(b);
  }
  bytes(b: Buffer): void {
    this.put(b);
  }
  pad(): void {
    const n = (ALIGN - (this.length % ALIGN)) % ALIGN;
    if (n) this.put(Buffer.alloc(n));
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** The model file as bytes; the same seed gives the same file. */
export function tinyGguf(seed = 42): Buffer {
  const { tokens, types } = vocabulary();
  const random = seededRandom(seed);
  const weight = () => (random() - 0.5) * 0.5;
  const meta: Array<[string, Value]> = [
    ["general.architecture", { type: ValueType.STRING, value: "llama" }],
    ["general.name", { type: ValueType.STRING, value: "stratum-tiny-random" }],
    ["llama.context_length", { type: ValueType.U32, value: 2048 }],
    ["llama.embedding_length", { type: ValueType.U32, value: EMBD }],
    ["llama.block_count", { type: ValueType.U32, value: LAYERS }],
    ["llama.feed_forward_length", { type: ValueType.U32, value: FF }],
    ["llama.attention.head_count", { type: ValueType.U32, value: HEADS }],
    ["llama.attention.head_count_kv", { type: ValueType.U32, value: HEADS }],
    ["llama.attention.layer_norm_rms_epsilon", { type: ValueType.F32, value: 1e-5 }],
    ["llama.rope.dimension_count", { type: ValueType.U32, value: EMBD / HEADS }],
    ["tokenizer.ggml.model", { type: ValueType.STRING, value: "llama" }],
    ["tokenizer.ggml.tokens", { type: ValueType.ARRAY, of: ValueType.STRING, values: tokens }],
    ["tokenizer.ggml.scores", { type: ValueType.ARRAY, of: ValueType.F32, values: tokens.map((_, i) => -i) }],
    ["tokenizer.ggml.token_type", { type: ValueType.ARRAY, of: ValueType.I32, values: types }],
    ["tokenizer.ggml.bos_token_id", { type: ValueType.U32, value: 1 }],
    ["tokenizer.ggml.eos_token_id", { type: ValueType.U32, value: 2 }],
    ["tokenizer.ggml.unknown_token_id", { type: ValueType.U32, value: 0 }],
  ];

  const tensors: Array<{ name: string; dims: number[]; data: Float32Array }> = [];
  const tensor = (name: string, dims: number[], value: (i: number) => number = weight) => {
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = value(i);
    tensors.push({ name, dims, data });
  };
  const vocab = tokens.length;
  tensor("token_embd.weight", [EMBD, vocab]);
  tensor("output_norm.weight", [EMBD], () => 1);
  // Row t (EMBD floats) scores token t: zero for byte tokens, so printable ones win.
  tensor("output.weight", [EMBD, vocab], (i) => (types[Math.floor(i / EMBD)] === 6 ? 0 : weight() * 8));
  for (let l = 0; l < LAYERS; l++) {
    tensor(`blk.${l}.attn_norm.weight`, [EMBD], () => 1);
    for (const m of ["q", "k", "v", "output"]) tensor(`blk.${l}.attn_${m}.weight`, [EMBD, EMBD]);
    tensor(`blk.${l}.ffn_norm.weight`, [EMBD], () => 1);
    tensor(`blk.${l}.ffn_gate.weight`, [EMBD, FF]);
    tensor(`blk.${l}.ffn_up.weight`, [EMBD, FF]);
    tensor(`blk.${l}.ffn_down.weight`, [FF, EMBD]);
  }

  const w = new Writer();
  w.bytes(Buffer.from("GGUF", "latin1"));
  w.u32(3); // version
  w.u64(tensors.length);
  w.u64(meta.length);
  for (const [key, v] of meta) {
    w.string(key);
    w.u32(v.type);
    if (v.type === ValueType.ARRAY) {
      w.u32(v.of);
      w.u64(v.values.length);
      for (const x of v.values) w.scalar(v.of, x);
    } else w.scalar(v.type, v.value);
  }
  let offset = 0;
  for (const t of tensors) {
    w.string(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(0); // F32
    w.u64(offset);
    offset += Math.ceil(t.data.byteLength / ALIGN) * ALIGN;
  }
  w.pad();
  for (const t of tensors) {
    w.bytes(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    w.pad();
  }
  return w.toBuffer();
}

/** Writes the tiny model to `path` and returns the path. */
export function writeTinyGguf(path: string, seed = 42): string {
  writeFileSync(path, tinyGguf(seed));
  return path;
}
