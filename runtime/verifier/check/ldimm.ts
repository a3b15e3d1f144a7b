/** 64-bit immediates (check_ld_imm) and the legacy packet loads (check_ld_abs). */
import type { Insn } from '../../../bpf/isa/index.ts';
import { markKnown } from '../domain/bounds.ts';
import { assignReg, makeReg, markNotInit, markScalarUnknown } from '../state/reg.ts';
import { checkRegArg, type Env, reg, VerifierError } from './env.ts';

/** check_ld_imm: constants, map pointers, map values and callback addresses. */
export const checkLdImm = (env: Env, insn: Insn): void => {
  checkRegArg(env, insn.dst, 'dst');
  const dst = reg(env, insn.dst);
  const src = insn.src;
  if (src === 0) {
    markKnown(dst.b, (BigInt(insn.imm2 >>> 0) << 32n) | BigInt(insn.imm >>> 0));
    dst.type = 'scalar';
    return;
  }
  if (src === 4) {
    const subprogno = env.cfg.subprogs.indexOf(env.insnIdx + insn.imm + 1);
    if (!env.funcLinkage) throw new VerifierError('missing btf func_info', 'EINVAL');
    if (env.funcLinkage[subprogno] !== 'static') throw new VerifierError('callback function not static', 'EINVAL');
    assignReg(dst, makeReg('func', { subprogno }));
    return;
  }
  if (src === 3) throw new VerifierError('ld_imm64 of a BTF id is not modelled by this verifier yet', 'ENOTSUPP');
  const map = env.maps[insn.imm];
  if (!map) throw new VerifierError(`fd ${insn.imm} is not pointing to valid bpf_map`, 'EINVAL');
  const isValue = src === 2 || src === 6;
  assignReg(dst, makeReg(isValue ? 'map_value' : 'map_ptr', { map, off: isValue ? insn.imm2 : 0 }));
};

/** check_ld_abs: legacy skb loads; R6 is the context, R1-R5 are clobbered. */
export const checkLdAbs = (env: Env, insn: Insn): void => {
  if (!env.policy.ldAbs) {
    throw new VerifierError('BPF_LD_[ABS|IND] instructions not allowed for this program type', 'EINVAL');
  }
  checkRegArg(env, 6, 'src');
  if (env.state.refs.length) {
    throw new VerifierError('BPF_LD_[ABS|IND] would lead to reference leak', 'EINVAL');
  }
  if (reg(env, 6).type !== 'ctx') {
    throw new VerifierError('at the time of BPF_LD_ABS|IND R6 != pointer to skb', 'EINVAL');
  }
  if (insn.spec.kind === 'ldind') checkRegArg(env, insn.src, 'src');
  for (let i = 1; i <= 5; i++) markNotInit(reg(env, i));
  markScalarUnknown(reg(env, 0));
};
