// A conformance worker: runs the cases the pool sends, one at a time, and replies with each result.
import { parentPort } from 'node:worker_threads';
import { runCase, type RunOptions, type TestCase } from './test-case.js';
import { releaseDevices } from './webgpu.js';

parentPort?.on('message', (m: { index: number; tc: TestCase; opts: RunOptions } | { shutdown: true }) => {
  // Before the pool ends this thread: a thread terminated while it holds a WebGPU device can crash Dawn.
  if ('shutdown' in m) {
    void releaseDevices().then((held) => parentPort?.postMessage({ shutdown: true, held }), () => parentPort?.postMessage({ shutdown: true, held: true }));
    return;
  }
  void runCase(m.tc, m.opts).then((result) => parentPort?.postMessage({ index: m.index, result }));
});
