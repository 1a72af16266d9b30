// The page: load a student.onnx (from ?model=URL, the URL box or a file) and classify what
// the person types, with the time each answer took. window.edgeDistill exposes the same calls
// to scripts (the tests and the latency benchmark drive the page through it).
import * as ort from "./vendor/ort.wasm.bundle.min.js";
import { classify, loadStudent } from "./student.js";

ort.env.wasm.numThreads = 1;
// the bundle holds the WASM glue code; only the .wasm binary is fetched, from vendor/
ort.env.wasm.wasmPaths = { wasm: new URL("./vendor/ort-wasm-simd-threaded.wasm", import.meta.url).href };
const OPTIONS = { executionProviders: ["wasm"], graphOptimizationLevel: "all" };

const $ = (id) => document.getElementById(id);
let model = null;
let pending = null;

function status(text, error = false) {
  $("status").textContent = text;
  $("status").className = error ? "error" : "";
}

async function load(bytes, name) {
  status(`Loading ${name} ...`);
  try {
    if (model) await model.session.release();
    model = null;
    model = await loadStudent(ort, bytes, name, OPTIONS);
    const features = JSON.parse(model.metadata["edge_distill.features"] || "{}");
    status(`${name}: classes ${model.labels.join(", ")}; ${features.n_features ?? "?"} n-grams.`);
    $("text").disabled = false;
    await show();
    return model.labels;
  } catch (err) {
    status(`${name}: ${err.message}`, true);
    throw err;
  }
}

async function loadUrl(url) {
  const resp = await fetch(url);
  if (!resp.ok) throw new Error(`${url}: HTTP ${resp.status}`);
  return load(new Uint8Array(await resp.arrayBuffer()), url);
}

/** Classify `text`; returns {label, probabilities, ms} (ms: cleaning + onnxruntime, one call). */
async function answer(text) {
  if (!model) throw new Error("no model loaded");
  const t0 = performance.now();
  const [row] = await classify(ort, model, [text]);
  return { ...row, ms: performance.now() - t0, text };
}

function render({ label, probabilities, ms, text }) {
  $("label").textContent = label;
  $("time").textContent = `${ms.toFixed(2)} ms`;
  const table = $("probabilities");
  table.replaceChildren();
  for (const [name, p] of Object.entries(probabilities)) {
    const tr = table.insertRow();
    tr.insertCell().textContent = name;
    tr.insertCell().textContent = p.toFixed(6);
    const bar = tr.insertCell();
    bar.className = "bar";
    bar.innerHTML = `<span style="width:${(100 * p).toFixed(1)}%"></span>`;
  }
  document.body.dataset.answered = text; // what the shown answer is for (scripts wait on it)
}

// One answer at a time; typing during a call asks for one more answer after it.
async function show() {
  if (pending) return pending.then(show);
  pending = answer($("text").value).then(render).finally(() => { pending = null; });
  return pending;
}

$("text").addEventListener("input", () => { show().catch((err) => status(err.message, true)); });
$("load").addEventListener("click", () => { loadUrl($("url").value).catch(() => {}); });
$("file").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (file) await load(new Uint8Array(await file.arrayBuffer()), file.name).catch(() => {});
});

const initial = new URLSearchParams(location.search).get("model");
const ready = initial ? ($("url").value = initial, loadUrl(initial)) : Promise.resolve(null);

window.edgeDistill = {
  ready, // resolves to the class names once the ?model= file is loaded (null without one)
  loadUrl,
  answer,
  classify: (texts) => classify(ort, model, texts), // [{label, probabilities}], one call
  version: ort.env.versions?.web,
  crossOriginIsolated: globalThis.crossOriginIsolated,
};
