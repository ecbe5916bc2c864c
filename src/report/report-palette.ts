import type { AccountMode } from '../domain/assessment.ts';
import type { OrderPurpose } from '../domain/order.ts';
import type { MarkerShape } from './svg-chart.ts';

/** The colour of each top-level state, in the order the states escalate. */
export const STATE_COLOURS: Record<AccountMode, string> = {
  trading: '#2e9d4a',
  'entries-blocked': '#e0a000',
  'de-risking': '#7b3fb5',
  'panic-exit': '#d62828',
  'stopped-out': '#7a0c0c',
};

/** How an order of each purpose is drawn on a price chart. */
export const PURPOSE_MARKERS: Record<OrderPurpose, { shape: MarkerShape; colour: string; label: string }> = {
  entry: { shape: 'circle', colour: '#1f6fd1', label: 'entry (strategy)' },
  close: { shape: 'square', colour: '#0f8f7e', label: 'close (strategy)' },
  reduce: { shape: 'diamond', colour: '#7b3fb5', label: 'reduce (de-risking)' },
  exit: { shape: 'triangle', colour: '#d62828', label: 'exit (panic)' },
};

/** Lines of the price and buffer charts: a level takes the colour of the state it leads to. */
export const LINE_COLOURS = {
  mark: '#1b1b1b',
  liquidation: '#7a0c0c',
  minBuffer: '#7b3fb5',
  panicBuffer: '#d62828',
  marginBuffer: '#1f6fd1',
  positions: ['#1f6fd1', '#e07000', '#0f8f7e', '#b0357a', '#5a5a5a'],
};
