/** The helper registry: every prototype the verifier and the runtime know, by id and by name. */
import { helperName } from './helper-ids.ts';
import type { HelperProto } from './helper-proto.ts';
import { LINUX_HELPER_PROTOS } from './linux-helpers.ts';
import { PROPOSED_HELPER_PROTOS } from './proposed-helpers.ts';

export const HELPER_PROTOS: readonly HelperProto[] = Object.freeze([...LINUX_HELPER_PROTOS, ...PROPOSED_HELPER_PROTOS]);

const BY_ID: ReadonlyMap<number, HelperProto> = new Map(HELPER_PROTOS.map((p) => [p.id, p]));

/**
 * Prototype of a helper id, or undefined when the id is unknown or a Linux helper whose prototype
 * is not modelled (the verifier then rejects the call as the kernel does for a helper the program
 * type lacks: `unknown func <name>#<id>`).
 */
export const helperById = (id: number): HelperProto | undefined => BY_ID.get(id);

/** Prototype by `bpf_` name (or the name without the prefix). */
export const helperByName = (name: string): HelperProto | undefined =>
  HELPER_PROTOS.find((p) => p.name === name || p.name === `bpf_${name}`);

/** Sanity of the registry itself: each prototype's name is the name its id has. */
export const registryMismatches = (): string[] =>
  HELPER_PROTOS.filter((p) => helperName(p.id) !== p.name).map((p) => `${p.name}#${p.id}`);
