// Usage: node chatml-golden.mjs CASES.json OUTDIR — writes chatml/testdata golden files from chatml-ref.mjs.
import fs from 'node:fs';
import path from 'node:path';
import { renderChatML, renderOpenOrca2023 } from './chatml-ref.mjs';

const [casesPath, outDir] = process.argv.slice(2);
const cases = JSON.parse(fs.readFileSync(casesPath, 'utf8'));
for (const c of cases) {
  fs.writeFileSync(path.join(outDir, `${c.name}.chatml.golden`), renderChatML(c, !!c.empty_system));
  if (!c.empty_system) fs.writeFileSync(path.join(outDir, `${c.name}.openorca-2023.golden`), renderOpenOrca2023(c));
}
