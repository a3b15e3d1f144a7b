/**
 * The stack-slot liveness data-flow on its own: reads make a slot live back to the write that kills
 * it, a write counts only when every visit made it, and updates after more marks reach the same
 * answer as solving from scratch.
 */
import { describe, expect, it } from 'vitest';
import { flowGraph } from '../../../runtime/verifier/liveness.ts';
import { fromRawSlots } from '../../../runtime/verifier/program.ts';
import { StackLiveness } from '../../../runtime/verifier/stack-liveness.ts';
import { asmSlots } from './support/asm.ts';

// 0: r1 = 0 / 1: if r1 > 1 goto +2 / 2: r2 = 0 / 3: goto +1 / 4: r2 = 1 / 5: r0 = 0 / 6: exit
const PROGRAM = 'r1 = 0\n if r1 > 1 goto +2\n r2 = 0\n goto +1\n r2 = 1\n r0 = 0\n exit';
const liveness = (): StackLiveness => new StackLiveness(flowGraph(fromRawSlots(asmSlots(PROGRAM))));
const visit = (l: StackLiveness, insn: number, writes: number[] = [], reads: number[] = []): void => {
  l.begin(insn);
  for (const spi of reads) l.read(insn, spi);
  for (const spi of writes) l.write(spi);
  l.commit();
};
const liveAt = (l: StackLiveness, spi: number): number[] => [0, 1, 2, 3, 4, 5, 6].filter((i) => l.isLive(i, spi));

describe('stack-slot liveness', () => {
  it('makes a read slot live back along every path to its last write', () => {
    const l = liveness();
    visit(l, 5, [], [3]);
    l.update();
    expect(liveAt(l, 3)).toEqual([0, 1, 2, 3, 4, 5]);
    visit(l, 4, [3]);
    visit(l, 2, [3]);
    l.update();
    // both branches write slot 3 before the read: dead above them
    expect(liveAt(l, 3)).toEqual([3, 5]);
  });

  it('keeps a write only while every visit made it (a must-write)', () => {
    const l = liveness();
    visit(l, 5, [], [7]);
    visit(l, 2, [7]);
    l.update();
    expect(l.isLive(2, 7)).toBe(false);
    expect(l.isLive(1, 7)).toBe(true); // the other branch (4) does not write it
    visit(l, 2, []); // a later visit without the write
    l.update();
    expect(l.isLive(2, 7)).toBe(true);
  });

  it('treats slots 32-63 like the low ones', () => {
    const l = liveness();
    visit(l, 6, [], [40]);
    visit(l, 0, [40]);
    l.update();
    expect(liveAt(l, 40)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(liveAt(l, 8)).toEqual([]);
  });

  it('reaches the same answer updated step by step as solved once', () => {
    const marks: [number, number[], number[]][] = [
      [5, [], [1, 2, 33]],
      [2, [1], []],
      [4, [2], [33]],
      [1, [], [2]],
      [6, [], [1]],
    ];
    const stepwise = liveness();
    for (const [insn, w, r] of marks) {
      visit(stepwise, insn, w, r);
      stepwise.update();
    }
    const once = liveness();
    for (const [insn, w, r] of marks) visit(once, insn, w, r);
    once.update();
    for (const spi of [1, 2, 33]) expect(liveAt(stepwise, spi)).toEqual(liveAt(once, spi));
  });
});
