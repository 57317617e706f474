#!/usr/bin/env node
// Summarize a conformance run for the README: pass counts by suite, and failures by reason category.
//   node bin/aic.js conformance ../shared/onnx-tests --json > /tmp/c.json && node scripts/conformance-table.js /tmp/c.json
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const bySuite = new Map();
const byCategory = new Map();
for (const c of report.cases) {
  const s = bySuite.get(c.suite) ?? { passed: 0, failed: 0, skipped: 0 };
  s[c.status]++;
  bySuite.set(c.suite, s);
  if (c.status === 'failed') {
    const reason = (c.reason ?? '').replace(/^.*?: (?=op |element type|input )/, '');
    const key = `${c.category}: ${reason.replace(/\(node "[^"]*", /, '(').replace(/\b(node|tensor|input) '[^']*'/g, '$1').slice(0, 90)}`;
    byCategory.set(key, (byCategory.get(key) ?? 0) + 1);
  }
}
const total = report.passed + report.failed + report.skipped;
console.log(`| suite | passed | failed | skipped |\n|---|---|---|---|`);
for (const [suite, s] of [...bySuite].sort()) console.log(`| ${suite} | ${s.passed} | ${s.failed} | ${s.skipped} |`);
console.log(`| **all ${total}** | **${report.passed}** (${((100 * report.passed) / total).toFixed(1)}%) | **${report.failed}** | **${report.skipped}** |`);
console.log('\n| failures | cases |\n|---|---|');
for (const [k, n] of [...byCategory].sort((a, b) => b[1] - a[1])) console.log(`| ${k.replace(/\|/g, '\\|')} | ${n} |`);
