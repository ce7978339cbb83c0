// The dispatcher's dashboard: plain TypeScript, hash routes, data from /api, kept current by Server-Sent Events.
import { esc, planChart, socChart } from './charts.ts';
import { kioskPage, yardPage, type PageContext } from './yard.ts';

type Role = 'kiosk' | 'viewer' | 'dispatcher' | 'admin';
type Json = Record<string, unknown>;
interface Overview {
  depotId: string; name: string; mode: string; timeZone: string; gridLimitKw: number; sitePowerKw: number; siteCapKw: number | null; planId: number | null;
  planAt: string | null; allReady: boolean | null; pendingApprovals: number;
  chart: { slotStarts: string[]; pricePerKwh: number[]; siteLoadKw: number[]; currency: string; series: { sessionId: string; vehicleId: string | null; chargerId: string; kind: string; powerKw: number[] }[] } | null;
  bays: { chargerId: string; stationId: string; online: boolean; status: string | null; errorCode: string | null; vehicleId: string | null; powerKw: number | null; plannedKw: number | null; energyKwh: number | null; pendingApproval: boolean; maxPowerKw: number }[];
  vehicles: { vehicleId: string | null; chargerId: string | null; kind: string; departure: string | null; socNowPercent: number | null; targetSocPercent: number | null; socAtDeparturePercent: number | null; risk: string; shortfallKwh: number | null; override: Json | null }[];
}

const app = document.getElementById('app')!;
const top = document.getElementById('top')!;
const rank: Record<Role, number> = { kiosk: 0, viewer: 1, dispatcher: 2, admin: 3 };
const state = { key: localStorage.getItem('voltyard-key') ?? '', role: null as Role | null, depots: [] as { id: string; name: string }[], depotId: localStorage.getItem('voltyard-depot') ?? '', live: false };
let source: EventSource | null = null;

class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) { super(message); this.status = status; }
}

async function api<T = Json>(path: string, init: RequestInit = {}): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${state.key}` };
  if (init.body && typeof init.body === 'string' && !(init.headers as Record<string, string> | undefined)?.['content-type']) headers['content-type'] = 'application/json';
  const res = await fetch(path, { ...init, headers: { ...headers, ...(init.headers as Record<string, string> | undefined) } });
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  const body = type.includes('json') ? await res.json() : await res.text();
  if (!res.ok) {
    const p = body as { detail?: string; title?: string; errors?: { field: string; message: string }[] };
    const fields = p.errors?.map((e) => `${e.field}: ${e.message}`).join('; ');
    throw new ApiError(res.status, `${p.title ?? res.status}: ${p.detail ?? ''}${fields ? ` — ${fields}` : ''}`);
  }
  return body as T;
}

function toast(message: string, error = false): void {
  const el = document.getElementById('toast')!;
  el.textContent = message;
  el.className = `show${error ? ' error' : ''}`;
  window.clearTimeout((el as HTMLElement & { timer?: number }).timer);
  (el as HTMLElement & { timer?: number }).timer = window.setTimeout(() => { el.className = ''; }, error ? 7000 : 3000);
}

const can = (role: Role) => state.role !== null && rank[state.role] >= rank[role];
const dis = (role: Role) => can(role) ? '' : ` disabled title="needs the ${role} role"`;
const kw = (x: number | null | undefined) => x === null || x === undefined ? '—' : `${x.toFixed(1)} kW`;
const pct = (x: number | null | undefined) => x === null || x === undefined ? '—' : `${Math.round(x)} %`;
function timeIn(iso: string | null, tz?: string): string {
  if (!iso) return '—';
  return new Intl.DateTimeFormat('en-GB', { weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', ...(tz ? { timeZone: tz } : {}) }).format(new Date(iso));
}

// ---------- shell ----------
function login(message = ''): void {
  top.innerHTML = '<span class="brand">Voltyard</span>';
  app.innerHTML = `<div class="card" style="max-width:480px;margin:2rem auto"><h2>Sign in with an API key</h2>
    <p class="muted">Ask your administrator for a key (kiosk, viewer, dispatcher or admin).</p>${message ? `<p class="badge not-ready">${esc(message)}</p>` : ''}
    <form id="login" class="inline"><label>API key<input name="key" type="password" autocomplete="off" size="40" required></label><button>Sign in</button></form></div>`;
  document.getElementById('login')!.addEventListener('submit', (e) => {
    e.preventDefault();
    state.key = String(new FormData(e.target as HTMLFormElement).get('key')).trim();
    localStorage.setItem('voltyard-key', state.key);
    void boot();
  });
}

async function boot(): Promise<void> {
  if (!state.key) return login();
  try {
    state.role = (await api<{ role: Role }>('/api/whoami')).role;
    // A kiosk key may not list the fleet's depots (nor open the live stream): it gets their names only.
    state.depots = (await api<{ items: { id: string; name: string }[] }>(state.role === 'kiosk' ? '/api/kiosk/depots?limit=500' : '/api/depots?limit=500')).items;
  } catch (err) {
    return login(err instanceof ApiError && err.status === 401 ? 'That key is not valid.' : String(err));
  }
  if (!state.depots.some((d) => d.id === state.depotId)) state.depotId = state.depots[0]?.id ?? '';
  if (state.role !== 'kiosk') connectLive();
  await render();
}

function nav(): void {
  const route = location.hash.slice(1) || '/';
  const link = (href: string, label: string) => `<a href="#${href}" class="${route === href || (href !== '/' && route.startsWith(href)) ? 'active' : ''}">${label}</a>`;
  top.innerHTML = `<span class="brand">Voltyard</span>
    <select id="depot" aria-label="depot">${state.depots.map((d) => `<option value="${esc(d.id)}"${d.id === state.depotId ? ' selected' : ''}>${esc(d.name)}</option>`).join('')}</select>
    ${link('/', 'Overview')}${link('/yard', 'Yard')}${link('/alerts', 'Alerts')}${link('/approvals', 'Approvals')}${link('/setup/chargers', 'Chargers')}${link('/setup/vehicles', 'Vehicles')}
    ${link('/setup/departures', 'Departures')}${link('/setup/tokens', 'Tokens')}${link('/setup/circuits', 'Circuits')}${link('/setup/tariff', 'Tariff')}
    <span class="role"><span class="live${state.live ? ' on' : ''}" title="live updates"></span>${esc(state.role ?? '')} <a href="#/logout">sign out</a></span>`;
  document.getElementById('depot')?.addEventListener('change', (e) => {
    state.depotId = (e.target as HTMLSelectElement).value;
    localStorage.setItem('voltyard-depot', state.depotId);
    connectLive();
    void render();
  });
}

let rendering = false;
let again = false;
async function render(): Promise<void> {
  if (rendering) { again = true; return; }
  rendering = true;
  try {
    let route = location.hash.slice(1) || '/';
    // A kiosk key has the gate screen and nothing else (every other page would only meet 403s).
    if (state.role === 'kiosk' && route !== '/logout' && route !== '/kiosk' && !route.startsWith('/kiosk/')) {
      route = '/kiosk';
      history.replaceState(null, '', '#/kiosk');
    }
    if (route === '/logout') { localStorage.removeItem('voltyard-key'); state.key = ''; source?.close(); location.hash = '/'; return login(); }
    if (!state.key) return login();
    // `#/kiosk/<depot>` pins the gate screen to its depot (kept, like the depot picked in the menu).
    const pinned = route.startsWith('/kiosk/') ? decodeURIComponent(route.slice(7)) : null;
    if (pinned !== null && !state.depots.some((d) => d.id === pinned)) throw new Error(`no depot ${pinned}: the kiosk's address names a depot that does not exist`);
    if (pinned !== null && pinned !== state.depotId) {
      state.depotId = pinned;
      localStorage.setItem('voltyard-depot', pinned);
      if (state.role !== 'kiosk') connectLive();
    }
    const depotName = state.depots.find((d) => d.id === state.depotId)?.name ?? '';
    const yardCtx: PageContext = { api, toast, can, dis, setPage, timeIn, render, depotId: state.depotId, depotName, app, top };
    // The gate kiosk is a screen of its own: no navigation a driver could wander off into.
    if (route === '/kiosk' || pinned !== null) return await kioskPage(yardCtx);
    nav();
    if (!state.depotId && !route.startsWith('/setup')) { app.innerHTML = '<div class="card">No depot yet: import a scenario (<code>voltyard import</code>) or create one with <code>PUT /api/depots/:id</code>.</div>'; return; }
    // Forms keep what the user typed: only re-render a page with a focused form field when asked to.
    const page = route.startsWith('/vehicle/') ? vehiclePage(decodeURIComponent(route.slice(9)))
      : route === '/alerts' ? alertsPage() : route === '/approvals' ? approvalsPage() : route === '/yard' ? yardPage(yardCtx)
        : route.startsWith('/setup/') ? setupPage(route.slice(7)) : overviewPage();
    await page;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return login('The key is no longer valid.');
    app.innerHTML = `<div class="card"><b>Could not load:</b> ${esc(String(err instanceof Error ? err.message : err))}</div>`;
  } finally {
    rendering = false;
    if (again) { again = false; void render(); }
  }
}

/** Live: any event re-renders the page, at most once a second, unless someone is typing in a form. */
let pending: number | null = null;
function connectLive(): void {
  source?.close();
  source = new EventSource(`/api/events/stream?key=${encodeURIComponent(state.key)}${state.depotId ? `&depotId=${encodeURIComponent(state.depotId)}` : ''}`);
  const refresh = () => {
    if (pending !== null) return;
    pending = window.setTimeout(() => {
      pending = null;
      const active = document.activeElement;
      if (active && active.closest('form') && ['INPUT', 'TEXTAREA', 'SELECT'].includes(active.tagName)) return;
      if ([...document.querySelectorAll('form textarea')].some((x) => (x as HTMLTextAreaElement).value !== (x as HTMLTextAreaElement).defaultValue)) return;
      void render();
    }, 1000);
  };
  source.onopen = () => { state.live = true; document.querySelector('.live')?.classList.add('on'); };
  source.onerror = () => { state.live = false; document.querySelector('.live')?.classList.remove('on'); };
  for (const type of ['depot', 'alerts', 'MeterSampled', 'ConnectorStatusChanged', 'SessionStarted', 'SessionEnded', 'StationConnected', 'StationDisconnected', 'VehicleReading', 'StationFault']) {
    source.addEventListener(type, refresh);
  }
}

/**
 * Replaces the page, keeping what the user was typing: a live update may land while a form is half filled in, so
 * changed fields (and focus) of forms with an id carry over to the new page.
 */
function setPage(html: string): void {
  const kept: { form: string; name: string; value: string }[] = [];
  for (const el of app.querySelectorAll<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>('form[id] [name]')) {
    const changed = el instanceof HTMLSelectElement ? [...el.options].some((o) => o.selected !== o.defaultSelected) : el.type !== 'file' && el.value !== el.defaultValue;
    if (changed) kept.push({ form: el.form!.id, name: el.name, value: el.value });
  }
  const active = document.activeElement as HTMLInputElement | null;
  const focus = active?.form?.id && active.name ? { form: active.form.id, name: active.name } : null;
  app.innerHTML = html;
  for (const k of kept) {
    const el = app.querySelector<HTMLInputElement>(`form#${CSS.escape(k.form)} [name="${CSS.escape(k.name)}"]`);
    if (el) el.value = k.value;
  }
  if (focus) app.querySelector<HTMLInputElement>(`form#${CSS.escape(focus.form)} [name="${CSS.escape(focus.name)}"]`)?.focus();
}

// ---------- overview ----------
async function overviewPage(): Promise<void> {
  const o = await api<Overview>(`/api/depots/${encodeURIComponent(state.depotId)}/overview`);
  const share = o.gridLimitKw > 0 ? Math.min(100, 100 * o.sitePowerKw / o.gridLimitKw) : 0;
  setPage(`<div class="grid">
    <section class="card" id="site-power"><h2>Site power now</h2>
      <div class="big"><span data-testid="site-power">${o.sitePowerKw.toFixed(1)}</span> <span class="muted" style="font-size:1rem">of ${o.gridLimitKw.toFixed(0)} kW limit</span></div>
      <div class="meter${share > 95 ? ' hot' : ''}"><div style="width:${share.toFixed(1)}%"></div></div>
      <p class="muted">Mode <b>${esc(o.mode)}</b> · plan #${o.planId ?? '—'} at ${timeIn(o.planAt, o.timeZone)} · ${o.allReady === null ? 'no plan yet' : o.allReady ? 'every vehicle ready by departure' : '<span class="badge not-ready">not every vehicle will be ready</span>'}
      ${o.pendingApprovals ? ` · <a href="#/approvals">${o.pendingApprovals} change(s) waiting for approval</a>` : ''}</p></section>
    <section class="card"><h2>Bays</h2><div class="bays">${o.bays.map((b) => `<div class="bay" data-bay="${esc(b.chargerId)}">
      <div class="id">${esc(b.chargerId)} <span class="badge ${b.online ? esc(b.status ?? 'online') : 'offline'}">${b.online ? esc(b.status ?? 'online') : 'offline'}</span></div>
      <div class="kw">${kw(b.powerKw)}</div><div class="muted">${b.vehicleId ? `<a href="#/vehicle/${encodeURIComponent(b.vehicleId)}">${esc(b.vehicleId)}</a>` : b.powerKw !== null ? 'unknown vehicle' : 'free'}${b.plannedKw !== null ? ` · plan ${kw(b.plannedKw)}` : ''}${b.pendingApproval ? ' · <span class="badge pending">awaits approval</span>' : ''}</div></div>`).join('')}</div></section>
  </div>
  <section class="card chart" style="margin-top:1rem"><h2>Plan, next 24 h</h2>${o.chart ? planChart(o.chart, o.gridLimitKw, o.timeZone) : '<p class="muted">No plan yet.</p>'}</section>
  <section class="card" style="margin-top:1rem"><h2>Vehicles by departure</h2><table id="vehicles"><thead><tr><th>Vehicle</th><th>Bay</th><th>Departs</th><th>SoC now</th><th>Target</th><th>At departure</th><th>Readiness</th></tr></thead><tbody>
    ${o.vehicles.map((v) => `<tr data-vehicle="${esc(v.vehicleId ?? '')}"><td>${v.vehicleId ? `<a href="#/vehicle/${encodeURIComponent(v.vehicleId)}">${esc(v.vehicleId)}</a>` : '<i>unknown</i>'}${v.override ? ' <span class="badge pending">override</span>' : ''}</td>
      <td>${esc(v.chargerId ?? '—')}${v.kind === 'expected' ? ' <span class="muted">(expected)</span>' : ''}</td><td>${timeIn(v.departure, o.timeZone)}</td><td>${pct(v.socNowPercent)}</td>
      <td>${pct(v.targetSocPercent)}</td><td>${pct(v.socAtDeparturePercent)}</td><td><span class="badge ${esc(v.risk)}">${esc(v.risk)}</span>${v.shortfallKwh ? ` <span class="muted">short ${v.shortfallKwh.toFixed(1)} kWh</span>` : ''}</td></tr>`).join('')}
  </tbody></table></section>`);
}

// ---------- vehicle ----------
async function vehiclePage(id: string): Promise<void> {
  const [o, history, why] = await Promise.all([
    api<Overview>(`/api/depots/${encodeURIComponent(state.depotId)}/overview`),
    api<{ items: { at: string; socPercent: number }[] }>(`/api/vehicles/${encodeURIComponent(id)}/soc-history`),
    api<Json>(`/api/vehicles/${encodeURIComponent(id)}/why`).catch(() => null),
  ]);
  const bay = o.bays.find((b) => b.vehicleId === id);
  const row = o.vehicles.find((v) => v.vehicleId === id);
  const series = o.chart?.series.filter((s) => s.vehicleId === id) ?? [];
  const chart = o.chart && series.length ? planChart({ ...o.chart, series }, null, o.timeZone) : '<p class="muted">Not in the current plan.</p>';
  setPage(`<h1 style="margin:.2rem 0 1rem">${esc(id)} ${row ? `<span class="badge ${esc(row.risk)}">${esc(row.risk)}</span>` : ''}</h1><div class="grid">
    <section class="card"><h2>Session</h2>${bay ? `<p>On <b>${esc(bay.chargerId)}</b>${bay.status ? ` (${esc(bay.status)})` : ''}, drawing <b>${kw(bay.powerKw)}</b>, planned ${kw(bay.plannedKw)}; ${bay.energyKwh !== null ? `${bay.energyKwh.toFixed(1)} kWh so far` : ''}</p>` : '<p class="muted">Not plugged in.</p>'}
      <p>SoC now ${pct(row?.socNowPercent)} · target ${pct(row?.targetSocPercent)} · at departure ${pct(row?.socAtDeparturePercent)} · departs ${timeIn(row?.departure ?? null, o.timeZone)}</p></section>
    <section class="card"><h2>Override</h2>
      <form id="override" class="inline"><label>Priority boost<input name="priorityBoost" type="number" min="0" max="100" value="${Number((row?.override as { priorityBoost?: number } | null)?.priorityBoost ?? 0)}"></label>
        <label>Departure<input name="departure" type="datetime-local"></label><label>Pause<select name="paused"><option value="">no</option><option value="yes"${(row?.override as { paused?: boolean } | null)?.paused ? ' selected' : ''}>yes</option></select></label>
        <button${dis('dispatcher')}>Apply</button><button type="button" class="secondary" id="charge-now"${dis('dispatcher')}>Charge now</button><button type="button" class="secondary" id="clear-override"${dis('dispatcher')}>Clear</button></form>
      ${row?.override ? `<p class="muted">In force: ${esc(JSON.stringify(row.override))}</p>` : ''}</section>
  </div>
  <section class="card chart" style="margin-top:1rem"><h2>Plan</h2>${chart}</section>
  <section class="card chart" style="margin-top:1rem"><h2>SoC history</h2>${socChart(history.items, o.timeZone)}</section>
  <section class="card why" style="margin-top:1rem"><h2>Why</h2>${why ? `<p data-testid="why">${esc(String(why.explanation))}</p><ul>${(why.trace as string[]).map((t) => `<li>${esc(t)}</li>`).join('')}</ul>` : '<p class="muted">Not in the current plan.</p>'}</section>`);
  const form = document.getElementById('override') as HTMLFormElement;
  const send = async (body: Json | null) => {
    try {
      if (body) await api(`/api/vehicles/${encodeURIComponent(id)}/override`, { method: 'PUT', body: JSON.stringify(body) });
      else await api(`/api/vehicles/${encodeURIComponent(id)}/override`, { method: 'DELETE' });
      toast(body ? 'Override set; re-planning' : 'Override cleared');
      window.setTimeout(() => void render(), 1200);
    } catch (err) { toast(String((err as Error).message), true); }
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const body: Json = { priorityBoost: Number(f.get('priorityBoost') || 0), paused: f.get('paused') === 'yes' };
    if (f.get('departure')) body.departure = new Date(String(f.get('departure'))).toISOString();
    void send(body);
  });
  document.getElementById('charge-now')!.addEventListener('click', () => void send({ priorityBoost: 100, paused: false }));
  document.getElementById('clear-override')!.addEventListener('click', () => void send(null));
}

// ---------- alerts and approvals ----------
async function alertsPage(): Promise<void> {
  const { items } = await api<{ items: { id: number; kind: string; severity: string; message: string; raisedAt: string; open: boolean; acknowledgedBy: string | null; vehicleId: string | null; chargerId: string | null }[] }>(`/api/alerts?depotId=${encodeURIComponent(state.depotId)}&limit=100`);
  setPage(`<section class="card"><h2>Alerts</h2><table id="alerts"><thead><tr><th>Raised</th><th>Severity</th><th>What</th><th>State</th><th></th></tr></thead><tbody>
    ${items.map((a) => `<tr data-alert="${a.id}" data-kind="${esc(a.kind)}"><td>${timeIn(a.raisedAt)}</td><td><span class="badge ${esc(a.severity)}">${esc(a.severity)}</span></td><td>${esc(a.message)}</td>
      <td>${a.open ? 'open' : 'cleared'}${a.acknowledgedBy ? ` · acknowledged by ${esc(a.acknowledgedBy)}` : ''}</td>
      <td>${a.acknowledgedBy ? '' : `<button class="ack" data-id="${a.id}"${dis('dispatcher')}>Acknowledge</button>`}</td></tr>`).join('') || '<tr><td colspan="5" class="muted">No alerts.</td></tr>'}
  </tbody></table></section>`);
  for (const b of app.querySelectorAll<HTMLButtonElement>('button.ack')) {
    b.addEventListener('click', async () => {
      try { await api(`/api/alerts/${b.dataset.id}/ack`, { method: 'POST' }); toast('Acknowledged'); void render(); } catch (err) { toast((err as Error).message, true); }
    });
  }
}

async function approvalsPage(): Promise<void> {
  const d = encodeURIComponent(state.depotId);
  const [{ items }, o] = await Promise.all([api<{ items: { chargerId: string; plannedAt: string; steps: { from: string; limitKw: number }[] }[] }>(`/api/depots/${d}/pending?limit=500`), api<Overview>(`/api/depots/${d}/overview`)]);
  setPage(`<section class="card"><h2>Operating mode</h2><form id="mode" class="inline"><label>Mode<select name="mode">${['shadow', 'assisted', 'automatic'].map((m) => `<option${m === o.mode ? ' selected' : ''}>${m}</option>`).join('')}</select></label><button${dis('admin')}>Set mode</button></form>
    <p class="muted">Shadow plans and sends nothing; assisted waits for approval here (decreases go at once); automatic sends every change.</p></section>
    <section class="card" style="margin-top:1rem"><h2>Changes waiting for approval</h2><table id="pending"><thead><tr><th>Charger</th><th>Planned</th><th>Limits</th></tr></thead><tbody>
    ${items.map((p) => `<tr><td>${esc(p.chargerId)}</td><td>${timeIn(p.plannedAt, o.timeZone)}</td><td>${p.steps.slice(0, 6).map((s) => `${timeIn(s.from, o.timeZone)}: ${s.limitKw.toFixed(1)} kW`).join(' · ')}${p.steps.length > 6 ? ' …' : ''}</td></tr>`).join('') || '<tr><td colspan="3" class="muted">Nothing waiting.</td></tr>'}
    </tbody></table><p><button id="approve"${items.length ? dis('dispatcher') : ' disabled'}>Approve all</button></p></section>`);
  document.getElementById('approve')!.addEventListener('click', async () => {
    try { const r = await api<{ approved: number }>(`/api/depots/${d}/approve`, { method: 'POST', body: '{}' }); toast(`${r.approved} change(s) sent`); void render(); } catch (err) { toast((err as Error).message, true); }
  });
  document.getElementById('mode')!.addEventListener('submit', async (e) => {
    e.preventDefault();
    try { await api(`/api/depots/${d}/mode`, { method: 'PUT', body: JSON.stringify({ mode: new FormData(e.target as HTMLFormElement).get('mode') }) }); toast('Mode changed'); void render(); } catch (err) { toast((err as Error).message, true); }
  });
}

// ---------- setup ----------
function csvImport(id: string, path: string, what: string): string {
  return `<form id="${id}" class="csv"><h3>Import ${what} from CSV</h3><textarea name="csv" placeholder="paste CSV with a header row"></textarea>
    <p><input type="file" name="file" accept=".csv,text/csv"> <button${dis('admin')}>Import</button> <a href="#" data-export="${esc(path)}">Export CSV</a></p><div class="result muted"></div></form>`;
}
/** The last import's outcome per form, shown again when a live update re-renders the page. */
const importResults = new Map<string, string>();
function wireCsv(id: string, path: string): void {
  const form = document.getElementById(id) as HTMLFormElement | null;
  if (!form) return;
  form.querySelector('.result')!.textContent = importResults.get(id) ?? '';
  form.querySelector<HTMLInputElement>('input[type=file]')!.addEventListener('change', async (e) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (file) form.querySelector('textarea')!.value = await file.text();
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const out = form.querySelector('.result')!;
    try {
      const r = await api(path, { method: 'POST', body: form.querySelector('textarea')!.value, headers: { 'content-type': 'text/csv' } });
      importResults.set(id, `Imported: ${JSON.stringify(r)}`);
      out.textContent = importResults.get(id)!;
      form.querySelector('textarea')!.value = '';
      (document.activeElement as HTMLElement | null)?.blur();
      toast('Imported');
      void render();
    } catch (err) {
      importResults.set(id, (err as Error).message);
      out.textContent = (err as Error).message;
      toast('Import failed', true);
    }
  });
  form.querySelector<HTMLAnchorElement>('a[data-export]')!.addEventListener('click', async (e) => {
    e.preventDefault();
    const text = await api<string>(path);
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
    a.download = path.split('/').pop()!;
    a.click();
  });
}
function jsonForm(id: string, onSubmit: (f: FormData) => Promise<unknown>): void {
  document.getElementById(id)?.addEventListener('submit', async (e) => {
    e.preventDefault();
    try { await onSubmit(new FormData(e.target as HTMLFormElement)); toast('Saved'); (document.activeElement as HTMLElement | null)?.blur(); void render(); } catch (err) { toast((err as Error).message, true); }
  });
}
const num = (f: FormData, k: string) => f.get(k) === '' || f.get(k) === null ? undefined : Number(f.get(k));
const str = (f: FormData, k: string) => f.get(k) ? String(f.get(k)) : undefined;

async function setupPage(what: string): Promise<void> {
  const d = encodeURIComponent(state.depotId);
  if (what === 'chargers') {
    const { items } = await api<{ items: { id: string; stationId: string; evseId: number; circuitId: string; kind: string; maxPowerKw: number; connection: { online: boolean; known: boolean; status: string | null; lastSeenAt: string | null; ocppUrl: string; vendor: string | null; model: string | null; protocol: string | null } }[] }>(`/api/depots/${d}/chargers?limit=500`);
    setPage(`<section class="card"><h2>Chargers</h2><table id="chargers"><thead><tr><th>Bay</th><th>Station / EVSE</th><th>Circuit</th><th>Max</th><th>Connection</th><th>Point it at</th></tr></thead><tbody>
      ${items.map((c) => `<tr><td>${esc(c.id)}</td><td>${esc(c.stationId)} / ${c.evseId}</td><td>${esc(c.circuitId)}</td><td>${c.kind} ${c.maxPowerKw} kW</td>
        <td><span class="badge ${c.connection.online ? 'online' : 'offline'}">${c.connection.online ? 'online' : c.connection.known ? 'offline' : 'never connected'}</span> ${esc(c.connection.status ?? '')}<div class="muted">${esc([c.connection.vendor, c.connection.model, c.connection.protocol].filter(Boolean).join(' · '))}${c.connection.lastSeenAt ? ` · seen ${timeIn(c.connection.lastSeenAt)}` : ''}</div></td>
        <td><code>${esc(c.connection.ocppUrl)}</code></td></tr>`).join('')}</tbody></table>
      <p class="muted">In the charger's OCPP settings set the central system URL to <code>${esc(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ocpp/`)}</code> (the charger appends its own id, which must match "Station" above), protocol OCPP 1.6J or 2.0.1. Register it with a password under Stations for Basic auth.</p></section>
      <section class="card" style="margin-top:1rem"><h2>Add or change a charger</h2><form id="charger" class="inline"><label>Bay id<input name="id" required></label><label>Station id<input name="stationId" required></label><label>EVSE<input name="evseId" type="number" min="1" value="1"></label>
        <label>Circuit<input name="circuitId" required></label><label>Kind<select name="kind"><option>AC</option><option>DC</option></select></label><label>Max kW<input name="maxPowerKw" type="number" step="0.1" required></label><button${dis('admin')}>Save</button></form></section>`);
    jsonForm('charger', (f) => api(`/api/depots/${d}/chargers/${encodeURIComponent(String(f.get('id')))}`, { method: 'PUT', body: JSON.stringify({ stationId: str(f, 'stationId'), evseId: num(f, 'evseId'), circuitId: str(f, 'circuitId'), kind: str(f, 'kind'), maxPowerKw: num(f, 'maxPowerKw') }) }));
  } else if (what === 'vehicles') {
    const { items, total } = await api<{ total: number; items: { id: string; name: string; vin: string | null; batteryKwh: number; acMaxPowerKw: number; dcMaxPowerKw: number; consumptionKwhPerKm: number | null }[] }>(`/api/vehicles?depotId=${d}&limit=500`);
    setPage(`<section class="card"><h2>Vehicles (<span data-testid="vehicle-count">${total}</span>)</h2><table id="vehicle-list"><thead><tr><th>Id</th><th>Name</th><th>VIN</th><th>Battery</th><th>AC / DC max</th><th>kWh/km</th></tr></thead><tbody>
      ${items.map((v) => `<tr data-vehicle="${esc(v.id)}"><td><a href="#/vehicle/${encodeURIComponent(v.id)}">${esc(v.id)}</a></td><td>${esc(v.name)}</td><td>${esc(v.vin ?? '')}</td><td>${v.batteryKwh} kWh</td><td>${v.acMaxPowerKw} / ${v.dcMaxPowerKw} kW</td><td>${v.consumptionKwhPerKm ?? ''}</td></tr>`).join('')}</tbody></table></section>
      <section class="card" style="margin-top:1rem"><h2>Add or change a vehicle</h2><form id="vehicle" class="inline"><label>Id<input name="id" required></label><label>Name<input name="name"></label><label>VIN<input name="vin"></label>
        <label>Battery kWh<input name="batteryKwh" type="number" step="0.1" required></label><label>AC max kW<input name="acMaxPowerKw" type="number" step="0.1" required></label><label>DC max kW<input name="dcMaxPowerKw" type="number" step="0.1"></label>
        <label>kWh/km<input name="consumptionKwhPerKm" type="number" step="0.01"></label><button${dis('admin')}>Save</button></form></section>
      <section class="card" style="margin-top:1rem">${csvImport('vehicles-csv', '/api/vehicles.csv', 'vehicles')}<p class="muted">Columns: id, depotId, name, vin, batteryKwh, acMaxPowerKw, dcMaxPowerKw, consumptionKwhPerKm.</p></section>`);
    wireCsv('vehicles-csv', '/api/vehicles.csv');
    jsonForm('vehicle', (f) => api(`/api/vehicles/${encodeURIComponent(String(f.get('id')))}`, { method: 'PUT', body: JSON.stringify({
      depotId: state.depotId, name: str(f, 'name'), vin: str(f, 'vin'), batteryKwh: num(f, 'batteryKwh'), acMaxPowerKw: num(f, 'acMaxPowerKw'), dcMaxPowerKw: num(f, 'dcMaxPowerKw'), consumptionKwhPerKm: num(f, 'consumptionKwhPerKm'),
    }) }));
  } else if (what === 'tokens') {
    const { items } = await api<{ items: { idTag: string; status: string; vehicleId: string | null; expiresAt: string | null }[] }>('/api/tokens?limit=500');
    setPage(`<section class="card"><h2>Tokens</h2><table><thead><tr><th>Id tag</th><th>Status</th><th>Vehicle</th><th>Expires</th></tr></thead><tbody>
      ${items.map((t) => `<tr><td>${esc(t.idTag)}</td><td><span class="badge">${esc(t.status)}</span></td><td>${esc(t.vehicleId ?? '')}</td><td>${esc(t.expiresAt ?? '')}</td></tr>`).join('')}</tbody></table></section>
      <section class="card" style="margin-top:1rem"><h2>Add or change a token</h2><form id="token" class="inline"><label>Id tag<input name="idTag" required maxlength="20"></label>
        <label>Status<select name="status"><option>Accepted</option><option>Blocked</option><option>Expired</option><option>Invalid</option></select></label><label>Vehicle<input name="vehicleId"></label><button${dis('admin')}>Save</button></form></section>
      <section class="card" style="margin-top:1rem">${csvImport('tokens-csv', '/api/tokens.csv', 'tokens')}<p class="muted">Columns: idTag, status (Accepted, Blocked, Expired, Invalid), expiresAt, parentIdTag, vehicleId.</p></section>`);
    wireCsv('tokens-csv', '/api/tokens.csv');
    jsonForm('token', (f) => api(`/api/tokens/${encodeURIComponent(String(f.get('idTag')))}`, { method: 'PUT', body: JSON.stringify({ status: str(f, 'status'), vehicleId: str(f, 'vehicleId') }) }));
  } else if (what === 'departures') {
    const [up, blocks, tz] = await Promise.all([api<{ items: { id: string; vehicleId: string; kind: string; departureAt: string; arrivalAt: string | null; targetSocPercent: number; energyNeededKwh: number | null; chargerId: string | null }[] }>(`/api/depots/${d}/departures/upcoming?limit=200`),
      api<{ items: { id: string; vehicleId: string; days: string[]; departureTime: string; arrivalTime: string | null; distanceKm: number | null; energyNeededKwh: number | null; targetSocPercent: number | null }[] }>(`/api/depots/${d}/blocks?limit=500`),
      api<{ timeZone: string }>(`/api/depots/${d}`)]);
    setPage(`<div class="grid"><section class="card"><h2>Weekly blocks</h2><table><thead><tr><th>Vehicle</th><th>Days</th><th>Back → leaves</th><th>Need</th></tr></thead><tbody>
      ${blocks.items.map((b) => `<tr><td>${esc(b.vehicleId)}</td><td>${esc(b.days.join(' '))}</td><td>${esc(b.arrivalTime ?? '—')} → ${esc(b.departureTime)}</td><td>${b.distanceKm !== null ? `${b.distanceKm} km` : b.energyNeededKwh !== null ? `${b.energyNeededKwh} kWh` : pct(b.targetSocPercent ?? 100)}</td></tr>`).join('') || '<tr><td colspan="4" class="muted">None.</td></tr>'}</tbody></table></section>
      <section class="card"><h2>Coming departures (what the planner uses)</h2><table><thead><tr><th>Vehicle</th><th>Leaves</th><th>Kind</th><th>Need</th><th>Bay</th></tr></thead><tbody>
      ${up.items.map((x) => `<tr><td>${esc(x.vehicleId)}</td><td>${timeIn(x.departureAt, tz.timeZone)}</td><td>${esc(x.kind)}</td><td>${x.energyNeededKwh !== null ? `${x.energyNeededKwh.toFixed(1)} kWh` : pct(x.targetSocPercent)}</td><td>${esc(x.chargerId ?? '')}</td></tr>`).join('') || '<tr><td colspan="5" class="muted">None.</td></tr>'}</tbody></table></section></div>
      <section class="card" style="margin-top:1rem"><h2>Add or change a weekly block</h2><form id="block" class="inline"><label>Block id<input name="id" required></label><label>Vehicle<input name="vehicleId" required></label>
        <label>Days<input name="days" value="mon tue wed thu fri"></label><label>Back at<input name="arrivalTime" placeholder="18:00"></label><label>Leaves at<input name="departureTime" placeholder="06:30" required></label>
        <label>Distance km<input name="distanceKm" type="number"></label><label>or kWh<input name="energyNeededKwh" type="number"></label><label>Bay<input name="chargerId"></label><button${dis('admin')}>Save</button></form></section>
      <section class="card" style="margin-top:1rem">${csvImport('departures-csv', `/api/depots/${d}/departures.csv`, 'departures')}<p class="muted">Columns: id, vehicleId, days, departure, arrival, targetSocPercent, energyNeededKwh, distanceKm, chargerId, priority. A row with days (e.g. <code>mon tue wed</code>) is a weekly block with local times (<code>06:30</code>); without days, a one-off with ISO instants.</p></section>`);
    wireCsv('departures-csv', `/api/depots/${d}/departures.csv`);
    jsonForm('block', (f) => api(`/api/depots/${d}/blocks/${encodeURIComponent(String(f.get('id')))}`, { method: 'PUT', body: JSON.stringify({
      vehicleId: str(f, 'vehicleId'), days: String(f.get('days') ?? '').toLowerCase().split(/[\s,]+/).filter(Boolean), departureTime: str(f, 'departureTime'), arrivalTime: str(f, 'arrivalTime'),
      distanceKm: num(f, 'distanceKm'), energyNeededKwh: num(f, 'energyNeededKwh'), chargerId: str(f, 'chargerId'),
    }) }));
  } else if (what === 'circuits') {
    const { items } = await api<{ items: { id: string; parentId: string | null; maxPowerKw: number }[] }>(`/api/depots/${d}/circuits?limit=500`);
    setPage(`<section class="card"><h2>Circuits</h2><table><thead><tr><th>Circuit</th><th>Fed by</th><th>Limit</th></tr></thead><tbody>
      ${items.map((c) => `<tr><td>${esc(c.id)}</td><td>${esc(c.parentId ?? 'grid connection')}</td><td>${c.maxPowerKw} kW</td></tr>`).join('')}</tbody></table>
      <form id="circuit" class="inline" style="margin-top:1rem"><label>Id<input name="id" required></label><label>Parent<input name="parentId"></label><label>Limit kW<input name="maxPowerKw" type="number" step="0.1" required></label><button${dis('admin')}>Save</button></form></section>`);
    jsonForm('circuit', (f) => api(`/api/depots/${d}/circuits/${encodeURIComponent(String(f.get('id')))}`, { method: 'PUT', body: JSON.stringify({ parentId: str(f, 'parentId') ?? null, maxPowerKw: num(f, 'maxPowerKw') }) }));
  } else if (what === 'tariff') {
    const tariff = await api(`/api/depots/${d}/tariff`);
    setPage(`<section class="card"><h2>Tariff</h2><form id="tariff"><textarea name="tariff" style="min-height:18rem">${esc(JSON.stringify(tariff, null, 2))}</textarea>
      <p class="muted">Time-of-use rules: <code>{"from":"23:00","to":"07:00","pricePerKwh":0.12,"days":"weekdays"}</code>; demand charges per kW of monthly peak.</p><button${dis('admin')}>Save tariff</button></form></section>`);
    jsonForm('tariff', async (f) => {
      let body: unknown;
      try { body = JSON.parse(String(f.get('tariff'))); } catch (err) { throw new Error(`not JSON: ${(err as Error).message}`, { cause: err }); }
      return api(`/api/depots/${d}/tariff`, { method: 'PUT', body: JSON.stringify(body) });
    });
  } else {
    setPage('<div class="card">Unknown page.</div>');
  }
}

window.addEventListener('hashchange', () => void render());
void boot();
