// @ts-check
// What one live record changes on the page: the clock, the fleet row, the activity list, the stopouts,
// and — for the open account — its figures, statechart light, decision log and chart.

import { clockFromRecord } from './fleet-clock.js';
import { fleetRow, flashRow, updateRow } from './fleet-table.js';
import { addActivity } from './activity-log.js';
import { pickPresent } from './pick-fields.js';
import { patchSelectedAccount, selectedAccountId } from './selection.js';
import { queueAccountRefresh, renderFacts } from './account-view.js';
import { highlightStatechart } from './statechart.js';
import { addDecision } from './decision-log.js';
import { queueStopoutRefresh } from './stopouts.js';
import { addChartRecord, chartWants } from './timeline-chart.js';

/** @typedef {import('./api-types.js').TimelineRecord} TimelineRecord */
/** @typedef {import('./api-types.js').FleetRow} FleetRow */

const RISK_ROW_FIELDS = /** @type {const} */ (['position', 'grossNotional', 'equity', 'marginBuffer', 'sessionPnl']);
const RISK_ACCOUNT_FIELDS = /** @type {const} */ ([...RISK_ROW_FIELDS, 'marginFraction', 'maintenance']);

/** @param {TimelineRecord} record */
export function applyRecord(record) {
  clockFromRecord(record.t);
  const selected = selectedAccountId();
  switch (record.kind) {
    case 'state': {
      const row = fleetRow(record.account);
      if (row) {
        const changed = row.state !== record.to;
        updateRow(record.account, {
          state: record.to,
          detail: typeof record.detail === 'string' && record.detail.startsWith(record.to) ? record.detail : record.to,
        });
        if (changed) flashRow(record.account);
      }
      if (record.from !== record.to) addActivity(record.t, 'state', `${record.account}: ${record.from} → ${record.to}`, record.reason);
      if (record.account === selected) highlightStatechart(fleetRow(record.account)?.detail ?? record.to);
      break;
    }
    case 'risk': {
      const row = fleetRow(record.account);
      if (row) {
        /** @type {Partial<FleetRow>} */
        const patch = pickPresent(record, RISK_ROW_FIELDS);
        if (typeof record.state === 'string' && record.state !== row.state) {
          patch.state = record.state;
          patch.detail = record.state;
        }
        updateRow(record.account, patch);
      }
      if (record.account === selected && patchSelectedAccount(pickPresent(record, RISK_ACCOUNT_FIELDS))) renderFacts();
      break;
    }
    case 'stopout':
      addActivity(
        record.t,
        record.action === 'reset' ? 'reset' : 'stop',
        `stopout ${record.action} on ${record.scope} ${record.id}`,
        record.reason,
      );
      queueStopoutRefresh();
      break;
    case 'operator':
      addActivity(
        record.t,
        record.result === 'ok' ? 'ok' : 'refused',
        `operator ${record.action} ${record.scope} ${record.id}: ${record.result}`,
        record.reason ?? '',
      );
      queueStopoutRefresh();
      break;
    case 'liquidation':
      addActivity(record.t, 'stop', `${record.account}: LIQUIDATED ${record.symbol}`, '');
      break;
    case 'decision':
      if (record.account === selected) addDecision(record);
      break;
    default:
      break;
  }
  if (selected && chartWants(record)) {
    addChartRecord(record);
    // What the account read adds to these: working orders and figures as the server has them now.
    if (record.kind === 'order' || record.kind === 'order-update' || record.kind === 'cancel' || record.kind === 'state') {
      queueAccountRefresh();
    }
  }
}
