// The onnxruntime clients the tools compare: onnxruntime-node (from examples/node) and
// onnxruntime-web's WASM build under Node (from examples/web), each on 1 thread.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import fs from "node:fs";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
export const WEB_DIR = path.resolve(here, "..");
export const NODE_DIR = path.resolve(here, "../../node");

function packageVersion(dir, name) {
  return JSON.parse(fs.readFileSync(path.join(dir, "node_modules", name, "package.json"), "utf8")).version;
}

// client name -> { ort, version, options } (loaded on first use)
export async function runtime(client) {
  if (client === "node") {
    const require = createRequire(path.join(NODE_DIR, "package.json"));
    const ort = require("onnxruntime-node");
    const version = packageVersion(NODE_DIR, "onnxruntime-node");
    const options = { executionProviders: ["cpu"], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: "all" };
    return { ort, version: `onnxruntime-node ${version}`, options };
  }
  if (client === "web") {
    const require = createRequire(path.join(WEB_DIR, "package.json"));
    const ort = await import(require.resolve("onnxruntime-web"));
    const version = packageVersion(WEB_DIR, "onnxruntime-web");
    ort.env.wasm.numThreads = 1;
    const options = { executionProviders: ["wasm"], graphOptimizationLevel: "all" };
    return { ort, version: `onnxruntime-web ${version} (WASM)`, options };
  }
  throw new Error(`unknown client ${client}: expected node or web`);
}
