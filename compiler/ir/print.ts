/** Text form of the IR (`--emit ir`). */
import type { IrFunction, IrInsn, Operand, Terminator } from './ir.ts';

const op = (o: Operand): string => ('imm' in o ? `${o.imm}` : `v${o.reg}`);

const insnText = (i: IrInsn): string => {
  switch (i.op) {
    case 'const':
      return `v${i.dst} = ${i.value}`;
    case 'mov':
      return `v${i.dst} = v${i.src}`;
    case 'alu':
      return `v${i.dst} = ${i.alu}${i.w} v${i.a}, ${op(i.b)}`;
    case 'neg':
      return `v${i.dst} = neg v${i.a}`;
    case 'load':
      return `v${i.dst} = load${i.size * 8} [v${i.base} + ${i.off}]`;
    case 'store':
      return `store${i.size * 8} [v${i.base} + ${i.off}], ${op(i.src)}`;
    case 'stack':
      return `v${i.dst} = fp - ${i.off}`;
    case 'map':
      return `v${i.dst} = map ${i.map}`;
    case 'rodata':
      return `v${i.dst} = .rodata + ${i.offset}`;
    case 'funcaddr':
      return `v${i.dst} = &${i.fn}`;
    case 'call':
      return `${i.dst === undefined ? '' : `v${i.dst} = `}call ${i.name}(${i.args.map(op).join(', ')})`;
    case 'ctx':
      return `v${i.dst} = ctx`;
    case 'arg':
      return `v${i.dst} = arg ${i.index}`;
  }
};

const termText = (t: Terminator): string =>
  t.op === 'jmp'
    ? `jmp b${t.target}`
    : t.op === 'br'
      ? `if ${t.cond} v${t.a}, ${op(t.b)} then b${t.t} else b${t.f}`
      : `ret ${op(t.value)}`;

export const printIr = (f: IrFunction, order: readonly number[]): string => {
  const lines = [`function ${f.name} (stack ${f.stackSize})`];
  for (const id of order) {
    const b = f.blocks[id];
    if (b === undefined) continue;
    lines.push(`b${id}:`);
    for (const i of b.insns) lines.push(`  ${insnText(i)}${i.loc ? `    ; ${i.loc.line}:${i.loc.col}` : ''}`);
    if (b.term) lines.push(`  ${termText(b.term)}`);
  }
  return `${lines.join('\n')}\n`;
};
