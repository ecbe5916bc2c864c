// @ts-check
// riskwarden dashboard: native ES modules, no framework, no build step. Everything it shows comes from
// /api/v1 of the origin that served it. This entry signs in, wires the parts together and starts them.

import { useToken } from './api-client.js';
import { loadFleet, onFleetRead, onRowChange, onRowClick, fleetRow, setupFleetControls } from './fleet-table.js';
import { selectedAccountId } from './selection.js';
import { followFleetRow, loadAccount, selectAccount, setupAccountView, updateAccountHeader } from './account-view.js';
import { loadStopouts, refreshIdChoices, setupStopoutForm } from './stopouts.js';
import { setupStatechartZoom } from './statechart.js';
import { watchChartWidth } from './timeline-chart.js';
import { applyRecord } from './live-records.js';
import { startLive } from './live-socket.js';

function start() {
  const url = new URL(location.href);
  const token = url.searchParams.get('token');
  if (token) {
    // The server set its cookie on this request; the token also rides along as a bearer header, and
    // leaves the address bar (and the history) at once.
    useToken(token);
    url.searchParams.delete('token');
    history.replaceState(null, '', `${url.pathname}${url.search}${url.hash}`);
  }
  setupFleetControls();
  onRowClick((id) => void selectAccount(id));
  onFleetRead(() => {
    refreshIdChoices();
    followFleetRow();
  });
  onRowChange((id) => {
    if (id === selectedAccountId()) updateAccountHeader();
  });
  setupStopoutForm();
  setupAccountView();
  watchChartWidth();
  setupStatechartZoom();
  void (async () => {
    await Promise.all([loadFleet(), loadStopouts()]);
    const wanted = /^#account=(.+)$/.exec(location.hash);
    const id = wanted?.[1] === undefined ? null : decodeURIComponent(wanted[1]);
    if (id !== null && fleetRow(id)) void selectAccount(id);
    startLive({
      onRecord: applyRecord,
      catchUp: () => {
        void loadFleet();
        void loadStopouts();
        const open = selectedAccountId();
        if (open) void loadAccount(open, { keepChart: false });
      },
      pollFleet: loadFleet,
      pollOthers: async () => {
        await loadStopouts();
        const open = selectedAccountId();
        if (open) await loadAccount(open, { keepChart: false });
      },
    });
  })();
}

start();
