#!/usr/bin/env node
// Classify texts with an edge-distill student.onnx from Node.js (onnxruntime-node only).
//
//   node classify.js student.onnx "A wonderful film." "Dull and far too long."
//   cat texts.jsonl | node classify.js student.onnx        # {"text": ...} per line
//
// Prints one JSON line per text: {"label": ..., "probabilities": {class: p, ...}}, like
// `edge-distill predict`. The graph does all the text processing; this file only reads the
// class names from the model's metadata and checks its sha256 checksum, as the Python runtime does.
"use strict";

const fs = require("fs");
const crypto = require("crypto");
const readline = require("readline");
const ort = require("onnxruntime-node");

const CHECKSUM_KEY = "edge_distill.checksum";
const PLACEHOLDER = "0".repeat(64);

// Read a protobuf varint at buf[pos]; returns [value, nextPos] (values used here fit in 2^53).
function varint(buf, pos) {
  let value = 0, scale = 1, byte;
  do {
    byte = buf[pos++];
    value += (byte & 0x7f) * scale;
    scale *= 128;
  } while (byte & 0x80);
  return [value, pos];
}

// The fields of one protobuf message: [{field, wire, value (number) | bytes (Buffer)}].
function fields(buf) {
  const out = [];
  let pos = 0;
  while (pos < buf.length) {
    let key;
    [key, pos] = varint(buf, pos);
    const field = Math.floor(key / 8), wire = key & 7;
    if (wire === 0) { let v; [v, pos] = varint(buf, pos); out.push({ field, wire, value: v }); }
    else if (wire === 1) { pos += 8; }
    else if (wire === 5) { pos += 4; }
    else if (wire === 2) {
      let len; [len, pos] = varint(buf, pos);
      out.push({ field, wire, bytes: buf.subarray(pos, pos + len) });
      pos += len;
    } else { throw new Error(`unsupported protobuf wire type ${wire}`); }
  }
  return out;
}

// ModelProto.metadata_props (field 14): StringStringEntryProto {key = 1, value = 2}.
function metadata(model) {
  const props = {};
  for (const f of fields(model)) {
    if (f.field !== 14 || f.wire !== 2) continue;
    const entry = fields(f.bytes);
    const key = entry.find((e) => e.field === 1), value = entry.find((e) => e.field === 2);
    if (key) props[key.bytes.toString("utf8")] = value ? value.bytes.toString("utf8") : "";
  }
  return props;
}

// The checksum covers the whole file with the digest replaced by the placeholder.
function verify(model, props, path) {
  const recorded = props[CHECKSUM_KEY];
  if (!recorded || recorded.length !== 64) throw new Error(`${path}: no ${CHECKSUM_KEY}; not an edge-distill artifact`);
  const at = model.indexOf(Buffer.from(recorded));
  const copy = Buffer.from(model);
  copy.write(PLACEHOLDER, at, "latin1");
  const digest = crypto.createHash("sha256").update(copy).digest("hex");
  if (digest !== recorded) throw new Error(`${path}: checksum mismatch: the file was modified after export`);
}

async function load(path) {
  const model = fs.readFileSync(path);
  const props = metadata(model);
  verify(model, props, path);
  if (props["edge_distill.kind"] !== "student") throw new Error(`${path}: not a student artifact`);
  const labels = JSON.parse(props["edge_distill.labels"]);
  const opts = { executionProviders: ["cpu"], intraOpNumThreads: 1, graphOptimizationLevel: "all" };
  const session = await ort.InferenceSession.create(model, opts);
  return { session, labels };
}

// Texts must be valid Unicode: lone surrogates become U+FFFD, as in the Python runtime.
// onnxruntime-node cuts strings at NUL, so NUL becomes U+0001: for the student both are the same
// kind of character (not a word character, not whitespace, unchanged by lowercasing), so the
// tokens, and the result, are exactly those of the original text.
function sanitize(text) {
  const wellFormed = typeof text.toWellFormed === "function" ? text.toWellFormed()
    : text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
  return wellFormed.replace(/\0/g, "\u0001");
}

async function classify({ session, labels }, texts) {
  if (texts.length === 0) return [];
  const input = new ort.Tensor("string", texts.map(sanitize), [texts.length]);
  const out = await session.run({ text: input });
  const proba = out.probabilities.data, label = out.label.data, k = labels.length;
  return texts.map((_, i) => ({
    label: labels[Number(label[i])],
    probabilities: Object.fromEntries(labels.map((name, j) => [name, proba[i * k + j]])),
  }));
}

async function readStdin() {
  const texts = [];
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) if (line.trim()) texts.push(JSON.parse(line).text);
  return texts;
}

async function main() {
  const [path, ...args] = process.argv.slice(2);
  if (!path) {
    console.error("usage: node classify.js student.onnx [TEXT ...]   (or JSON Lines on stdin)");
    process.exit(2);
  }
  const model = await load(path);
  const texts = args.length ? args : await readStdin();
  for (const row of await classify(model, texts)) process.stdout.write(JSON.stringify(row) + "\n");
}

module.exports = { load, classify, metadata };

if (require.main === module) {
  main().catch((err) => { console.error(`classify.js: error: ${err.message}`); process.exit(2); });
}
