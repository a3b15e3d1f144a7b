/**
 * Jump-target annotations as llvm-objdump prints them (`goto +5 <LBB0_2>`, `goto -1 <f+0x18>`).
 *
 * llvm-objdump (LLVM 14, relocatable objects) takes the symbols defined in the jump's own section,
 * leaves out section symbols, adds the section's name as a symbol at offset 0 when no symbol sits
 * there, sorts by (address, name) and picks the last symbol at or below the target. The target is
 * computed in unsigned 64-bit arithmetic, so a jump before the section start wraps around and shows a
 * huge displacement from the section's last symbol. Measured against llvm-objdump 14.0.6.
 */

/** A symbol defined in the section being disassembled (not STT_SECTION / STT_FILE). */
export interface SectionSymbol {
  readonly name: string;
  /** Byte offset in the section. */
  readonly offset: number;
}

/** What llvm-objdump knows about the section: its name and its symbols. */
export interface SectionContext {
  readonly section: string;
  readonly symbols: readonly SectionSymbol[];
}

const U64 = (1n << 64n) - 1n;

/** The annotation lookup for one section. */
export class TargetNames {
  private readonly sorted: readonly { name: string; at: bigint }[];

  constructor(ctx: SectionContext) {
    const list = ctx.symbols.map((s) => ({ name: s.name, at: BigInt(s.offset) }));
    if (!list.some((s) => s.at === 0n)) list.push({ name: ctx.section, at: 0n });
    list.sort((a, b) => (a.at !== b.at ? (a.at < b.at ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.sorted = list;
  }

  /** ` <name>` or ` <name+0xhex>` for a target given in slots from the section start (may be negative). */
  annotate(targetSlot: number): string {
    const target = BigInt.asUintN(64, BigInt(targetSlot) * 8n);
    let best: { name: string; at: bigint } | undefined;
    for (const s of this.sorted) {
      if (s.at > target) break;
      best = s;
    }
    if (best === undefined) return '';
    const disp = (target - best.at) & U64;
    return disp === 0n ? ` <${best.name}>` : ` <${best.name}+0x${disp.toString(16)}>`;
  }
}
