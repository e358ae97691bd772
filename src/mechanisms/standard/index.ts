/**
 * The standard auction PVCG-ε (mechanisms.md Decision 2, Part B): types, the exact winner
 * determination, the mechanism as a task graph, validation and canonical encodings.
 *
 * @example
 *   import { runPvcg, validateStandardAuctionInput } from './mechanisms/standard/index.js';
 *   const input = validateStandardAuctionInput(JSON.parse(text));
 *   const outcome = runPvcg(input, seed); // seed: 32 bytes from the common coin
 *
 * @packageDocumentation
 */
export * from './types.js';
export {
  BNB_SOLVER,
  ORACLE_SOLVER,
  WdpInstance,
  exactMax,
  exactMaxBnB,
  exactMaxOracle,
  type BnbOptions,
  type BoundKind,
  type WdpProblem,
  type WdpSolution,
} from './solver.js';
export {
  LAMBDA_LABEL,
  LOTTERY_LABEL,
  allocate,
  drawPerturbation,
  finalize,
  mergePayments,
  paymentsFor,
  planPaymentTasks,
  runPvcg,
  runPvcgWithPerturbation,
  winnersOf,
  type PvcgOptions,
} from './pvcg.js';
export {
  MAX_RESOURCES,
  MAX_STANDARD_BID,
  MAX_STANDARD_PROVIDERS,
  MAX_STANDARD_USERS,
  parseStandardProvider,
  parseStandardUser,
  validateStandardAuctionInput,
} from './validate.js';
export {
  decodePayments,
  decodeStandardBid,
  decodeStandardOutcome,
  encodePayments,
  encodeStandardBid,
  encodeStandardOutcome,
  encodeStandardProvider,
  standardOutcomeToJson,
  type StandardReport,
} from './codec.js';
export { standardAuctionMechanism, standardInput, type StandardParams } from './mechanism.js';
