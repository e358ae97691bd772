/**
 * The session parameters of the faithful bid agreement (protocols.md §3.1): the fixed, sorted
 * bidder registry that names the lanes, the knowledge-sharing flavour and the decision rule.
 * They are part of the parameter hash, hence of the session id, so providers that disagree on
 * any of them never accept each other's messages.
 */
import { Writer, utf8 } from '../../core/bytes.js';
import { ConfigError } from '../../core/errors.js';
import { AGENT_ID_PATTERN, compareIds } from '../../core/units.js';
import { FIELD_PRIME } from './shamir.js';

/** Knowledge sharing: Shamir shares (`it`, §4.1) or hash commitments (`crypto`, §4.2). */
export type KsFlavour = 'it' | 'crypto';

/** The per-lane decision rule (§2.4). */
export type DecisionRule = 'majority' | 'leader';

/** Every KS flavour, in documentation order. */
export const KS_FLAVOURS: readonly KsFlavour[] = ['it', 'crypto'];

/** Every decision rule, the default first. */
export const DECISION_RULES: readonly DecisionRule[] = ['majority', 'leader'];

/** Largest registry accepted (lanes = bidders × bits per bid must stay addressable). */
export const MAX_REGISTRY = 1_000_000;

/** Parameters of the faithful mode, fixed per session. */
export interface FaithfulParams {
  /** Bidder ids, sorted in byte order, each once: bidder t owns lanes t·L … t·L+L−1. */
  readonly bidders: readonly string[];
  readonly ks: KsFlavour;
  readonly rule: DecisionRule;
}

/**
 * The registry in canonical form: sorted by byte order. Throws ConfigError on a bad or
 * repeated id, naming it.
 */
export function sortedRegistry(ids: readonly string[]): string[] {
  const out = [...ids].sort(compareIds);
  for (let t = 0; t < out.length; t++) {
    if (!AGENT_ID_PATTERN.test(out[t]!)) {
      throw new ConfigError(`bidders: ${JSON.stringify(out[t])} is not a valid agent id`);
    }
    if (t > 0 && out[t] === out[t - 1]) {
      throw new ConfigError(`bidders: ${out[t]} appears twice`);
    }
  }
  return out;
}

/**
 * Refuses faithful parameters the protocol cannot run with: an unsorted or repeated registry,
 * an unknown flavour or rule, or m ≥ p (Shamir needs distinct non-zero points).
 */
export function checkFaithfulParams(p: FaithfulParams | undefined, m: number): FaithfulParams {
  if (!p) throw new ConfigError('agreement faithful needs a bidder registry, ks and decision rule');
  if (!KS_FLAVOURS.includes(p.ks)) throw new ConfigError(`ks: expected it or crypto, got ${p.ks}`);
  if (!DECISION_RULES.includes(p.rule)) {
    throw new ConfigError(`decisionRule: expected majority or leader, got ${p.rule}`);
  }
  if (p.bidders.length > MAX_REGISTRY) {
    throw new ConfigError(`bidders: at most ${MAX_REGISTRY}, got ${p.bidders.length}`);
  }
  const sorted = sortedRegistry(p.bidders);
  if (sorted.some((id, t) => id !== p.bidders[t])) {
    throw new ConfigError('bidders: the registry must be sorted in byte order');
  }
  if (m >= FIELD_PRIME) throw new ConfigError(`providers: ks it needs m < ${FIELD_PRIME}`);
  return p;
}

/** Canonical bytes of the faithful parameters, appended to the parameter hash. */
export function faithfulParamsBytes(p: FaithfulParams): Uint8Array {
  const w = new Writer().raw(utf8('DA/faithful/v1')).string(p.ks).string(p.rule);
  w.u32(p.bidders.length);
  for (const id of p.bidders) w.string(id);
  return w.finish();
}
