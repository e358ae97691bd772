/**
 * The double auction (STAR-Padding, mechanisms.md Part A.4): types, the mechanism, input
 * parsing and validation, and the canonical binary encodings of bids and outcomes.
 */
export type {
  AllocationEntry,
  DoubleAuctionInput,
  DoubleAuctionOutcome,
  DoubleBid,
  ProviderAsk,
  Transfer,
  UserBid,
  WinnerRule,
} from './types.js';
export {
  DEFAULT_WINNER_RULE,
  WINNER_RULES,
  parseProviderAsk,
  parseUserBid,
  runStarPadding,
  validateDoubleAuctionInput,
} from './star.js';
export {
  DOUBLE_BID_TAG_PROVIDER,
  DOUBLE_BID_TAG_USER,
  DOUBLE_OUTCOME_VERSION,
  decodeDoubleBid,
  decodeDoubleOutcome,
  doubleOutcomeToJson,
  encodeDoubleBid,
  encodeDoubleOutcome,
} from './codec.js';
