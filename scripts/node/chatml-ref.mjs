// Reference ChatML renderings, independent of orcaprep's Go code:
//  - chatml: Axolotl's chatml.jinja (src/axolotl/utils/chat_templates/templates/chatml.jinja), verbatim,
//    rendered by @huggingface/jinja (the engine transformers.js uses for chat templates);
//  - openorca-2023: Axolotl @2bb0b78 alpaca_w_system.py OpenOrca ChatML loader format strings, applied the
//    Python way (str.format on "<|im_start|>system\n{system}<|im_end|>\n" etc.); BOS/EOS are ids, not text.
import { Template } from '@huggingface/jinja';

export const CHATML_JINJA =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
const SYSTEM_FORMAT = '<|im_start|>system\n{system}<|im_end|>\n';
const TURN_FORMAT = '<|im_start|>user\n{instruction}<|im_end|>\n<|im_start|>assistant\n';

const tmpl = new Template(CHATML_JINJA);

/** Messages as orcaprep's loaders build them: system (only if non-empty, or emptySystem), user, assistant. */
export function messages(row, emptySystem = false) {
  const sys = row.system_prompt ?? '';
  const m = [];
  if (sys !== '' || emptySystem) m.push({ role: 'system', content: sys });
  m.push({ role: 'user', content: row.question ?? '' });
  m.push({ role: 'assistant', content: row.response ?? '' });
  return m;
}

/** Axolotl chat_template: chatml rendering of an OpenOrca row. */
export function renderChatML(row, emptySystem = false) {
  return tmpl.render({ messages: messages(row, emptySystem), add_generation_prompt: false });
}

/** Axolotl 2023 OpenOrca loader rendering (prompt + response, without BOS/EOS). */
export function renderOpenOrca2023(row) {
  const sys = row.system_prompt ?? '';
  let prompt = '';
  if (sys !== '') prompt += SYSTEM_FORMAT.replace('{system}', () => sys);
  prompt += TURN_FORMAT.replace('{instruction}', () => row.question ?? '');
  return prompt + (row.response ?? '');
}
