// The yard (issue 9): the crew's task list with acknowledge / done / skip, and the gate kiosk ("which bay?").
// main.ts hands in its helpers, so this page speaks to the API and re-renders exactly like the others.
import { esc } from './charts.ts';

type Role = 'kiosk' | 'viewer' | 'dispatcher' | 'admin';
export interface PageContext {
  api<T>(path: string, init?: RequestInit): Promise<T>;
  toast(message: string, error?: boolean): void;
  can(role: Role): boolean;
  dis(role: Role): string;
  setPage(html: string): void;
  timeIn(iso: string | null, tz?: string): string;
  render(): Promise<void>;
  readonly depotId: string;
  readonly depotName: string;
  readonly app: HTMLElement;
  readonly top: HTMLElement;
}

interface Task { id: number; kind: string; at: string; vehicleId: string; bayId: string; from: string; outVehicleId: string | null; isMove: boolean; text: string; status: string; acknowledgedBy: string | null; closedBy: string | null; closedAt: string | null }
interface YardSummary { enabled: boolean; planAt: string | null; moves: number | null; readyCount: number | null; vehicles: number | null; waiting: { vehicleId: string; departure: string; ready: boolean }[] }
interface Advice { vehicleId: string; action: string; bayId: string | null; chargerId: string | null; connectorType: string | null; at: string | null; message: string }

const whoKey = 'voltyard-yard-who';

export async function yardPage(ctx: PageContext): Promise<void> {
  const d = encodeURIComponent(ctx.depotId);
  const [summary, open, closed, depot] = await Promise.all([
    ctx.api<YardSummary>(`/api/depots/${d}/yard`),
    ctx.api<{ items: Task[]; total: number }>(`/api/depots/${d}/yard/tasks?limit=200`),
    ctx.api<{ items: Task[]; total: number }>(`/api/depots/${d}/yard/tasks?open=false&limit=500`),
    ctx.api<{ timeZone: string }>(`/api/depots/${d}`),
  ]);
  const tz = depot.timeZone;
  const recent = closed.items.filter((t) => t.status !== 'superseded').sort((a, b) => (b.closedAt ?? '').localeCompare(a.closedAt ?? '')).slice(0, 15);
  const row = (t: Task) => `<tr data-task="${t.id}" data-vehicle="${esc(t.vehicleId)}" data-status="${esc(t.status)}">
    <td>${ctx.timeIn(t.at, tz)}${(t.status === 'planned' || t.status === 'acknowledged') && Date.parse(t.at) < Date.now() - 5 * 60_000 ? ' <span class="badge at-risk">late</span>' : ''}</td><td>${esc(t.text)}${t.isMove ? '' : ' <span class="muted">(driver at arrival)</span>'}</td>
    <td><span class="badge ${t.status === 'acknowledged' ? 'pending' : t.status === 'done' ? 'ready' : ''}">${esc(t.status)}</span>${t.acknowledgedBy ? ` <span class="muted">by ${esc(t.acknowledgedBy)}</span>` : ''}${t.closedBy && t.status !== 'acknowledged' ? ` <span class="muted">by ${esc(t.closedBy)}</span>` : ''}</td>
    <td>${t.status === 'planned' ? `<button class="yard-act" data-act="ack" data-id="${t.id}"${ctx.dis('dispatcher')}>Acknowledge</button> ` : ''}${t.status === 'planned' || t.status === 'acknowledged'
      ? `<button class="yard-act secondary" data-act="done" data-id="${t.id}"${ctx.dis('dispatcher')}>Done</button> <button class="yard-act secondary" data-act="skip" data-id="${t.id}"${ctx.dis('dispatcher')}>Skip</button>` : ''}</td></tr>`;
  ctx.setPage(`<section class="card"><h2>Yard</h2>${summary.enabled
    ? `<p>Plan at ${ctx.timeIn(summary.planAt, tz)}: <b data-testid="yard-ready">${summary.readyCount ?? '—'}</b> of ${summary.vehicles ?? '—'} vehicles ready by departure with <b data-testid="yard-moves">${summary.moves ?? '—'}</b> move(s).
      ${summary.waiting.length ? `<br><span class="badge at-risk">no bay before departure</span> ${summary.waiting.map((w) => esc(w.vehicleId)).join(', ')}` : ''}</p>`
    : '<p class="muted">This depot does not plan bays and moves (no move policy): vehicles take the bay they plug into.</p>'}
    <form id="yard-who" class="inline"><label>Your name (shown on what you acknowledge)<input name="who" maxlength="100" value="${esc(localStorage.getItem(whoKey) ?? '')}"></label></form>
    <p class="muted">Gate kiosk: <a href="#/kiosk/${d}">open the "which bay?" page</a> on the gate's screen;
      sign it in with a <code>kiosk</code> key, which can ask for bays and nothing else.</p></section>
    <section class="card" style="margin-top:1rem"><h2>Open tasks (<span data-testid="yard-open">${open.total}</span>)</h2><table id="yard-tasks"><thead><tr><th>When</th><th>Task</th><th>State</th><th></th></tr></thead><tbody>
      ${open.items.map(row).join('') || '<tr><td colspan="4" class="muted">Nothing to do.</td></tr>'}</tbody></table></section>
    <section class="card" style="margin-top:1rem"><h2>Recently closed</h2><table id="yard-closed"><tbody>${recent.map(row).join('') || '<tr><td class="muted">None yet.</td></tr>'}</tbody></table></section>`);
  const who = ctx.app.querySelector<HTMLInputElement>('#yard-who input[name=who]')!;
  who.addEventListener('change', () => localStorage.setItem(whoKey, who.value.trim()));
  ctx.app.querySelector('#yard-who')!.addEventListener('submit', (e) => { e.preventDefault(); localStorage.setItem(whoKey, who.value.trim()); who.blur(); });
  for (const b of ctx.app.querySelectorAll<HTMLButtonElement>('button.yard-act')) {
    b.addEventListener('click', async () => {
      const by = (localStorage.getItem(whoKey) ?? '').trim();
      b.disabled = true;
      try {
        await ctx.api(`/api/depots/${d}/yard/tasks/${b.dataset.id}/${b.dataset.act}`, { method: 'POST', body: JSON.stringify(by ? { by } : {}) });
        ctx.toast(b.dataset.act === 'ack' ? 'Acknowledged' : b.dataset.act === 'done' ? 'Marked done' : 'Skipped; re-planning');
        void ctx.render();
      } catch (err) { b.disabled = false; ctx.toast((err as Error).message, true); }
    });
  }
}

/** The last answer stays on screen through live re-renders, for a minute. */
let shown: { advice: Advice; untilMs: number; error?: boolean } | null = null;
const kioskShowMs = 60_000;
/** Clears the answer when its minute is up: a kiosk key has no live stream whose re-renders would. */
let expiry: number | undefined;

export async function kioskPage(ctx: PageContext): Promise<void> {
  // A kiosk key's screen links nowhere: every other page needs a viewer.
  ctx.top.innerHTML = `<span class="brand">Voltyard</span><span class="muted" data-testid="kiosk-depot">${esc(ctx.depotName)}</span>${ctx.can('viewer') ? '<span class="role"><a href="#/">dashboard</a></span>' : ''}`;
  if (shown && Date.now() > shown.untilMs) shown = null;
  window.clearTimeout(expiry);
  if (shown) expiry = window.setTimeout(() => void ctx.render(), shown.untilMs - Date.now() + 100);
  const a = shown?.advice;
  ctx.setPage(`<section class="card kiosk"><h1>Which bay?</h1>
    <form id="kiosk" class="inline"><label>Van number or badge<input name="vehicle" autocomplete="off" autofocus required maxlength="100" inputmode="text"></label><button>Show my bay</button></form>
    <div id="kiosk-answer" aria-live="polite">${a ? `<div class="kiosk-bay${shown?.error ? ' error' : ''}" data-testid="kiosk-bay">${esc(shown?.error ? '?' : a.action === 'wait' || a.bayId === null ? 'Lot' : a.bayId)}</div>
      <p class="kiosk-message" data-testid="kiosk-message">${esc(a.message)}</p>${a.connectorType ? `<p class="muted">Connector ${esc(a.connectorType)}${a.chargerId ? ` · charger ${esc(a.chargerId)}` : ''}</p>` : ''}` : ''}</div></section>`);
  const form = ctx.app.querySelector<HTMLFormElement>('#kiosk')!;
  const input = form.querySelector<HTMLInputElement>('input[name=vehicle]')!;
  if (document.activeElement !== input) input.focus();
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const asked = input.value.trim();
    if (!asked) return;
    try {
      const advice = await ctx.api<Advice>(`/api/depots/${encodeURIComponent(ctx.depotId)}/bay?vehicle=${encodeURIComponent(asked)}`);
      shown = { advice, untilMs: Date.now() + kioskShowMs };
    } catch (err) {
      shown = { advice: { vehicleId: asked, action: 'unknown', bayId: null, chargerId: null, connectorType: null, at: null, message: (err as Error).message.replace(/^Not Found: /, '') }, untilMs: Date.now() + 15_000, error: true };
    }
    input.value = '';
    input.blur();
    await kioskPage(ctx);
  });
}
