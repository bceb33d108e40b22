/**
 * The benchmark chart (docs/bench.svg): one row per throughput case, a bar each for
 * zmq-ts, zeromq.js and the raw ceiling, messages/s on a log scale (the three differ by
 * orders of magnitude at small sizes, so a linear axis would hide two of them). Latency
 * rows are left to the table. Plain SVG text, no dependency.
 */
import type { CaseResult } from "./spec.js";

interface Row {
  title: string;
  ours?: CaseResult;
  zeromq?: CaseResult;
  raw?: CaseResult;
}

const BARS: { key: "ours" | "zeromq" | "raw"; label: string; color: string }[] = [
  { key: "ours", label: "zmq-ts", color: "#2b6cb0" },
  { key: "zeromq", label: "zeromq.js (libzmq)", color: "#dd6b20" },
  { key: "raw", label: "raw node:net", color: "#718096" },
];

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function rate(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(0)}k`;
  return x.toFixed(0);
}

export function chart(lines: Row[], subtitle: string): string {
  const rows = lines.filter((l) => [l.ours, l.zeromq, l.raw].some((r) => r?.ok && r.p50Us === undefined && r.msgPerSec));
  const left = 300;
  const width = 900;
  const barH = 9;
  const rowH = BARS.length * barH + 10;
  const top = 60;
  const height = top + rows.length * rowH + 40;
  const lo = 3; // 1k msg/s
  const hi = 8; // 100M msg/s
  const x = (v: number) => left + ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * (width - left - 70);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="10" y="18" font-size="14" font-weight="bold">Throughput, messages/s received (log scale): zmq-ts vs zeromq.js vs raw node:net</text>`);
  out.push(`<text x="10" y="34" fill="#555">${esc(subtitle)}</text>`);
  BARS.forEach((b, i) => {
    out.push(`<rect x="${10 + i * 170}" y="42" width="10" height="10" fill="${b.color}"/><text x="${24 + i * 170}" y="51">${esc(b.label)}</text>`);
  });
  for (let p = lo; p <= hi; p++) {
    const gx = x(10 ** p);
    out.push(`<line x1="${gx}" y1="${top - 4}" x2="${gx}" y2="${height - 30}" stroke="#ddd"/>`);
    out.push(`<text x="${gx}" y="${height - 16}" text-anchor="middle" fill="#555">${rate(10 ** p)}</text>`);
  }
  rows.forEach((row, i) => {
    const y = top + i * rowH;
    out.push(`<text x="${left - 8}" y="${y + rowH / 2 + 3}" text-anchor="end">${esc(row.title)}</text>`);
    BARS.forEach((b, j) => {
      const r = row[b.key];
      if (!r?.ok || !r.msgPerSec) return;
      const by = y + j * barH;
      out.push(`<rect x="${left}" y="${by}" width="${Math.max(1, x(r.msgPerSec) - left).toFixed(1)}" height="${barH - 1}" fill="${b.color}"/>`);
      out.push(`<text x="${(x(r.msgPerSec) + 4).toFixed(1)}" y="${by + barH - 1}" font-size="9" fill="#333">${rate(r.msgPerSec)}</text>`);
    });
  });
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}
