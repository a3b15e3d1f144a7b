/**
 * Stack slots are shared copy-on-write between copies of a state: a write through one copy must
 * never show in another, whichever copy writes first.
 */
import { describe, expect, it } from 'vitest';
import { knownBounds } from '../../../runtime/verifier/domain/bounds.ts';
import {
  cloneState,
  curFrame,
  ensureSlot,
  newFrame,
  newState,
  Slot,
  updateRegs,
  type VerifierState,
  writableSlot,
} from '../../../runtime/verifier/state/frame.ts';
import { assignReg, makeReg, type RegState } from '../../../runtime/verifier/state/reg.ts';

const spill = (s: VerifierState, spi: number, r: RegState): void => {
  const slot = writableSlot(curFrame(s), spi);
  assignReg(slot.spilled, r);
  slot.types.fill(Slot.SPILL);
};

const stateWithSpill = (): VerifierState => {
  const s: VerifierState = newState();
  spill(s, 0, makeReg('scalar', { id: 7 }));
  spill(s, 1, makeReg('map_value', { id: 9 }));
  return s;
};

describe('copy-on-write stack slots', () => {
  it('a copy shares its slots until one side writes', () => {
    const a = stateWithSpill();
    const b = cloneState(a);
    expect(curFrame(b).stack[0]).toBe(curFrame(a).stack[0]);
    expect(ensureSlot(curFrame(b), 0)).toBe(curFrame(a).stack[0]);
  });

  it('writes through the copy leave the original alone, and the other way round', () => {
    const a = stateWithSpill();
    const b = cloneState(a);
    const own = writableSlot(curFrame(b), 0);
    own.types[0] = Slot.MISC;
    own.spilled.b = knownBounds(42n);
    expect(curFrame(a).stack[0]?.types[0]).toBe(Slot.SPILL);
    expect(curFrame(a).stack[0]?.spilled.b).toEqual(knownBounds(0n));
    // the original still sees its slot as shared: its own write copies too
    writableSlot(curFrame(a), 0).types[1] = Slot.ZERO;
    expect(curFrame(b).stack[0]?.types[1]).toBe(Slot.SPILL);
    // a slot a frame already owns is written in place
    expect(writableSlot(curFrame(b), 0)).toBe(own);
  });

  it('updateRegs copies a shared spill before updating it, and only the matching ones', () => {
    const a = stateWithSpill();
    const b = cloneState(a);
    const before1 = curFrame(a).stack[1];
    updateRegs(
      b,
      (r) => r.id === 7,
      (r) => {
        r.id = 8;
      },
    );
    expect(curFrame(a).stack[0]?.spilled.id).toBe(7);
    expect(curFrame(b).stack[0]?.spilled.id).toBe(8);
    expect(curFrame(b).stack[1]).toBe(before1);
  });

  it('visits registers before spills, frame by frame', () => {
    const s = stateWithSpill();
    s.frames.push(newFrame(1, 1, 3));
    const seen: string[] = [];
    updateRegs(
      s,
      (r) => r.type !== 'not_init',
      (r) => {
        seen.push(r.type);
      },
    );
    expect(seen).toEqual(['stack', 'scalar', 'map_value', 'stack']);
  });
});
