// Small SVG charts: no chart library needed for a stacked step chart, a limit line, a price band and a SoC line.

export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const palette = ['#2255cc', '#12805c', '#b54708', '#7a5af8', '#dd2590', '#0e9384', '#c4320a', '#4e5ba6', '#6172f3', '#099250'];
const W = 960;
const H = 260;
const pad = { l: 44, r: 12, t: 10, b: 26 };

/** 1, 2 or 5 times a power of ten: axis ticks a person reads at a glance. */
function niceStep(rough: number): number {
  const p = 10 ** Math.floor(Math.log10(rough));
  return [1, 2, 5, 10].map((m) => m * p).find((x) => x >= rough)!;
}

interface PlanChartData {
  slotStarts: string[];
  pricePerKwh: number[];
  currency: string;
  series: { sessionId: string; vehicleId: string | null; chargerId: string; powerKw: number[] }[];
}

function hourLabel(ms: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone }).format(new Date(ms));
}

/** Stacked power per vehicle per slot, under the site limit, with the price per slot as a shaded band behind. */
export function planChart(data: PlanChartData, limitKw: number | null, timeZone: string): string {
  const starts = data.slotStarts.map((s) => Date.parse(s));
  const n = starts.length - 1;
  if (n <= 0) return '<p class="muted">The plan is empty.</p>';
  const t0 = starts[0];
  const t1 = starts[n];
  const x = (ms: number) => pad.l + (W - pad.l - pad.r) * (ms - t0) / (t1 - t0);
  const totals = Array.from({ length: n }, (_, t) => data.series.reduce((s, v) => s + (v.powerKw[t] ?? 0), 0));
  const step = niceStep(Math.max(1, limitKw ?? 0, ...totals) * 1.1 / 4);
  const yMax = step * Math.ceil(Math.max(1, limitKw ?? 0, ...totals) * 1.1 / step);
  const y = (kw: number) => H - pad.b - (H - pad.t - pad.b) * kw / yMax;
  const pMin = Math.min(...data.pricePerKwh);
  const pMax = Math.max(...data.pricePerKwh);
  const parts: string[] = [];
  // Price band: darker is dearer.
  for (let t = 0; t < n; t++) {
    const share = pMax > pMin ? (data.pricePerKwh[t] - pMin) / (pMax - pMin) : 0;
    parts.push(`<rect x="${x(starts[t]).toFixed(1)}" y="${pad.t}" width="${Math.max(0.5, x(starts[t + 1]) - x(starts[t])).toFixed(1)}" height="${H - pad.t - pad.b}" fill="#f79009" fill-opacity="${(0.04 + 0.22 * share).toFixed(3)}"><title>${hourLabel(starts[t], timeZone)} ${data.pricePerKwh[t].toFixed(3)} ${esc(data.currency)}/kWh</title></rect>`);
  }
  const base = new Array<number>(n).fill(0);
  data.series.forEach((s, k) => {
    const color = palette[k % palette.length];
    for (let t = 0; t < n; t++) {
      const p = s.powerKw[t] ?? 0;
      if (p <= 1e-3) continue;
      parts.push(`<rect class="bar" data-series="${esc(s.vehicleId ?? s.sessionId)}" x="${x(starts[t]).toFixed(1)}" y="${y(base[t] + p).toFixed(1)}" width="${Math.max(0.5, x(starts[t + 1]) - x(starts[t])).toFixed(1)}" height="${(y(base[t]) - y(base[t] + p)).toFixed(1)}" fill="${color}"><title>${esc(s.vehicleId ?? s.sessionId)} ${hourLabel(starts[t], timeZone)}: ${p.toFixed(1)} kW</title></rect>`);
      base[t] += p;
    }
  });
  if (limitKw !== null) parts.push(`<line x1="${pad.l}" x2="${W - pad.r}" y1="${y(limitKw)}" y2="${y(limitKw)}" stroke="#b42318" stroke-width="2" stroke-dasharray="6 4"/><text x="${W - pad.r}" y="${y(limitKw) - 4}" text-anchor="end" font-size="12" fill="#b42318">limit ${limitKw} kW</text>`);
  for (let v = 0; v <= yMax + 1e-9; v += step) {
    parts.push(`<text x="${pad.l - 4}" y="${y(v) + 4}" text-anchor="end" font-size="11" fill="#667085">${v.toFixed(0)}</text><line x1="${pad.l}" x2="${W - pad.r}" y1="${y(v)}" y2="${y(v)}" stroke="#eaecf0"/>`);
  }
  const hours = Math.max(1, Math.round((t1 - t0) / 3_600_000 / 8)) * 3_600_000;
  for (let ms = Math.ceil(t0 / 3_600_000) * 3_600_000; ms <= t1; ms += hours) parts.push(`<text x="${x(ms)}" y="${H - 8}" text-anchor="middle" font-size="11" fill="#667085">${hourLabel(ms, timeZone)}</text>`);
  const legend = data.series.map((s, k) => `<span><i style="background:${palette[k % palette.length]}"></i>${esc(s.vehicleId ?? s.sessionId)} on ${esc(s.chargerId)}</span>`).join('');
  return `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="planned power per vehicle, kW">${parts.join('')}</svg><div class="legend">${legend}<span><i style="background:#f79009;opacity:.4"></i>price (darker = dearer, ${pMin.toFixed(2)}–${pMax.toFixed(2)} ${esc(data.currency)}/kWh)</span></div>`;
}

export function socChart(points: readonly { at: string; socPercent: number }[], timeZone: string): string {
  if (points.length === 0) return '<p class="muted">No SoC readings since the server started.</p>';
  const ts = points.map((p) => Date.parse(p.at));
  const t0 = Math.min(...ts);
  const t1 = Math.max(t0 + 60_000, ...ts);
  const x = (ms: number) => pad.l + (W - pad.l - pad.r) * (ms - t0) / (t1 - t0);
  const y = (soc: number) => H - pad.b - (H - pad.t - pad.b) * soc / 100;
  const path = points.map((p, k) => `${k ? 'L' : 'M'}${x(ts[k]).toFixed(1)},${y(p.socPercent).toFixed(1)}`).join('');
  const grid = [0, 25, 50, 75, 100].map((v) => `<line x1="${pad.l}" x2="${W - pad.r}" y1="${y(v)}" y2="${y(v)}" stroke="#eaecf0"/><text x="${pad.l - 4}" y="${y(v) + 4}" text-anchor="end" font-size="11" fill="#667085">${v}%</text>`).join('');
  return `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="state of charge over time">${grid}<path d="${path}" fill="none" stroke="#2255cc" stroke-width="2.5"/>
    <text x="${pad.l}" y="${H - 8}" font-size="11" fill="#667085">${hourLabel(t0, timeZone)}</text><text x="${W - pad.r}" y="${H - 8}" text-anchor="end" font-size="11" fill="#667085">${hourLabel(t1, timeZone)}</text></svg>`;
}
