/** One horizontal bar chart per series: median bars, min–max whiskers, FAILED rows marked. */
import { type Series, summary } from "./results.js";

const escapeXml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function format(value: number): string {
  if (value >= 100_000) return `${(value / 1e6).toFixed(2)}M`;
  if (value >= 1000) return `${(value / 1000).toFixed(1)}k`;
  return value >= 10 ? value.toFixed(0) : value.toFixed(2);
}

export function barChart(title: string, series: Series): string {
  const rows = [
    ...Object.keys(series.values),
    ...Object.keys(series.failed),
    ...Object.keys(series.skipped),
  ].filter((name, i, all) => all.indexOf(name) === i);
  const left = 130;
  const width = 720;
  const plot = width - left - 90;
  const rowHeight = 26;
  const top = 48;
  const height = top + rows.length * rowHeight + 30;
  const maxima = rows.map((name) => {
    const values = series.values[name];
    return values && values.length > 0 && !series.failed[name] ? summary(values).max : 0;
  });
  const scale = Math.max(...maxima, 1e-9);
  const x = (value: number) => left + (value / scale) * plot;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="10" y="38" fill="#555">${escapeXml(`${series.label} (${series.unit}, ${series.better} is better; bar = median, line = min–max)`)}</text>`,
  ];
  rows.forEach((name, i) => {
    const y = top + i * rowHeight;
    const ours = name.startsWith("se-");
    parts.push(
      `<text x="${left - 8}" y="${y + 16}" text-anchor="end"${ours ? ' font-weight="bold"' : ""}>${escapeXml(name)}</text>`,
    );
    const failure = series.failed[name] ?? series.skipped[name];
    const values = series.values[name];
    if (failure !== undefined || !values || values.length === 0) {
      const label = series.failed[name] !== undefined ? "FAILED" : "skipped";
      parts.push(`<text x="${left + 4}" y="${y + 16}" fill="#b00">${label}</text>`);
      return;
    }
    const s = summary(values);
    const fill = ours ? "#2b6cb0" : name === series.reference ? "#718096" : "#a0aec0";
    parts.push(
      `<rect x="${left}" y="${y + 4}" width="${Math.max(1, x(s.median) - left).toFixed(1)}" height="16" fill="${fill}"/>`,
    );
    parts.push(
      `<line x1="${x(s.min).toFixed(1)}" x2="${x(s.max).toFixed(1)}" y1="${y + 12}" y2="${y + 12}" stroke="#000"/>`,
    );
    parts.push(`<text x="${(x(s.max) + 6).toFixed(1)}" y="${y + 16}">${format(s.median)}</text>`);
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
