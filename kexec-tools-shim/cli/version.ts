/** The toolchain's version: package.json's, the one definition (`--version` of every CLI). */
import { createRequire } from 'node:module';

export const VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
