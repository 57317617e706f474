// A conformance worker: runs the cases the pool sends, one at a time, and replies with each result.
import { parentPort } from 'node:worker_threads';
import { runCase, type RunOptions, type TestCase } from './test-case.js';

parentPort?.on('message', (m: { index: number; tc: TestCase; opts: RunOptions }) => {
  void runCase(m.tc, m.opts).then((result) => parentPort?.postMessage({ index: m.index, result }));
});
