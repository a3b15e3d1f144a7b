/**
 * The `ukibpf` subcommands. Each module exports `register(program)`; add a line here for a new one.
 */
import type { Command } from 'commander';

type Register = (program: Command) => void;

export const COMMANDS: readonly Register[] = [];
