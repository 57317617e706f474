#!/usr/bin/env node
// `npm test`: build, run every vitest suite, and end with the plain line CI reads: `N passed, M failed`.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';

const run = (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit', shell: false });

const build = run('npx', ['tsc', '-p', 'tsconfig.build.json']);
if (build.status !== 0) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const report = '.vitest-report.json';
rmSync(report, { force: true });
const vitest = run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${report}`, ...process.argv.slice(2)]);

if (!existsSync(report)) {
  console.log('0 passed, 1 failed');
  process.exit(vitest.status || 1);
}
const r = JSON.parse(readFileSync(report, 'utf8'));
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
// A test file that fails to load has no tests in it but is a failure all the same.
const brokenFiles = (r.testResults ?? []).filter((f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0).length;
console.log(`${r.numPassedTests} passed, ${r.numFailedTests + brokenFiles} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(vitest.status ?? 1);
