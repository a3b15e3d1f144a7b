/**
 * The `ukibpf` subcommands. Each module exports `register(program)`; add a line here for a new one.
 */
import type { Command } from 'commander';
import { register as asm } from './asm.ts';
import { register as build } from './build.ts';
import { register as buildAddon } from './build-addon.ts';
import { register as compile } from './compile.ts';
import { register as disasm } from './disasm.ts';
import { register as inject } from './inject.ts';
import { register as inspect } from './inspect.ts';
import { register as objdump } from './objdump.ts';
import { register as run } from './run.ts';
import { register as sign } from './sign.ts';
import { register as verify } from './verify.ts';
import { register as verifySig } from './verify-sig.ts';

type Register = (program: Command) => void;

export const COMMANDS: readonly Register[] = [
  asm,
  compile,
  disasm,
  objdump,
  run,
  inject,
  sign,
  verify,
  verifySig,
  inspect,
  build,
  buildAddon,
];
