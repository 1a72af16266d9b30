// Load an edge-distill student.onnx and classify texts with any onnxruntime JavaScript
// client (onnxruntime-web in a page, onnxruntime-node or onnxruntime-web under Node): the
// caller passes its `ort` module in. The graph does all the text processing; this module
// reads the class names from the model's metadata, checks its sha256 checksum as the Python
// runtime does, and cleans each text with clean.js.
import { sanitize } from "./clean.js";

export { sanitize };
export const CHECKSUM_KEY = "edge_distill.checksum";
const PLACEHOLDER = "0".repeat(64);

// A protobuf varint at buf[pos]; returns [value, nextPos] (values used here fit in 2^53).
function varint(buf, pos) {
  let value = 0, scale = 1, byte;
  do {
    if (pos >= buf.length) throw new Error("truncated protobuf");
    byte = buf[pos++];
    value += (byte & 0x7f) * scale;
    scale *= 128;
  } while (byte & 0x80);
  return [value, pos];
}

// The length-delimited fields of one protobuf message: [{field, start, end}] (others skipped).
function fields(buf, start = 0, end = buf.length) {
  const out = [];
  let pos = start;
  while (pos < end) {
    let key, len;
    [key, pos] = varint(buf, pos);
    const field = Math.floor(key / 8), wire = key & 7;
    if (wire === 0) [, pos] = varint(buf, pos);
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      [len, pos] = varint(buf, pos);
      out.push({ field, start: pos, end: pos + len });
      pos += len;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
  return out;
}

// ORT format (a flatbuffer, file identifier "ORTM" at byte 4): InferenceSession.model (field
// 1) -> Model.metadata_props (field 9) -> [StringStringEntry {key = 0, value = 1}].
function ortMetadata(buf) {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const u32 = (p) => view.getUint32(p, true);
  const field = (table, index) => { // position of a field's value, or -1 when absent
    const vtable = table - view.getInt32(table, true), slot = 4 + 2 * index;
    const off = slot < view.getUint16(vtable, true) ? view.getUint16(vtable + slot, true) : 0;
    return off ? table + off : -1;
  };
  const deref = (p) => p + u32(p);
  const string = (p) => { const s = deref(p); return { start: s + 4, end: s + 4 + u32(s) }; };
  const utf8 = new TextDecoder("utf-8");
  const props = {};
  const modelAt = field(deref(0), 1);
  const listAt = modelAt < 0 ? -1 : field(deref(modelAt), 9);
  if (listAt < 0) return props;
  const list = deref(listAt);
  for (let i = 0; i < u32(list); i++) {
    const entry = deref(list + 4 + 4 * i), keyAt = field(entry, 0), valueAt = field(entry, 1);
    if (keyAt < 0) continue;
    const key = string(keyAt), value = valueAt < 0 ? null : string(valueAt);
    props[utf8.decode(buf.subarray(key.start, key.end))] = value
      ? { value: utf8.decode(buf.subarray(value.start, value.end)), start: value.start }
      : { value: "", start: -1 };
  }
  return props;
}

const isOrtFormat = (buf) => buf.length > 8 && new TextDecoder().decode(buf.subarray(4, 8)) === "ORTM";

/** The model's metadata as {key: {value, start}} (start: the value's byte offset), from an
 * ONNX file (ModelProto.metadata_props, field 14: {key = 1, value = 2}) or an ORT-format one. */
export function metadata(model) {
  if (isOrtFormat(model)) return ortMetadata(model);
  const utf8 = new TextDecoder("utf-8");
  const props = {};
  for (const f of fields(model)) {
    if (f.field !== 14) continue;
    const entry = fields(model, f.start, f.end);
    const key = entry.find((e) => e.field === 1), value = entry.find((e) => e.field === 2);
    if (key) {
      const text = value ? utf8.decode(model.subarray(value.start, value.end)) : "";
      props[utf8.decode(model.subarray(key.start, key.end))] = { value: text, start: value ? value.start : -1 };
    }
  }
  return props;
}

async function sha256Hex(bytes) {
  // browsers and Node >= 19 have globalThis.crypto; Node 18 has it as node:crypto's webcrypto
  const subtle = globalThis.crypto?.subtle ?? (await import("node:crypto")).webcrypto.subtle;
  const digest = new Uint8Array(await subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Throw unless the file hashes to its recorded checksum (computed with the digest zeroed). */
export async function verify(model, props, name) {
  const recorded = props[CHECKSUM_KEY];
  if (!recorded || !/^[0-9a-f]{64}$/.test(recorded.value)) {
    throw new Error(`${name}: no ${CHECKSUM_KEY}; not an edge-distill artifact`);
  }
  const copy = new Uint8Array(model); // a copy (Buffer.slice would be a view)
  copy.set(new TextEncoder().encode(PLACEHOLDER), recorded.start);
  if ((await sha256Hex(copy)) !== recorded.value) {
    throw new Error(`${name}: checksum mismatch: the file was modified or damaged after export`);
  }
}

/** A verified student: {session, labels, metadata}; `options` are onnxruntime session options. */
export async function loadStudent(ort, model, name, options = {}) {
  const bytes = model instanceof Uint8Array ? model : new Uint8Array(model);
  const props = metadata(bytes);
  await verify(bytes, props, name);
  const kind = props["edge_distill.kind"]?.value;
  if (kind !== "student") throw new Error(`${name}: not a student artifact (kind ${JSON.stringify(kind)})`);
  const labels = JSON.parse(props["edge_distill.labels"].value);
  const session = await ort.InferenceSession.create(bytes, options);
  const plain = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, v.value]));
  return { session, labels, metadata: plain };
}

/** One row per text: {label, probabilities: {class: p}} (the Python runtime's answers). */
export async function classify(ort, { session, labels }, texts) {
  if (texts.length === 0) return [];
  const input = new ort.Tensor("string", texts.map(sanitize), [texts.length]);
  const out = await session.run({ text: input });
  const proba = out.probabilities.data, label = out.label.data, k = labels.length;
  return texts.map((_, i) => ({
    label: labels[Number(label[i])],
    probabilities: Object.fromEntries(labels.map((name, j) => [name, proba[i * k + j]])),
  }));
}
