// Drives a spark-lora server with the official OpenAI node client and prints what it got as one JSON line.
// env: BASE_URL (http://127.0.0.1:PORT/v1), API_KEY, MODEL (an adapter name).
import OpenAI from "openai";

const client = new OpenAI({ baseURL: process.env.BASE_URL, apiKey: process.env.API_KEY, maxRetries: 0,
  timeout: 30000 });
const model = process.env.MODEL;
const out = {};

out.models = [];
for await (const m of client.models.list()) {
  out.models.push(m.id);
}
const plain = await client.completions.create({ model, prompt: "Once upon", max_tokens: 12, temperature: 0,
  echo: true, logprobs: 1 });
out.completion = { text: plain.choices[0].text, logprobs: plain.choices[0].logprobs.token_logprobs,
  finish_reason: plain.choices[0].finish_reason, usage: plain.usage, model: plain.model };

let streamed = "";
const stream = await client.completions.create({ model, prompt: "Once upon", max_tokens: 12, temperature: 0,
  stream: true });
for await (const chunk of stream) {
  streamed += chunk.choices.length ? chunk.choices[0].text : "";
}
out.streamed = streamed;

const chat = await client.chat.completions.create({ model, messages: [{ role: "user", content: "Hello!" }],
  max_tokens: 10, temperature: 0 });
out.chat = chat.choices[0].message.content;
let chatStreamed = "";
const chatStream = await client.chat.completions.create({ model, messages: [{ role: "user", content: "Hello!" }],
  max_tokens: 10, temperature: 0, stream: true });
for await (const chunk of chatStream) {
  chatStreamed += chunk.choices.length ? (chunk.choices[0].delta.content ?? "") : "";
}
out.chat_streamed = chatStreamed;

for (const [name, call] of [
  ["unknown_model", () => client.completions.create({ model: "nope", prompt: "a" })],
  ["bad_max_tokens", () => client.completions.create({ model, prompt: "a", max_tokens: -1 })],
  ["wrong_key", () => new OpenAI({ baseURL: process.env.BASE_URL, apiKey: "wrong", maxRetries: 0 })
    .completions.create({ model, prompt: "a" })],
]) {
  try {
    await call();
    out[name] = { status: 200 };
  } catch (e) {
    out[name] = { status: e.status, message: e.error?.message ?? e.message, code: e.code ?? null };
  }
}
console.log(JSON.stringify(out));
