// Drives a running ServerV3 with the official openai npm client and prints what it received as JSON.
// Usage: node client.mjs BASE_URL
import OpenAI from "openai";

const client = new OpenAI({ baseURL: `${process.argv[2]}v1`, apiKey: "unused" });
const model = "kjv-tiny-v3";
const messages = [{ role: "user", content: "And the LORD said unto Moses" }];
const results = {};

const chat = await client.chat.completions.create({ model, messages, max_tokens: 20, temperature: 0.7, seed: 3, n: 2 });
results.chat = { texts: chat.choices.map((c) => c.message.content), finish: chat.choices.map((c) => c.finish_reason), usage: chat.usage };

let streamed = "";
let streamFinish = null;
let usage = null;
const stream = await client.chat.completions.create({
  model, messages, max_tokens: 20, temperature: 0.7, seed: 3, stream: true, stream_options: { include_usage: true },
});
for await (const chunk of stream) {
  if (chunk.usage) usage = chunk.usage;
  for (const choice of chunk.choices) {
    streamed += choice.delta?.content ?? "";
    streamFinish = choice.finish_reason ?? streamFinish;
  }
}
results.chatStream = { text: streamed, finish: streamFinish, usage };

const stopped = await client.chat.completions.create({ model, messages, max_tokens: 40, temperature: 0, stop: [","] });
results.stop = { text: stopped.choices[0].message.content, finish: stopped.choices[0].finish_reason };

const withLogprobs = await client.chat.completions.create({ model, messages, max_tokens: 3, temperature: 0, logprobs: true, top_logprobs: 2 });
results.logprobs = withLogprobs.choices[0].logprobs.content.map((t) => ({ token: t.token, logprob: t.logprob, top: t.top_logprobs.length }));

const tools = [{ type: "function", function: { name: "get_weather", description: "Weather in a city", parameters: { type: "object", properties: { city: { type: "string" } } } } }];
const toolAnswer = await client.chat.completions.create({ model, messages, max_tokens: 5, temperature: 0, tools });
results.tools = { finish: toolAnswer.choices[0].finish_reason, content: toolAnswer.choices[0].message.content };

const completion = await client.completions.create({ model, prompt: "In the beginning", max_tokens: 12, temperature: 0 });
results.completion = { text: completion.choices[0].text, finish: completion.choices[0].finish_reason };

let completionStreamed = "";
for await (const chunk of await client.completions.create({ model, prompt: "In the beginning", max_tokens: 12, temperature: 0, stream: true })) {
  completionStreamed += chunk.choices[0]?.text ?? "";
}
results.completionStream = { text: completionStreamed };

try {
  await client.chat.completions.create({ model: "gpt-4", messages });
} catch (error) {
  results.error = { status: error.status, type: error.type ?? error.error?.type, code: error.code };
}

console.log(JSON.stringify(results));
