/** Messages between the hosting thread (session.ts) and the two loader threads (thread-a.ts, thread-b.ts). */
import type { SyscallEndpoint } from '../../runtime/kernel/index.ts';

export interface AddonFile {
  /** The name written to the addon-name map (the file's base name, as the image's parser expects). */
  readonly name: string;
  readonly path: string;
}

export interface LoadJob {
  readonly kernelPath: string;
  readonly initrdPath: string | undefined;
  /** The command line without its NUL; undefined for none. */
  readonly cmdline: string | undefined;
  readonly flags: number;
}

export type ThreadJob =
  | { readonly role: 'threadA'; readonly endpoint: SyscallEndpoint }
  | {
      readonly role: 'threadB';
      readonly endpoint: SyscallEndpoint;
      readonly procRoot: string;
      /** Test hook: 'crash' makes the loader throw once it read the section; 'slow:MS' delays eventfd B. */
      readonly fault: string | undefined;
    };

/** Hosting thread → ThreadA. */
export type ToThreadA = { readonly cmd: 'load'; readonly job: LoadJob } | { readonly cmd: 'stop' };
/** ThreadA → hosting thread. */
export type FromThreadA =
  | { readonly ev: 'loaded'; readonly errno: number }
  | { readonly ev: 'open-failed'; readonly path: string; readonly code: string };

/** Hosting thread → ThreadB (read synchronously between eventfd waits). */
export type ToThreadB =
  | { readonly cmd: 'arm'; readonly addons: readonly AddonFile[]; readonly logLevel: number }
  | { readonly cmd: 'release' }
  | { readonly cmd: 'stop' };

/** What ThreadB did with one `.bpf` section the kernel exposed. */
export interface StageLog {
  readonly sectionBytes: number;
  /** 'attached', or the loader step that failed ('object', 'map', 'prog', 'link'). */
  readonly step: 'attached' | 'object' | 'map' | 'prog' | 'link';
  readonly errno: number;
  readonly message: string;
  /** The verifier's log. */
  readonly log: string;
  /** ThreadB's side of the handshake for this stage, one line per step (shown with -d). */
  readonly handshake: readonly string[];
}

/** ThreadB → hosting thread. */
export type FromThreadB =
  | { readonly ev: 'ready'; readonly eventA: number; readonly eventB: number }
  | { readonly ev: 'armed'; readonly errno: number; readonly failed?: { path: string; code: string } }
  | { readonly ev: 'released'; readonly stages: readonly StageLog[] }
  | { readonly ev: 'stopped' };
