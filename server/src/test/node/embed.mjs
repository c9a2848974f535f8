// Asks bertj serve for embeddings through the openai package, as a Node.js user would.
// Usage: node embed.mjs BASE_URL FORMAT < texts.json, where FORMAT is "float", "base64" or "default"
// (the client's own choice). Prints {"vectors": [[...], ...], "usage": {...}} on stdout.
import OpenAI from "openai";
import { readFileSync } from "node:fs";

const [baseURL, format] = process.argv.slice(2);
const texts = JSON.parse(readFileSync(0, "utf8"));
const client = new OpenAI({ baseURL, apiKey: "unused", maxRetries: 0, timeout: 30_000 });
const request = { model: "bertj", input: texts };
if (format !== "default") request.encoding_format = format;
const response = await client.embeddings.create(request);
const vectors = response.data.sort((a, b) => a.index - b.index).map((d) =>
  typeof d.embedding === "string" ? Array.from(decodeFloat32(d.embedding)) : d.embedding);
process.stdout.write(JSON.stringify({ vectors, usage: response.usage }));

// With encoding_format "base64" the client hands back the string as the server sent it: little-endian float32s.
function decodeFloat32(base64) {
  const bytes = Buffer.from(base64, "base64");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: bytes.byteLength / 4 }, (_, i) => view.getFloat32(4 * i, true));
}
