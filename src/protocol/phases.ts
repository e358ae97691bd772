/**
 * Wire codes of the protocol phases (protocols.md §11). The code is the first byte after the
 * envelope's magic and part of every signature, so a message of one phase can never be
 * replayed as another.
 */
export const Phase = {
  START: 1,
  KS_SHARE: 2,
  KS_READY: 3,
  KS_REVEAL: 4,
  BA_COMMIT: 5,
  BA_REVEAL: 6,
  IV: 7,
  CC_COMMIT: 8,
  CC_REVEAL: 9,
  DT: 10,
  /** Ours: the exchange of outcome hashes that ends a round. */
  OUTCOME: 11,
  ABORT: 15,
} as const;

/** A phase's wire code. */
export type PhaseCode = (typeof Phase)[keyof typeof Phase];

const NAMES = new Map<number, string>(Object.entries(Phase).map(([k, v]) => [v, k]));

/** True when `code` is a known phase. */
export function isPhaseCode(code: number): code is PhaseCode {
  return NAMES.has(code);
}

/** The phase's name for logs and reports, e.g. "BA_COMMIT". */
export function phaseName(code: number): string {
  return NAMES.get(code) ?? `UNKNOWN(${code})`;
}
