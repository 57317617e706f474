// Golden tests: each pass on a small graph, before and after as IR text (DCE after each, so the text
// shows what remains).
import { describe, expect, test } from 'vitest';
import { parseGraph } from '../../src/ir/parser.js';
import { printGraph } from '../../src/ir/printer.js';
import { verifyGraph } from '../../src/ir/verify.js';
import { findPass } from '../../src/passes/pass.js';
import '../../src/passes/manager.js';

const ctx = { opsets: new Map([['', 21]]), target: 'interp' };

function run(passName: string, text: string): string {
  const g = parseGraph(text);
  verifyGraph(g);
  const out = findPass('dce')!.run(findPass(passName)!.run(g, ctx), ctx);
  verifyGraph(out);
  return printGraph(out);
}

const trim = (s: string): string => `${s.trim().split('\n').map((l) => l.replace(/^ {4}/, '')).join('\n')}\n`;

describe('fold', () => {
  test('shape arithmetic becomes a constant', () => {
    expect(run('fold', `
      graph @g(%x: f32[2,3]) -> (%y: f32[6]) {
        %s = prim.const() {value=dense<i64[2]: [2, 3]>} : i64[2]
        %n = prim.reduce_prod(%s) {axes=[0], keepdims=0} : i64[]
        %y = prim.reshape(%x) : f32[6]
      }`)).toBe(trim(`
    graph @g(%x: f32[2,3]) -> (%y: f32[6]) {
      %y = prim.reshape(%x) : f32[6]
    }`));
    expect(run('fold', `
      graph @g() -> (%n: i64[]) {
        %s = prim.const() {value=dense<i64[2]: [2, 3]>} : i64[2]
        %n = prim.reduce_prod(%s) {axes=[0], keepdims=0} : i64[]
      }`)).toBe(trim(`
    graph @g() -> (%n: i64[]) {
      %n = prim.const() {value=dense<i64[]: [6]>} : i64[]
    }`));
  });

  test('a broadcast that would blow a constant up stays', () => {
    const text = trim(`
    graph @g() -> (%y: f32[300,300]) {
      %c = prim.const() {value=dense<f32[]: [1.0]>} : f32[]
      %y = prim.broadcast(%c) : f32[300,300]
    }`);
    expect(run('fold', text)).toBe(text);
  });
});

describe('simplify', () => {
  test('x + 0, cast to the same type and a double negation disappear', () => {
    expect(run('simplify', `
      graph @g(%x: f32[4]) -> (%w: f32[4]) {
        %z = prim.const() {value=dense<f32[]: [0.0]>} : f32[]
        %a = prim.add(%x, %z) : f32[4]
        %b = prim.cast(%a) {to=f32} : f32[4]
        %y = prim.neg(%b) : f32[4]
        %w = prim.neg(%y) : f32[4]
      }`)).toBe(trim(`
    graph @g(%x: f32[4]) -> (%x: f32[4]) {
    }`));
  });

  test('x + 0 that broadcasts x stays', () => {
    const text = trim(`
    graph @g(%x: f32[4]) -> (%a: f32[2,4]) {
      %z = prim.const() {value=dense<f32[2,1]: [0.0, 0.0]>} : f32[2,1]
      %a = prim.add(%x, %z) : f32[2,4]
    }`);
    expect(run('simplify', text)).toBe(text);
  });

  test('where on a constant condition picks a side', () => {
    expect(run('simplify', `
      graph @g(%a: f32[3], %b: f32[3]) -> (%y: f32[3]) {
        %c = prim.const() {value=dense<bool[]: [false]>} : bool[]
        %y = prim.where(%c, %a, %b) : f32[3]
      }`)).toBe(trim(`
    graph @g(%a: f32[3], %b: f32[3]) -> (%b: f32[3]) {
    }`));
  });
});

describe('views', () => {
  test('permute of permute and reshape of reshape fold', () => {
    expect(run('views', `
      graph @g(%x: f32[2,3,4]) -> (%d: f32[24]) {
        %a = prim.permute(%x) {perm=[1,0,2]} : f32[3,2,4]
        %b = prim.permute(%a) {perm=[2,1,0]} : f32[4,2,3]
        %c = prim.reshape(%b) : f32[8,3]
        %d = prim.reshape(%c) : f32[24]
      }`)).toBe(trim(`
    graph @g(%x: f32[2,3,4]) -> (%d: f32[24]) {
      %b = prim.permute(%x) {perm=[2, 0, 1]} : f32[4,2,3]
      %d = prim.reshape(%b) : f32[24]
    }`));
  });

  test('slice of slice is one slice', () => {
    expect(run('views', `
      graph @g(%x: f32[10]) -> (%b: f32[2]) {
        %a = prim.slice(%x) {axes=[0], starts=[1], steps=[2], stops=[10]} : f32[5]
        %b = prim.slice(%a) {axes=[0], starts=[3], steps=[-2], stops=[-10]} : f32[2]
      }`)).toBe(trim(`
    graph @g(%x: f32[10]) -> (%b: f32[2]) {
      %b = prim.slice(%x) {axes=[0], starts=[7], steps=[-4], stops=[2]} : f32[2]
    }`));
  });
});

describe('cse and dce', () => {
  test('two equal nodes and two equal constants become one each', () => {
    expect(run('cse', `
      graph @g(%x: f32[4]) -> (%y: f32[4]) {
        %c1 = prim.const() {value=dense<f32[]: [2.0]>} : f32[]
        %c2 = prim.const() {value=dense<f32[]: [2.0]>} : f32[]
        %a = prim.mul(%x, %c1) : f32[4]
        %b = prim.mul(%x, %c2) : f32[4]
        %y = prim.add(%a, %b) : f32[4]
      }`)).toBe(trim(`
    graph @g(%x: f32[4]) -> (%y: f32[4]) {
      %c1 = prim.const() {value=dense<f32[]: [2.0]>} : f32[]
      %a = prim.mul(%x, %c1) : f32[4]
      %y = prim.add(%a, %a) : f32[4]
    }`));
  });

  test('dce keeps what a nested graph reads', () => {
    const text = trim(`
    graph @g(%x: f32[4]) -> (%y: f32[4]) {
      %e = prim.exp(%x) : f32[4]
      %unused = prim.neg(%x) : f32[4]
      %y = prim.neg(%e) : f32[4]
    }`);
    expect(run('dce', text)).toBe(trim(`
    graph @g(%x: f32[4]) -> (%y: f32[4]) {
      %e = prim.exp(%x) : f32[4]
      %y = prim.neg(%e) : f32[4]
    }`));
  });
});
