// One PTX function body being written: virtual registers by class (declared at the top of the function
// as nvcc does, `.reg .f32 %f<12>;`), instructions, and labels unique to the function.
import type { RegClass } from './types.js';

const PREFIX: Record<RegClass, string> = { pred: 'p', b16: 'rs', b32: 'r', b64: 'rd', f32: 'f', f64: 'fd' };
const DECL: Record<RegClass, string> = { pred: '.pred', b16: '.b16', b32: '.b32', b64: '.b64', f32: '.f32', f64: '.f64' };

export class PtxBuilder {
  private readonly counts = new Map<RegClass, number>();
  readonly lines: string[] = [];
  private labels = 0;

  constructor(private readonly labelPrefix: string) {}

  /** A fresh virtual register of a class (numbered from 1, as nvcc numbers them). */
  reg(c: RegClass): string {
    const n = (this.counts.get(c) ?? 0) + 1;
    this.counts.set(c, n);
    return `%${PREFIX[c]}${n}`;
  }

  label(): string {
    return `$L_${this.labelPrefix}_${this.labels++}`;
  }

  /** An instruction (the `;` is added). */
  ins(text: string): void {
    this.lines.push(`\t${text};`);
  }

  place(label: string): void {
    this.lines.push(`${label}:`);
  }

  comment(text: string): void {
    this.lines.push(`\t// ${text.replace(/\n/g, ' ')}`);
  }

  /** `.reg` declarations of every register used. */
  declarations(): string[] {
    const order: RegClass[] = ['pred', 'b16', 'b32', 'b64', 'f32', 'f64'];
    return order.filter((c) => this.counts.has(c)).map((c) => `\t.reg ${DECL[c]} \t%${PREFIX[c]}<${this.counts.get(c)! + 1}>;`);
  }
}
