/**
 * The demo feed: random-walk prices and a simulated trading desk, so every topic
 * carries traffic. Owns its timers; `stop()` clears them all.
 */
import type { EventDataMap, PublishedEventType } from '../protocol/index.js';
import type { Logger } from './config.js';

type Publish = <T extends PublishedEventType>(type: T, data: EventDataMap[T]) => Promise<void>;

/** Cadences of the demo feed (ms), as in PROTOCOL.md. */
export const DEMO_CADENCE = { market: 2000, portfolio: 3000, status: 5000, health: 10_000, activityMin: 1500, activityMax: 4000 } as const;

const START_PRICES: Record<string, number> = {
  'BTC/USDT': 95_000,
  'ETH/USDT': 3_400,
  'SOL/USDT': 190,
  'BNB/USDT': 640,
  'XRP/USDT': 2.3,
};

export interface DemoDeps {
  publish: Publish;
  health(): Promise<EventDataMap['health_update']>;
  status(): EventDataMap['system_status'];
  logger?: Logger | undefined;
  random?: () => number;
}

export class DemoFeed {
  readonly #deps: DemoDeps;
  readonly #random: () => number;
  readonly #prices = new Map(Object.entries(START_PRICES).map(([s, p]) => [s, { price: p, open: p, volume: p * 1000 }]));
  readonly #positions = new Map<string, number>([['BTC/USDT', 0.5]]);
  #cash = 50_000;
  #n = 0;
  #pendingProposal: string | undefined;
  readonly #intervals: ReturnType<typeof setInterval>[] = [];
  #activity: ReturnType<typeof setTimeout> | undefined;
  #running = false;

  constructor(deps: DemoDeps) {
    this.#deps = deps;
    this.#random = deps.random ?? Math.random;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    const every = (ms: number, fn: () => void) => this.#intervals.push(setInterval(fn, ms));
    every(DEMO_CADENCE.market, () => this.#market());
    every(DEMO_CADENCE.portfolio, () => this.#emit('portfolio_update', this.portfolio()));
    every(DEMO_CADENCE.status, () => this.#emit('system_status', this.#deps.status()));
    every(DEMO_CADENCE.health, () => {
      this.#deps.health().then((h) => this.#emit('health_update', h), () => undefined);
    });
    this.#scheduleActivity();
  }

  stop(): void {
    this.#running = false;
    for (const t of this.#intervals) clearInterval(t);
    this.#intervals.length = 0;
    if (this.#activity) clearTimeout(this.#activity);
    this.#activity = undefined;
  }

  /** The simulated portfolio at current prices. */
  portfolio(): EventDataMap['portfolio_update'] {
    const positions = [...this.#positions].map(([symbol, size]) => {
      const price = this.#prices.get(symbol)?.price ?? 0;
      return { symbol, size: round(size, 6), value: round(size * price, 2) };
    });
    const invested = positions.reduce((a, p) => a + p.value, 0);
    const total = this.#cash + invested;
    const pnl = total - 100_000;
    return { total_value: round(total, 2), available_cash: round(this.#cash, 2), positions, total_pnl: round(pnl, 2), total_pnl_percent: round(pnl / 1000, 3) };
  }

  #emit<T extends PublishedEventType>(type: T, data: EventDataMap[T]): void {
    if (!this.#running) return;
    this.#deps.publish(type, data).catch((err: unknown) => this.#deps.logger?.warn(`sigmax-ws demo: publishing ${type} failed`, err));
  }

  #market(): void {
    const entries = [...this.#prices].map(([symbol, p]) => {
      p.price = Math.max(0.0001, p.price * (1 + (this.#random() - 0.5) * 0.004));
      p.volume += p.price * this.#random() * 10;
      return { symbol, price: round(p.price, 4), volume_24h: round(p.volume, 2), change_24h: round(((p.price - p.open) / p.open) * 100, 3) };
    });
    this.#emit('market_update', entries);
  }

  #scheduleActivity(): void {
    const { activityMin, activityMax } = DEMO_CADENCE;
    this.#activity = setTimeout(() => {
      this.#activity = undefined;
      this.#step();
      if (this.#running) this.#scheduleActivity();
    }, activityMin + this.#random() * (activityMax - activityMin));
  }

  /** One step of the simulated desk: analysis → proposal → approval → execution, and the odd alert. */
  #step(): void {
    const symbols = [...this.#prices.keys()];
    const symbol = symbols[Math.floor(this.#random() * symbols.length)] ?? 'BTC/USDT';
    const price = this.#prices.get(symbol)?.price ?? 1;
    const r = this.#random();
    if (this.#pendingProposal) {
      const id = this.#pendingProposal;
      this.#pendingProposal = undefined;
      this.#emit('proposal_approved', { proposal_id: id, approved_by: 'demo_user', approved_at: new Date().toISOString() });
      const action = r < 0.5 ? 'buy' : 'sell';
      const held = this.#positions.get(symbol) ?? 0;
      const size = action === 'sell' ? round(held / 4, 6) : round(500 / price, 6);
      if (size > 0) {
        this.#positions.set(symbol, held + (action === 'buy' ? size : -size));
        this.#cash += (action === 'buy' ? -1 : 1) * size * price;
        this.#emit('trade_executed', { proposal_id: id, symbol, action, size, filled_price: round(price, 4), order_id: `order_${this.#n}`, status: 'filled' });
      }
      return;
    }
    const bull = round(this.#random(), 2);
    const bear = round(1 - bull, 2);
    const decision = bull > 0.6 ? 'buy' : bull < 0.4 ? 'sell' : 'hold';
    this.#emit('analysis_update', { symbol, decision, confidence: round(Math.abs(bull - bear), 2), bull_score: bull, bear_score: bear, reasoning: `Demo signal for ${symbol}` });
    if (decision !== 'hold') {
      const id = `prop_${++this.#n}`;
      this.#pendingProposal = id;
      this.#emit('proposal_created', { proposal_id: id, symbol, action: decision, size: round(500 / price, 6), reason: 'Demo agent consensus' });
    }
    if (r < 0.15) {
      this.#emit(r < 0.05 ? 'warning' : 'alert', { level: r < 0.05 ? 'warning' : 'info', symbol, message: `${symbol} moved to ${round(price, 4)}` });
    }
  }
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
