#!/usr/bin/env node
// Serves the browser example: `npm run build`, then `node examples/browser/serve.js [port]` and open the
// printed URL (localhost is a secure context, as WebGPU needs). It serves the repository's files and, under
// /vendor/, aic's two CommonJS dependencies (onnx-proto, protobufjs) as ES modules: each bundled here by
// following its require() calls, so the example needs no bundler.
import { createServer } from 'node:http';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const requireHere = createRequire(join(root, 'package.json'));

/** A CommonJS module and everything it requires, as one ES module whose default export is module.exports. */
export function bundleCommonJs(entry) {
  const modules = new Map();
  const visit = (file) => {
    const have = modules.get(file);
    if (have) return have.id;
    const rec = { id: modules.size, file, deps: {} };
    modules.set(file, rec);
    const code = readFileSync(file, 'utf8');
    rec.code = file.endsWith('.json') ? `module.exports = ${code};` : code;
    const req = createRequire(file);
    for (const m of code.matchAll(/require\(\s*["']([^"']+)["']\s*\)/g)) {
      let resolved;
      try {
        resolved = req.resolve(m[1]);
      } catch {
        continue; // optional dependencies (long.js through protobufjs's inquire) stay missing
      }
      if (!resolved.includes(sep)) continue; // a Node builtin
      rec.deps[m[1]] = visit(resolved);
    }
    return rec.id;
  };
  const main = visit(requireHere.resolve(entry));
  const defs = [...modules.values()].map((m) =>
    `[function (module, exports, require) {\n${m.code}\n}, ${JSON.stringify(m.deps)}]`);
  return `// ${entry}, bundled from CommonJS by examples/browser/serve.js
const defs = [${defs.join(',\n')}];
const cache = [];
function load(id) {
  if (cache[id]) return cache[id].exports;
  const module = { exports: {} };
  cache[id] = module;
  const [fn, deps] = defs[id];
  fn.call(module.exports, module, module.exports, (name) => {
    if (!(name in deps)) throw new Error('cannot require ' + name + ' in the browser');
    return load(deps[name]);
  });
  return module.exports;
}
export default load(${main});
`;
}

const VENDOR = { '/vendor/onnx-proto.js': 'onnx-proto', '/vendor/protobufjs-minimal.js': 'protobufjs/minimal.js' };
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json', '.map': 'application/json', '.onnx': 'application/octet-stream', '.wgsl': 'text/plain' };

export function startServer(port = 0) {
  const vendor = new Map();
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    try {
      if (path in VENDOR) {
        if (!vendor.has(path)) vendor.set(path, bundleCommonJs(VENDOR[path]));
        res.writeHead(200, { 'content-type': 'text/javascript' });
        res.end(vendor.get(path));
        return;
      }
      if (path === '/' || path === '/examples/browser') {
        res.writeHead(302, { location: '/examples/browser/' }).end();
        return;
      }
      const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
      if (!file.startsWith(root) || !statSync(file).isFile()) throw new Error('not found');
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(readFileSync(file));
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const server = await startServer(Number(process.argv[2] ?? 8080));
  console.log(`aic browser example: http://localhost:${server.address().port}/`);
}
