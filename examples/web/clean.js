// The input cleaning every JavaScript client of an edge-distill student applies before
// onnxruntime sees a text (the Node example and the web page import this one file).
//
// It makes a JavaScript string mean what the same text means to the Python runtime:
// - Lone surrogates become U+FFFD, as the Python runtime's sanitize() does: onnxruntime
//   hands strings to the graph as UTF-8, which cannot hold them (onnxruntime-web throws
//   "Invalid UTF-8: surrogate codepoint"; onnxruntime-node writes U+FFFD per UTF-16 unit,
//   the same thing).
// - NUL (U+0000) becomes U+0001: onnxruntime-node and onnxruntime-web pass strings on as
//   C strings and would cut a text at its first NUL. For the student's graph both code
//   points are the same kind of character (not a word character, not part of an HTML line
//   break, left unchanged by lowercasing), so the tokens, and every answer, are exactly those
//   of the text with its NUL.

/** Replace lone surrogates with U+FFFD and NUL with U+0001 (see above). */
export function sanitize(text) {
  if (typeof text !== "string") throw new TypeError(`expected a string, got ${typeof text}`);
  const wellFormed = typeof text.toWellFormed === "function"
    ? text.toWellFormed()
    : text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
  return wellFormed.replaceAll("\0", "\u0001");
}
