// A kernel writer for fragments of a kernel rendered outside the loop renderer's own nest: a GEMM operand's
// statements, a GEMM's epilogue, a pooling kernel's tail. The caller declares which axes are in scope
// (and spells their loops); the writer renders the statements with the kernel writer's rules.
import type { IndexExpr } from '../../kernel/index-expr.js';
import type { Axis, LoopKernel, Stmt } from '../../kernel/kernel.js';
import type { LetStmt } from '../kernel-writer.js';
import { CpuKernelWriter, type KernelContext } from './kernel.js';

/** The kernel writer over the axes the caller puts in scope. */
export class FragmentWriter extends CpuKernelWriter {
  constructor(k: LoopKernel, ctx: KernelContext, depth: number) {
    super(k, ctx, depth);
  }

  scope(axes: readonly Axis[]): void {
    for (const a of axes) this.axes.set(a.name, a.extent);
  }

  let_(s: LetStmt): void {
    this.let(s);
  }

  stmts(body: readonly Stmt[]): void {
    this.body(body);
  }

  line(l: string): void {
    this.emit(l);
  }

  defineValue(id: number, t: 'f32', expr: string): void {
    this.define(id, t);
    this.emit(`const float v${id} = ${expr};`);
  }

  text(): string[] {
    return this.lines;
  }

  name(axis: string): string {
    return this.axisName(axis);
  }

  idx(e: IndexExpr): string {
    return this.index(e);
  }
}
