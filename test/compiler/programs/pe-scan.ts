import { arrayMap, program, struct, type u32 } from '../../../compiler/dsl/index.ts';

export const input = arrayMap({ valueSize: 512, maxEntries: 1 });

const SectionHeader = struct({
  name: 8,
  virtualSize: 'u32',
  virtualAddress: 'u32',
  sizeOfRawData: 'u32',
  pointerToRawData: 'u32',
  pointerToRelocations: 'u32',
  pointerToLinenumbers: 'u32',
  numberOfRelocations: 'u16',
  numberOfLinenumbers: 'u16',
  characteristics: 'u32',
});

/** Index of the PE section named ".linux", or a negative error. */
export const peScan = program({ section: 'syscall', license: 'GPL', fault: -9 }, () => {
  const data = input.lookup(0);
  if (data === null) return -1;
  if (data.u16(0) !== 0x5a4d) return -2;
  const pe = data.u32(0x3c);
  if (data.u32(pe) !== 0x4550) return -3;
  const sections = data.u16(pe + 6);
  const first = pe + 24 + data.u16(pe + 20);
  for (let i: u32 = 0; i < 16 && i < sections; i++) {
    const sh = SectionHeader.at(data, first + i * 40);
    if (sh.name.u32(0) === 0x6e696c2e && sh.name.u16(4) === 0x7875 && sh.name.u16(6) === 0) return i;
  }
  return -4;
});
