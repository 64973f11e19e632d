/** SVG charts: overlaid histograms, a scatter map with hover and click, and loss curves. */
import { useEffect, useMemo, useState } from 'react';

export const SERIES_COLORS = { FAST: '#d9480f', POOR: '#1c7ed6', candidate: '#868e96', train: '#1c7ed6', validation: '#d9480f' } as const;

/** About `count` round tick values covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) return [min];
  const rawStep = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(rawStep));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * magnitude >= rawStep) ?? 10) * magnitude;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

const MARGIN = { top: 12, right: 14, bottom: 40, left: 48 };

/**
 * Width in CSS pixels of the element behind `ref`, so a chart draws at its real size (text stays
 * 11 px instead of growing with a stretched viewBox).
 */
function useWidth(fallback: number): [(element: HTMLDivElement | null) => void, number] {
  const [element, setElement] = useState<HTMLDivElement | null>(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    if (!element) return;
    const observer = new ResizeObserver(([entry]) => setWidth(Math.max(280, Math.floor(entry!.contentRect.width))));
    observer.observe(element);
    return () => observer.disconnect();
  }, [element]);
  return [setElement, width];
}

export interface HistogramSeries {
  name: string;
  color: string;
  values: number[];
}

/**
 * Overlaid histograms on shared bins, each normalised to a density (fraction per unit score) so that
 * a set of 250 and a set of 250,000 can be compared; counts show on hover.
 */
export function Histogram({ series, bins = 30, threshold, xLabel, height = 300 }: { series: HistogramSeries[]; bins?: number; threshold?: number | null; xLabel: string; height?: number }) {
  const [ref, width] = useWidth(720);
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  const [hoverBin, setHoverBin] = useState<number | null>(null);
  const model = useMemo(() => {
    if (all.length === 0) return null;
    let lo = Math.min(...all);
    let hi = Math.max(...all);
    if (threshold != null && Number.isFinite(threshold)) {
      lo = Math.min(lo, threshold);
      hi = Math.max(hi, threshold);
    }
    if (lo === hi) hi = lo + 1;
    const binWidth = (hi - lo) / bins;
    const histograms = series.map((s) => {
      const counts = new Array<number>(bins).fill(0);
      for (const v of s.values) if (Number.isFinite(v)) counts[Math.min(bins - 1, Math.floor((v - lo) / binWidth))]!++;
      const density = counts.map((c) => (s.values.length ? c / s.values.length / binWidth : 0));
      return { ...s, counts, density };
    });
    const maxDensity = Math.max(...histograms.flatMap((h) => h.density), 1e-9);
    return { lo, hi, binWidth, histograms, maxDensity };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [series, bins, threshold]);
  if (!model) return <p className="muted">No scores to plot.</p>;
  const innerW = width - MARGIN.left - MARGIN.right;
  const innerH = height - MARGIN.top - MARGIN.bottom;
  const x = (v: number) => MARGIN.left + ((v - model.lo) / (model.hi - model.lo)) * innerW;
  const y = (d: number) => MARGIN.top + innerH - (d / model.maxDensity) * innerH;
  return (
    <div className="chart" ref={ref}>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`Histogram of ${xLabel}`} onMouseLeave={() => setHoverBin(null)}>
        <Axes x={x} y={y} xTicks={niceTicks(model.lo, model.hi, 8)} yTicks={niceTicks(0, model.maxDensity, 4)} width={width} height={height} xLabel={xLabel} yLabel="density" />
        {model.histograms.map((h) => (
          <path
            key={h.name}
            d={h.density.map((d, i) => `${i === 0 ? 'M' : 'L'}${x(model.lo + i * model.binWidth)},${y(d)}H${x(model.lo + (i + 1) * model.binWidth)}`).join('') + `V${y(0)}H${x(model.lo)}Z`}
            fill={h.color}
            fillOpacity={0.22}
            stroke={h.color}
            strokeWidth={1.6}
          />
        ))}
        {threshold != null && Number.isFinite(threshold) && (
          <g>
            <line x1={x(threshold)} x2={x(threshold)} y1={MARGIN.top} y2={MARGIN.top + innerH} stroke="#212529" strokeDasharray="4 3" />
            <text x={x(threshold) + 4} y={MARGIN.top + 10} className="chart-note">
              threshold {threshold.toFixed(2)}
            </text>
          </g>
        )}
        {Array.from({ length: bins }, (_, i) => (
          <rect key={i} x={x(model.lo + i * model.binWidth)} y={MARGIN.top} width={innerW / bins} height={innerH} fill="transparent" onMouseEnter={() => setHoverBin(i)} />
        ))}
        {hoverBin !== null && <rect x={x(model.lo + hoverBin * model.binWidth)} y={MARGIN.top} width={innerW / bins} height={innerH} fill="#000" fillOpacity={0.05} pointerEvents="none" />}
      </svg>
      <div className="chart-legend">
        {model.histograms.map((h) => (
          <span key={h.name} className="legend-item">
            <span className="swatch" style={{ background: h.color }} /> {h.name} <span className="muted">(n = {h.values.length})</span>
            {hoverBin !== null && <strong> {h.counts[hoverBin]}</strong>}
          </span>
        ))}
        {hoverBin !== null && (
          <span className="muted">
            in [{(model.lo + hoverBin * model.binWidth).toFixed(3)}, {(model.lo + (hoverBin + 1) * model.binWidth).toFixed(3)})
          </span>
        )}
      </div>
    </div>
  );
}

function Axes({ x, y, xTicks, yTicks, width, height, xLabel, yLabel }: { x: (v: number) => number; y: (v: number) => number; xTicks: number[]; yTicks: number[]; width: number; height: number; xLabel: string; yLabel: string }) {
  const bottom = height - MARGIN.bottom;
  return (
    <g className="axes">
      <line x1={MARGIN.left} x2={width - MARGIN.right} y1={bottom} y2={bottom} />
      <line x1={MARGIN.left} x2={MARGIN.left} y1={MARGIN.top} y2={bottom} />
      {xTicks.map((t) => (
        <g key={`x${t}`}>
          <line x1={x(t)} x2={x(t)} y1={bottom} y2={bottom + 4} />
          <text x={x(t)} y={bottom + 16} textAnchor="middle">
            {formatTick(t)}
          </text>
        </g>
      ))}
      {yTicks.map((t) => (
        <g key={`y${t}`}>
          <line x1={MARGIN.left - 4} x2={width - MARGIN.right} y1={y(t)} y2={y(t)} className="gridline" />
          <text x={MARGIN.left - 7} y={y(t) + 4} textAnchor="end">
            {formatTick(t)}
          </text>
        </g>
      ))}
      <text x={MARGIN.left + (width - MARGIN.left - MARGIN.right) / 2} y={height - 6} textAnchor="middle" className="axis-label">
        {xLabel}
      </text>
      <text transform={`translate(12 ${MARGIN.top + (bottom - MARGIN.top) / 2}) rotate(-90)`} textAnchor="middle" className="axis-label">
        {yLabel}
      </text>
    </g>
  );
}

function formatTick(t: number): string {
  if (t === 0) return '0';
  const abs = Math.abs(t);
  if (abs >= 1e4 || abs < 1e-3) return t.toExponential(0);
  return String(Number(t.toPrecision(4)));
}

export interface ScatterPoint {
  id: string;
  x: number;
  y: number;
  color: string;
  title: string;
  group: string;
}

/** A scatter map; hover shows `title`, click calls `onSelect(id)`. Later groups are drawn on top. */
export function ScatterMap({ points, groups, onSelect, xLabel, yLabel }: { points: ScatterPoint[]; groups: { name: string; color: string }[]; onSelect(id: string): void; xLabel: string; yLabel: string }) {
  const [ref, width] = useWidth(720);
  const height = Math.round(Math.min(560, Math.max(300, width * 0.55)));
  const [hover, setHover] = useState<ScatterPoint | null>(null);
  const bounds = useMemo(() => {
    const xs = points.map((p) => p.x);
    const ys = points.map((p) => p.y);
    const pad = (lo: number, hi: number) => {
      const span = hi - lo || 1;
      return [lo - span * 0.04, hi + span * 0.04] as const;
    };
    return { x: pad(Math.min(...xs), Math.max(...xs)), y: pad(Math.min(...ys), Math.max(...ys)) };
  }, [points]);
  if (points.length === 0) return <p className="muted">No points to plot.</p>;
  const innerW = width - MARGIN.left - MARGIN.right;
  const innerH = height - MARGIN.top - MARGIN.bottom;
  const sx = (v: number) => MARGIN.left + ((v - bounds.x[0]) / (bounds.x[1] - bounds.x[0])) * innerW;
  const sy = (v: number) => MARGIN.top + innerH - ((v - bounds.y[0]) / (bounds.y[1] - bounds.y[0])) * innerH;
  const order = new Map(groups.map((g, i) => [g.name, i]));
  const sorted = [...points].sort((a, b) => (order.get(a.group) ?? 0) - (order.get(b.group) ?? 0));
  return (
    <div className="chart scatter" ref={ref}>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`Map: ${xLabel} against ${yLabel}`}>
        <Axes x={sx} y={sy} xTicks={niceTicks(bounds.x[0], bounds.x[1], 8)} yTicks={niceTicks(bounds.y[0], bounds.y[1], 6)} width={width} height={height} xLabel={xLabel} yLabel={yLabel} />
        {sorted.map((p) => (
          <circle
            key={p.id}
            cx={sx(p.x)}
            cy={sy(p.y)}
            r={hover?.id === p.id ? 6 : 3.6}
            fill={p.color}
            fillOpacity={p.group === 'candidate' ? 0.5 : 0.8}
            stroke={hover?.id === p.id ? '#111' : '#fff'}
            strokeWidth={hover?.id === p.id ? 1.5 : 0.6}
            onMouseEnter={() => setHover(p)}
            onMouseLeave={() => setHover(null)}
            onClick={() => onSelect(p.id)}
            style={{ cursor: 'pointer' }}
            data-testid="map-point"
          >
            <title>{p.title}</title>
          </circle>
        ))}
        {hover && (
          <g pointerEvents="none" transform={`translate(${Math.min(sx(hover.x) + 10, width - 190)} ${Math.max(sy(hover.y) - 28, 4)})`}>
            <rect width={180} height={22} rx={3} fill="#212529" fillOpacity={0.9} />
            <text x={8} y={15} fill="#fff" className="tip-text">
              {hover.title}
            </text>
          </g>
        )}
      </svg>
      <div className="chart-legend">
        {groups.map((g) => (
          <span key={g.name} className="legend-item">
            <span className="swatch round" style={{ background: g.color }} /> {g.name} <span className="muted">(n = {points.filter((p) => p.group === g.name).length})</span>
          </span>
        ))}
      </div>
    </div>
  );
}

export interface CurveSeries {
  name: string;
  color: string;
  points: { x: number; y: number }[];
}

/** Loss against epoch. */
export function LineChart({ series, xLabel, yLabel, height = 260 }: { series: CurveSeries[]; xLabel: string; yLabel: string; height?: number }) {
  const [ref, width] = useWidth(560);
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.y));
  if (all.length === 0)
    return (
      <div ref={ref}>
        <p className="muted">No epochs yet.</p>
      </div>
    );
  const xMin = Math.min(...all.map((p) => p.x), 0);
  const xMax = Math.max(...all.map((p) => p.x), 1);
  const yMax = Math.max(...all.map((p) => p.y)) * 1.05 || 1;
  const yMin = Math.min(0, ...all.map((p) => p.y));
  const innerW = width - MARGIN.left - MARGIN.right;
  const innerH = height - MARGIN.top - MARGIN.bottom;
  const sx = (v: number) => MARGIN.left + ((v - xMin) / (xMax - xMin || 1)) * innerW;
  const sy = (v: number) => MARGIN.top + innerH - ((v - yMin) / (yMax - yMin || 1)) * innerH;
  return (
    <div className="chart" ref={ref}>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${yLabel} against ${xLabel}`} data-testid="training-curve">
        <Axes x={sx} y={sy} xTicks={niceTicks(xMin, xMax, 8).filter((t) => Number.isInteger(t))} yTicks={niceTicks(yMin, yMax, 4)} width={width} height={height} xLabel={xLabel} yLabel={yLabel} />
        {series.map((s) => {
          const pts = s.points.filter((p) => Number.isFinite(p.y));
          return (
            <g key={s.name}>
              <polyline points={pts.map((p) => `${sx(p.x)},${sy(p.y)}`).join(' ')} fill="none" stroke={s.color} strokeWidth={1.8} />
              {pts.length <= 60 && pts.map((p) => <circle key={p.x} cx={sx(p.x)} cy={sy(p.y)} r={2.2} fill={s.color} />)}
            </g>
          );
        })}
      </svg>
      <div className="chart-legend">
        {series.map((s) => (
          <span key={s.name} className="legend-item">
            <span className="swatch" style={{ background: s.color }} /> {s.name}
          </span>
        ))}
      </div>
    </div>
  );
}
