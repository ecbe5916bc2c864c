import type { DecimalString } from '../domain/decimal.ts';
import type { AccountMode } from '../domain/assessment.ts';
import type { OrderIntent, OrderPurpose } from '../domain/order.ts';
import type { StopoutScope } from '../domain/stopout.ts';

/** One line of the timeline (docs/contracts.md#timeline). `t` is milliseconds since the scenario or session start. */
export type TimelineRecord =
  | { t: number; kind: 'mark'; symbol: string; price: DecimalString }
  | {
      t: number;
      kind: 'state';
      account: string;
      from: AccountMode;
      to: AccountMode;
      reason: string;
      detail?: string;
      numbers?: Record<string, string>;
    }
  | { t: number; kind: 'decision'; account: string; allowed: boolean; rules: string[]; order: OrderIntent; reasons?: string[] }
  | {
      t: number;
      kind: 'order';
      account: string;
      orderId: string;
      symbol: string;
      side: 'buy' | 'sell';
      amount: DecimalString;
      price: DecimalString;
      type: 'market' | 'limit';
      purpose: OrderPurpose;
    }
  | { t: number; kind: 'cancel'; account: string; orderId: string; reason: string }
  | { t: number; kind: 'order-update'; account: string; orderId: string; status: string; filled: DecimalString; reason?: string }
  | {
      t: number;
      kind: 'risk';
      account: string;
      position: Record<string, DecimalString>;
      grossNotional: DecimalString;
      equity: DecimalString;
      marginFraction: DecimalString | null;
      maintenance: DecimalString;
      marginBuffer: DecimalString | null;
      sessionPnl: DecimalString;
      state?: AccountMode;
    }
  | {
      t: number;
      kind: 'stopout';
      scope: StopoutScope;
      id: string;
      reason: string;
      closePositions: boolean;
      action: 'set' | 'reset';
      stoppedTill?: string;
    }
  | { t: number; kind: 'liquidation'; account: string; symbol: string; price?: DecimalString }
  | { t: number; kind: 'operator'; action: string; scope: StopoutScope; id: string; result: 'ok' | 'refused'; reason?: string; by?: string }
  | {
      t: number;
      kind: 'summary';
      liquidated: string[];
      finalStates: Record<string, AccountMode>;
      orders: Record<string, Partial<Record<OrderPurpose, number>>>;
      maxReductionsInFlight: Record<string, number>;
      blockedEntries: Record<string, number>;
    };

export type TimelineKind = TimelineRecord['kind'];

/** Where records go: the runner's JSONL writer, the dashboard, the audit log. */
export interface TimelineSink {
  write(record: TimelineRecord): void;
}
