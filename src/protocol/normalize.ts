import { TOPICS, type SubscriptionTopic } from './constants.js';

const TOPIC_SET: ReadonlySet<string> = new Set(TOPICS);
// BASE/QUOTE: 1–20 alphanumerics each (after upper-casing), one slash.
const SYMBOL_RE = /^[A-Z0-9]{1,20}\/[A-Z0-9]{1,20}$/;

/** Prefix of a symbol subscription as the server holds it (`symbol:BTC/USDT`). */
export const SYMBOL_PREFIX = 'symbol:';

/** Lower-cases and trims a topic; returns `undefined` if it is not a valid topic. */
export function normalizeTopic(topic: unknown): SubscriptionTopic | undefined {
  if (typeof topic !== 'string') return undefined;
  const t = topic.trim().toLowerCase();
  return TOPIC_SET.has(t) ? (t as SubscriptionTopic) : undefined;
}

/** Upper-cases and trims a symbol; returns `undefined` unless it has the form `BASE/QUOTE`. */
export function normalizeSymbol(symbol: unknown): string | undefined {
  if (typeof symbol !== 'string') return undefined;
  const s = symbol.trim().toUpperCase();
  return SYMBOL_RE.test(s) ? s : undefined;
}

export type NormalizeResult =
  | { ok: true; topics: SubscriptionTopic[]; symbols: string[] }
  | { ok: false; code: 'INVALID_TOPIC' | 'INVALID_SYMBOL'; invalid: string; message: string };

/**
 * Normalises and de-duplicates the lists of a subscribe/unsubscribe request,
 * keeping first-seen order. Fails on the first invalid entry.
 */
export function normalizeSubscription(topics: readonly unknown[] = [], symbols: readonly unknown[] = []): NormalizeResult {
  const outTopics: SubscriptionTopic[] = [];
  for (const raw of topics) {
    const t = normalizeTopic(raw);
    if (!t) {
      return {
        ok: false,
        code: 'INVALID_TOPIC',
        invalid: String(raw),
        message: `Invalid topic: ${String(raw)}. Valid topics: ${TOPICS.join(', ')}`,
      };
    }
    if (!outTopics.includes(t)) outTopics.push(t);
  }
  const outSymbols: string[] = [];
  for (const raw of symbols) {
    const s = normalizeSymbol(raw);
    if (!s) {
      return {
        ok: false,
        code: 'INVALID_SYMBOL',
        invalid: String(raw),
        message: `Invalid symbol format: ${String(raw)}. Expected format: BASE/QUOTE`,
      };
    }
    if (!outSymbols.includes(s)) outSymbols.push(s);
  }
  return { ok: true, topics: outTopics, symbols: outSymbols };
}
