// A backend as a plugin, in one file: kernel IR -> plain C99 for any C compiler, with an ABI of its own
// (one function, no allocation, the caller's workspace, the weights compiled in). It renders f32, f64, the
// 32- and 64-bit integers and bool; it refuses what it does not render (extern kernels, other dtypes,
// symbolic sizes) by name, as a backend must.
//
//   aic --plugin examples/custom-backend/c99.js compile model.onnx --target c99 -o out/
//   aic --plugin examples/custom-backend/c99.js test ../shared/onnx-tests/node/test_softmax_axis_1 --target c99
//
// What it writes:
//   model.h   #define MODEL_WORKSPACE_BYTES n
//             void model_run(const void* const inputs[], void* const outputs[], void* workspace);
//   model.c   one static function per kernel (the shared walk, aic.KernelWriter, with the C99 spelling
//             below), the weights as static const arrays, model_run calling the kernels in order
//   main.c    a runner: raw little-endian input files in, raw output files out (what `run` uses)

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** @param {typeof import('../../dist/index.js')} aic */
export default function register(aic) {
  aic.registerBackend(c99Backend(aic));
}

const C_TYPE = { f32: 'float', f64: 'double', i32: 'int32_t', i64: 'int64_t', u8: 'uint8_t', bool: 'bool' };

/** @param {typeof import('../../dist/index.js')} aic @returns {import('../../dist/index.js').Backend} */
export function c99Backend(aic) {
  const cc = process.env.CC ?? 'cc';
  const type = (t, where) => C_TYPE[t] ?? aic.fail('E_UNSUPPORTED', `c99: dtype ${t} is not supported (${where})`);
  const lit = (t, v) => {
    if (t === 'bool') return Number(v) ? 'true' : 'false';
    if (t === 'f32' || t === 'f64') {
      const x = Number(v);
      if (Number.isNaN(x)) return 'NAN';
      if (!Number.isFinite(x)) return x > 0 ? 'INFINITY' : '(-INFINITY)';
      const mag = x === 0 ? '0.0' : hexFloat(Math.abs(x));
      return `${x < 0 || Object.is(x, -0) ? '(-' : '('}${mag}${t === 'f32' ? 'f' : ''})`;
    }
    return `((${type(t, 'literal')})${BigInt(v)}${t === 'i64' ? 'LL' : ''})`;
  };
  const FLOAT1 = { neg: (x) => `(-${x})`, abs: 'fabs', exp: 'exp', log: 'log', sqrt: 'sqrt', sin: 'sin', cos: 'cos', atan: 'atan', tanh: 'tanh', erf: 'erf', floor: 'floor', ceil: 'ceil', round: 'nearbyint', recip: (x) => `(1 / ${x})` };
  const BIN = { add: '+', sub: '-', mul: '*', div: '/', lt: '<', eq: '==', and: '&', or: '|', xor: '^' };

  /** The C99 spelling of a loop kernel; the walk (statement order, values, loops) is aic.KernelWriter's. */
  class C99Writer extends aic.KernelWriter {
    valueType(t) { return type(t, 'a value'); }
    literal(t, v) { return lit(t, v); }
    symbol(name) { return aic.fail('E_UNSUPPORTED', `c99: symbolic size $${name} is not supported`); }
    floorDiv(a, b) { return `fdiv(${a}, ${b})`; }
    floorMod(a, b) { return `fmod_(${a}, ${b})`; }
    inbounds(i, n) { return `((uint64_t)(${i}) < (uint64_t)(${n}))`; }
    check(c, message) { return `if (!${c}) { fprintf(stderr, "%s\\n", ${JSON.stringify(message)}); exit(1); }`; }
    indexValue(t, i) { return `((${type(t, 'iota')})(${i}))`; }
    load(buffer, index, _t, mask) {
      const read = `b_${buffer}[${this.index(index)}]`;
      return mask === undefined ? read : `(${mask} ? ${read} : 0)`;
    }
    store(buffer, index, value) { return `b_${buffer}[${this.index(index)}] = ${value};`; }
    loopHeader(a, _role, _innermost, _pragma) {
      const v = this.axisName(a.name);
      return [`for (int64_t ${v} = 0; ${v} < ${this.index(a.extent)}; ++${v}) {`];
    }
    prim(op, args, types, out) {
      const [x, y] = args;
      const t = types[0];
      const f32 = t === 'f32';
      if (op === 'where') return `(${x} ? ${y} : ${args[2]})`;
      if (op === 'cast') return out === 'bool' ? `(${x} != 0)` : `((${type(out, 'cast')})(${x}))`;
      if (op === 'not') return t === 'bool' ? `(!${x})` : `(~${x})`;
      if (op === 'isnan') return `(${x} != ${x})`;
      if (args.length === 1 && FLOAT1[op] && (t === 'f32' || t === 'f64')) {
        const f = FLOAT1[op];
        return typeof f === 'string' ? `${f}${f32 ? 'f' : ''}(${x})` : f(x);
      }
      if (op === 'neg') return `(-${x})`;
      if (op === 'max' || op === 'min') return `${op}_${t}(${x}, ${y})`;
      if (op === 'pow') return `pow${f32 ? 'f' : ''}(${x}, ${y})`;
      if (op === 'mod') return t === 'f32' || t === 'f64' ? `fmod${f32 ? 'f' : ''}(${x}, ${y})` : `(${y} ? ${x} % ${y} : 0)`;
      if (BIN[op] && args.length === 2) return `(${x} ${BIN[op]} ${y})`;
      return aic.fail('E_UNSUPPORTED', `c99: ${op} on ${t} is not supported`);
    }
    reduction(s, opType) {
      const acc = `a${s.id}`;
      const t = s.dtype;
      const float = t === 'f32' || t === 'f64';
      if (s.combiner === 'argmax' || s.combiner === 'argmin') return aic.fail('E_UNSUPPORTED', `c99: ${s.combiner} is not supported`);
      if (s.combiner === 'max' || s.combiner === 'min') {
        const init = float ? (s.combiner === 'max' ? '(-INFINITY)' : 'INFINITY') : s.combiner === 'max' ? 'INT64_MIN' : 'INT64_MAX';
        return { init: [`${type(opType, 'reduce')} ${acc} = ${init};`], step: ([v]) => [`${acc} = ${s.combiner}_${opType}(${acc}, ${v});`], result: acc };
      }
      const accType = float ? 'double' : type(t, 'reduce');
      const step = { sum: ([v]) => `${acc} += ${v};`, prod: ([v]) => `${acc} *= ${v};`, dot: ([v, w]) => `${acc} += (${accType})${v} * ${w};` }[s.combiner];
      return { init: [`${accType} ${acc} = ${s.combiner === 'prod' ? 1 : 0};`], step: (ops) => [step(ops)], result: `((${type(t, 'reduce')})${acc})` };
    }

    /** The kernel as a C function taking the buffers it uses. */
    render(buffers) {
      const k = this.kernel;
      const writes = aic.kernelWrites(k);
      const used = [...new Set([...aic.kernelReads(k), ...writes])];
      const params = used.map((n) => `${writes.has(n) ? '' : 'const '}${type(buffers.get(n).dtype, `@${n}`)}* restrict b_${n}`);
      this.loops(k.domain, 'domain', () => this.body(k.body));
      return { used, source: [`static void ${k.name}(${params.join(', ') || 'void'}) {`, ...this.lines, '}'].join('\n') };
    }
  }

  return {
    name: 'c99',
    description: 'plain C99 for any C compiler: one allocation-free function, weights compiled in (an example plugin)',
    emit(p) {
      const buffers = aic.bufferMap(p);
      for (const b of p.buffers) {
        type(b.dtype, `@${b.name}`);
        if (b.shape.some((d) => typeof d !== 'number')) aic.fail('E_UNSUPPORTED', `c99: @${b.name} has a symbolic size; only static shapes are supported`);
        if (b.role === 'temp' && b.offset === undefined) aic.fail('E_UNSUPPORTED', `c99: @${b.name} is not in the arena`);
      }
      const kernels = [];
      const calls = [];
      for (const k of p.kernels) {
        if (k.kind === 'extern') aic.fail('E_UNSUPPORTED', `c99: ${k.note ?? k.name} is not supported`);
        const r = new C99Writer(k, buffers).render(buffers);
        kernels.push(`/* ${k.name}: ${(k.note ?? '').replace(/\*\//g, '')} */\n${r.source}`);
        calls.push(`  ${k.name}(${r.used.map((n) => `b_${n}`).join(', ')});`);
      }
      const ptr = (b) => {
        const t = type(b.dtype, b.name);
        if (b.role === 'input') return `(const ${t}*)inputs[${p.inputs.indexOf(b.name)}]`;
        if (b.role === 'output') return `(${t}*)outputs[${p.outputs.indexOf(b.name)}]`;
        if (b.role === 'weight') return `w_${b.name}`;
        return `(${t}*)((unsigned char*)workspace + ${b.offset})`;
      };
      const weights = p.buffers.filter((b) => b.role === 'weight').map((b) => {
        const vals = Array.from(b.data.data, (v) => lit(b.dtype, v));
        return `static const ${type(b.dtype, b.name)} w_${b.name}[${Math.max(1, vals.length)}] = {${vals.join(', ') || '0'}};`;
      });
      const copies = p.outputs.map((n, k) => (buffers.get(n).role === 'output' && p.outputs.indexOf(n) === k ? ''
        : `  memcpy(outputs[${k}], b_${n}, ${aic.bufferBytes(buffers.get(n))});`)).filter(Boolean);
      const header = `/* model.h: "${p.name}" as C99 (generated by aic's c99 example backend) */\n#ifndef MODEL_H\n#define MODEL_H\n#define MODEL_WORKSPACE_BYTES ${Math.max(1, p.arenaBytes)}\nvoid model_run(const void* const inputs[], void* const outputs[], void* workspace);\n#endif\n`;
      const source = [
        '#include "model.h"', '#include <math.h>', '#include <stdbool.h>', '#include <stdint.h>', '#include <stdio.h>', '#include <stdlib.h>', '#include <string.h>', '',
        'static inline int64_t fdiv(int64_t a, int64_t b) { int64_t q = a / b; return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q; }',
        'static inline int64_t fmod_(int64_t a, int64_t b) { int64_t r = a % b; return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r; }',
        ...['float', 'double'].map((c) => `static inline ${c} max_${c === 'float' ? 'f32' : 'f64'}(${c} a, ${c} b) { return a != a || b != b ? NAN : a > b ? a : b; }\nstatic inline ${c} min_${c === 'float' ? 'f32' : 'f64'}(${c} a, ${c} b) { return a != a || b != b ? NAN : a < b ? a : b; }`),
        ...['int32_t', 'int64_t', 'uint8_t', 'bool'].map((c) => { const n = Object.keys(C_TYPE).find((k) => C_TYPE[k] === c); return `static inline ${c} max_${n}(${c} a, ${c} b) { return a > b ? a : b; }\nstatic inline ${c} min_${n}(${c} a, ${c} b) { return a < b ? a : b; }`; }),
        '', ...weights, '', ...kernels, '',
        'void model_run(const void* const inputs[], void* const outputs[], void* workspace) {',
        '  (void)inputs; (void)outputs; (void)workspace;',
        ...p.buffers.map((b) => `  ${b.role === 'input' || b.role === 'weight' ? 'const ' : ''}${type(b.dtype, b.name)}* b_${b.name} = ${ptr(b)}; (void)b_${b.name};`),
        ...calls, ...copies, '}', '',
      ].join('\n');
      const sizes = (names) => names.map((n) => aic.bufferBytes(buffers.get(n)));
      const main = `/* main.c: model in0.bin … -> out0.bin …, raw little-endian elements */\n#include "model.h"\n#include <stdio.h>\n#include <stdlib.h>\n
static const long in_bytes[] = {${[...sizes(p.inputs), 0].join(', ')}}, out_bytes[] = {${[...sizes(p.outputs), 0].join(', ')}};
int main(int argc, char** argv) {
  void* in[${Math.max(1, p.inputs.length)}]; void* out[${Math.max(1, p.outputs.length)}];
  if (argc != ${p.inputs.length + p.outputs.length + 1}) { fprintf(stderr, "usage: model IN... OUT...\\n"); return 2; }
  for (int i = 0; i < ${p.inputs.length}; i++) {
    FILE* f = fopen(argv[1 + i], "rb"); in[i] = malloc(in_bytes[i] + 1);
    if (!f || fread(in[i], 1, in_bytes[i], f) != (size_t)in_bytes[i]) { fprintf(stderr, "cannot read %s\\n", argv[1 + i]); return 1; }
    fclose(f);
  }
  for (int k = 0; k < ${p.outputs.length}; k++) out[k] = malloc(out_bytes[k] + 1);
  void* ws = malloc(MODEL_WORKSPACE_BYTES);
  model_run((const void* const*)in, out, ws);
  for (int k = 0; k < ${p.outputs.length}; k++) {
    FILE* f = fopen(argv[1 + ${p.inputs.length} + k], "wb");
    if (!f || fwrite(out[k], 1, out_bytes[k], f) != (size_t)out_bytes[k]) { fprintf(stderr, "cannot write %s\\n", argv[1 + ${p.inputs.length} + k]); return 1; }
    fclose(f);
  }
  return 0;
}\n`;
      return { files: new Map([['model.h', header], ['model.c', source], ['main.c', main]]), main: 'model.c' };
    },
    async build(_a, dir) {
      const r = await exec(cc, ['-std=c99', '-O2', '-o', 'model', 'model.c', 'main.c', '-lm'], dir);
      if (r.status !== 0) aic.fail('E_BUILD', `c99: ${cc} failed: ${(r.output.split('\n').find((l) => l.includes('error')) ?? r.output).trim()} (generated file: ${join(dir, 'model.c')})`);
      return { dir, entry: 'model' };
    },
    async run(b, p, inputs) {
      const tmp = mkdtempSync(join(tmpdir(), 'aic-c99-'));
      try {
        const ins = inputs.map((t, i) => {
          const f = join(tmp, `in${i}.bin`);
          writeFileSync(f, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
          return f;
        });
        const outs = p.outputs.map((_, k) => join(tmp, `out${k}.bin`));
        const r = await exec(join(b.dir, b.entry), [...ins, ...outs], tmp);
        if (r.status !== 0) aic.fail('E_RUNTIME', `c99: ${r.output.trim() || `the model exited with status ${r.status}`}`);
        return p.outputs.map((n, k) => {
          const buf = aic.getBuffer(p, n);
          const bytes = readFileSync(outs[k]);
          const data = new aic.DTYPE_INFO[buf.dtype].array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
          return new aic.Tensor(buf.dtype, buf.shape, data);
        });
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    },
    unavailable: () => (spawnSyncOk(cc) ? undefined : `${cc} not found`),
  };
}

/** The C99 hex literal of a positive finite double: exact, whatever the value. */
function hexFloat(x) {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  const bits = buf.getBigUint64(0);
  let exp = Number((bits >> 52n) & 0x7ffn);
  const mant = bits & ((1n << 52n) - 1n);
  const lead = exp === 0 ? 0 : 1;
  if (exp === 0) exp = 1;
  return `0x${lead}.${mant.toString(16).padStart(13, '0')}p${exp - 1023}`;
}

function exec(cmd, args, cwd) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (e) => resolve({ status: -1, output: e.message }));
    child.on('close', (status) => resolve({ status, output }));
  });
}

function spawnSyncOk(cmd) {
  return spawnSync(cmd, ['--version'], { encoding: 'utf8' }).status === 0;
}
