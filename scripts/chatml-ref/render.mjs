// Renders chatml/testdata/cases.json with independent reference implementations and writes golden files:
//  - chatml: Axolotl's chatml.jinja (src/axolotl/utils/chat_templates/templates/chatml.jinja), verbatim,
//    rendered by @huggingface/jinja (the engine transformers.js uses for chat templates).
//  - openorca-2023: Axolotl @2bb0b78 alpaca_w_system.py OpenOrca ChatML loader format strings, applied
//    the Python way (str.format on "<|im_start|>system\n{system}<|im_end|>\n" etc.).
// Usage: node render.mjs CASES.json OUTDIR
import { Template } from "@huggingface/jinja";
import fs from "node:fs";
import path from "node:path";

const CHATML_JINJA =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const SYSTEM_FORMAT = "<|im_start|>system\n{system}<|im_end|>\n";
const TURN_FORMAT = "<|im_start|>user\n{instruction}<|im_end|>\n<|im_start|>assistant\n";

const [casesPath, outDir] = process.argv.slice(2);
const cases = JSON.parse(fs.readFileSync(casesPath, "utf8"));
const tmpl = new Template(CHATML_JINJA);
for (const c of cases) {
  const sys = c.system_prompt ?? "";
  const messages = [];
  if (sys !== "" || c.empty_system) messages.push({ role: "system", content: sys });
  messages.push({ role: "user", content: c.question ?? "" });
  messages.push({ role: "assistant", content: c.response ?? "" });
  const chatml = tmpl.render({ messages, add_generation_prompt: false });
  fs.writeFileSync(path.join(outDir, `${c.name}.chatml.golden`), chatml);
  if (!c.empty_system) {
    let prompt = "";
    if (sys !== "") prompt += SYSTEM_FORMAT.replace("{system}", () => sys);
    prompt += TURN_FORMAT.replace("{instruction}", () => c.question ?? "");
    fs.writeFileSync(path.join(outDir, `${c.name}.openorca-2023.golden`), prompt + (c.response ?? ""));
  }
}
