/**
 * An interactive 3-D view of a crystal structure drawn on a 2-D canvas (no WebGL, so it also renders
 * in headless browsers without a GPU): unit cell edges, atoms as shaded spheres sorted back to front,
 * and partially occupied sites drawn as pies of their species with a pale slice for the vacancy.
 * Drag (mouse or touch) rotates, the wheel zooms, hover or tap names a site and its occupancies.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Site } from '../api/types.js';
import { covalentRadius, elementColor } from '../lib/elements.js';

type Vec3 = [number, number, number];
type Mat3 = [Vec3, Vec3, Vec3];

/** Atoms whose fractional coordinate is within this of 0 are also drawn at 1 (their face image). */
const FACE_TOLERANCE = 0.02;
/** Above this many sites, face images are not added (keeps the view responsive). */
const MAX_SITES_WITH_IMAGES = 600;
/** Drawn radius (Å) = SCALE·covalent radius + OFFSET: small enough to see through the cell. */
const RADIUS_SCALE = 0.34;
const RADIUS_OFFSET = 0.12;
const ROTATE_RADIANS_PER_PIXEL = 0.01;
const PARTIAL_OCCUPANCY_EPS = 1e-3;

interface Atom {
  siteIndex: number;
  cart: Vec3;
  radius: number;
  image: boolean;
}

interface Projected {
  atom: Atom;
  x: number;
  y: number;
  r: number;
  depth: number;
}

const add = (a: Vec3, b: Vec3): Vec3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
const scale = (a: Vec3, s: number): Vec3 => [a[0] * s, a[1] * s, a[2] * s];
const dot = (a: Vec3, b: Vec3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const unit = (a: Vec3): Vec3 => scale(a, 1 / (Math.hypot(...a) || 1));
const apply = (m: Mat3, v: Vec3): Vec3 => [dot(m[0], v), dot(m[1], v), dot(m[2], v)];
const compose = (a: Mat3, b: Mat3): Mat3 => {
  const columns: Vec3[] = [0, 1, 2].map((j) => [b[0][j]!, b[1][j]!, b[2][j]!] as Vec3);
  return a.map((row) => columns.map((col) => dot(row, col))) as Mat3;
};
const rotX = (t: number): Mat3 => [[1, 0, 0], [0, Math.cos(t), -Math.sin(t)], [0, Math.sin(t), Math.cos(t)]];
const rotY = (t: number): Mat3 => [[Math.cos(t), 0, Math.sin(t)], [0, 1, 0], [-Math.sin(t), 0, Math.cos(t)]];

/** A rotation that looks down `axis` (it points at the viewer) with `up` pointing up on screen. */
function lookAlong(axis: Vec3, up: Vec3): Mat3 {
  const z = unit(axis);
  const y = unit(add(up, scale(z, -dot(up, z))));
  const x = cross(y, z);
  return [x, y, z];
}

function defaultRotation(lattice: Mat3): Mat3 {
  return compose(rotX(0.35), compose(rotY(-0.55), lookAlong(lattice[0], lattice[2])));
}

function siteRadius(site: Site): number {
  const total = site.species.reduce((sum, s) => sum + s.occupancy, 0) || 1;
  const covalent = site.species.reduce((sum, s) => sum + (s.occupancy / total) * covalentRadius(s.element), 0);
  return RADIUS_SCALE * covalent + RADIUS_OFFSET;
}

export function isPartial(site: Site): boolean {
  const total = site.species.reduce((sum, s) => sum + s.occupancy, 0);
  return site.species.length > 1 || total < 1 - PARTIAL_OCCUPANCY_EPS;
}

export function buildAtoms(lattice: Mat3, sites: readonly Site[], withImages: boolean): Atom[] {
  const atoms: Atom[] = [];
  const images = withImages && sites.length <= MAX_SITES_WITH_IMAGES;
  sites.forEach((site, siteIndex) => {
    const radius = siteRadius(site);
    const shifts: Vec3[] = [[0, 0, 0]];
    if (images) {
      for (let axis = 0; axis < 3; axis++) {
        if (Math.abs(site.frac[axis]!) < FACE_TOLERANCE) {
          for (const shift of [...shifts]) {
            const next: Vec3 = [...shift];
            next[axis] = 1;
            shifts.push(next);
          }
        }
      }
    }
    shifts.forEach((shift, i) => {
      const f: Vec3 = [site.frac[0]! + shift[0], site.frac[1]! + shift[1], site.frac[2]! + shift[2]];
      const cart = add(add(scale(lattice[0], f[0]), scale(lattice[1], f[1])), scale(lattice[2], f[2]));
      atoms.push({ siteIndex, cart, radius, image: i > 0 });
    });
  });
  return atoms;
}

export interface StructureViewerProps {
  lattice: number[][];
  sites: Site[];
}

export function StructureViewer({ lattice: latticeInput, sites }: StructureViewerProps) {
  const lattice = latticeInput as Mat3;
  const containerRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [size, setSize] = useState({ width: 640, height: 440 });
  const [rotation, setRotationState] = useState<Mat3>(() => defaultRotation(lattice));
  // Half-extent (Å) of the cell as projected under the last preset view: the scale that fills the
  // canvas. Dragging keeps it, so the picture does not pump while it turns.
  const [fitRotation, setFitRotation] = useState<Mat3>(() => defaultRotation(lattice));
  const [zoom, setZoom] = useState(1);
  const preset = (r: Mat3) => {
    setRotationState(r);
    setFitRotation(r);
    setZoom(1);
  };
  const setRotation = setRotationState;
  const [withImages, setWithImages] = useState(true);
  const [hover, setHover] = useState<{ siteIndex: number; x: number; y: number } | null>(null);
  const projectedRef = useRef<Projected[]>([]);
  const dragRef = useRef<{ x: number; y: number; moved: boolean } | null>(null);

  const atoms = useMemo(() => buildAtoms(lattice, sites, withImages), [lattice, sites, withImages]);
  const centre = useMemo(() => scale(add(add(lattice[0], lattice[1]), lattice[2]), 0.5), [lattice]);
  const corners = useMemo(() => {
    const list: Vec3[] = [];
    for (const i of [0, 1]) for (const j of [0, 1]) for (const k of [0, 1]) list.push(add(add(scale(lattice[0], i), scale(lattice[1], j)), scale(lattice[2], k)));
    return list;
  }, [lattice]);
  const extent = useMemo(() => Math.max(...corners.map((c) => Math.hypot(...add(c, scale(centre, -1))))) + 1.2, [corners, centre]);
  /** Projected half-width and half-height (Å) of the cell and its atoms under `fitRotation`. */
  const fitHalf = useMemo(() => {
    let halfX = 0;
    let halfY = 0;
    const margin = Math.max(0.8, ...atoms.map((a) => a.radius));
    for (const c of [...corners, ...atoms.map((a) => a.cart)]) {
      const v = apply(fitRotation, add(c, scale(centre, -1)));
      halfX = Math.max(halfX, Math.abs(v[0]));
      halfY = Math.max(halfY, Math.abs(v[1]));
    }
    return { x: halfX + margin, y: halfY + margin };
  }, [atoms, corners, centre, fitRotation]);

  useEffect(() => {
    const element = containerRef.current;
    if (!element) return;
    const observer = new ResizeObserver(([entry]) => {
      const width = Math.max(240, Math.floor(entry!.contentRect.width));
      setSize({ width, height: Math.round(Math.min(520, Math.max(280, width * 0.72))) });
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  const draw = useCallback(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(size.width * dpr);
    canvas.height = Math.round(size.height * dpr);
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, size.width, size.height);

    const pixelsPerAngstrom = Math.min((size.width / 2 - 8) / fitHalf.x, (size.height / 2 - 8) / fitHalf.y) * 0.92 * zoom;
    const eye = extent * 4; // mild perspective: the eye sits 4 cell radii away
    const project = (p: Vec3) => {
      const v = apply(rotation, add(p, scale(centre, -1)));
      const perspective = eye / (eye - v[2]);
      return { x: size.width / 2 + v[0] * pixelsPerAngstrom * perspective, y: size.height / 2 - v[1] * pixelsPerAngstrom * perspective, depth: v[2], perspective };
    };

    // Cell edges (drawn first: atoms cover them).
    ctx.lineWidth = 1.2;
    ctx.strokeStyle = '#5c6670';
    const edges: [number, number][] = [[0, 1], [0, 2], [0, 4], [1, 3], [1, 5], [2, 3], [2, 6], [3, 7], [4, 5], [4, 6], [5, 7], [6, 7]];
    const cornerPoints = corners.map(project);
    ctx.beginPath();
    for (const [i, j] of edges) {
      ctx.moveTo(cornerPoints[i]!.x, cornerPoints[i]!.y);
      ctx.lineTo(cornerPoints[j]!.x, cornerPoints[j]!.y);
    }
    ctx.stroke();

    const projected: Projected[] = atoms.map((atom) => {
      const p = project(atom.cart);
      return { atom, x: p.x, y: p.y, r: Math.max(2, atom.radius * pixelsPerAngstrom * p.perspective), depth: p.depth };
    });
    projected.sort((a, b) => a.depth - b.depth);
    projectedRef.current = projected;

    for (const p of projected) {
      const site = sites[p.atom.siteIndex]!;
      // Depth cue: atoms at the back fade a little towards the background.
      ctx.globalAlpha = 0.6 + 0.4 * ((p.depth + extent) / (2 * extent));
      drawSite(ctx, site, p.x, p.y, p.r, hover?.siteIndex === p.atom.siteIndex);
    }
    ctx.globalAlpha = 1;

    // Axis triad in the lower-left corner.
    const origin = { x: 34, y: size.height - 30 };
    (['a', 'b', 'c'] as const).forEach((name, i) => {
      const v = apply(rotation, unit(lattice[i]!));
      const end = { x: origin.x + v[0] * 22, y: origin.y - v[1] * 22 };
      ctx.strokeStyle = ['#c92a2a', '#2b8a3e', '#1864ab'][i]!;
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(origin.x, origin.y);
      ctx.lineTo(end.x, end.y);
      ctx.stroke();
      ctx.fillStyle = ctx.strokeStyle;
      ctx.font = '600 11px system-ui, sans-serif';
      ctx.fillText(name, end.x + (v[0] >= 0 ? 3 : -9), end.y + (v[1] >= 0 ? -3 : 10));
    });
  }, [atoms, centre, corners, extent, fitHalf, hover, lattice, rotation, sites, size, zoom]);

  useEffect(() => {
    const frame = requestAnimationFrame(draw);
    return () => cancelAnimationFrame(frame);
  }, [draw]);

  // Wheel zoom needs a non-passive listener to keep the page from scrolling.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const onWheel = (event: WheelEvent) => {
      event.preventDefault();
      setZoom((z) => Math.min(6, Math.max(0.3, z * Math.exp(-event.deltaY * 0.0015))));
    };
    canvas.addEventListener('wheel', onWheel, { passive: false });
    return () => canvas.removeEventListener('wheel', onWheel);
  }, []);

  const hitTest = (x: number, y: number): Projected | undefined => {
    const list = projectedRef.current;
    for (let i = list.length - 1; i >= 0; i--) {
      const p = list[i]!;
      if ((p.x - x) ** 2 + (p.y - y) ** 2 <= p.r * p.r) return p;
    }
    return undefined;
  };

  const localPoint = (event: React.PointerEvent) => {
    const rect = canvasRef.current!.getBoundingClientRect();
    return { x: event.clientX - rect.left, y: event.clientY - rect.top };
  };

  const onPointerDown = (event: React.PointerEvent) => {
    canvasRef.current?.setPointerCapture(event.pointerId);
    dragRef.current = { x: event.clientX, y: event.clientY, moved: false };
  };
  const onPointerMove = (event: React.PointerEvent) => {
    const drag = dragRef.current;
    if (drag) {
      const dx = event.clientX - drag.x;
      const dy = event.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 2) drag.moved = true;
      if (drag.moved) {
        drag.x = event.clientX;
        drag.y = event.clientY;
        setRotation((r) => compose(compose(rotY(dx * ROTATE_RADIANS_PER_PIXEL), rotX(dy * ROTATE_RADIANS_PER_PIXEL)), r));
        setHover(null);
      }
      return;
    }
    const { x, y } = localPoint(event);
    const hit = hitTest(x, y);
    setHover(hit ? { siteIndex: hit.atom.siteIndex, x, y } : null);
  };
  const onPointerUp = (event: React.PointerEvent) => {
    const drag = dragRef.current;
    dragRef.current = null;
    if (drag && !drag.moved) {
      // A tap (touch screens have no hover) shows the site under the finger.
      const { x, y } = localPoint(event);
      const hit = hitTest(x, y);
      setHover(hit ? { siteIndex: hit.atom.siteIndex, x, y } : null);
    }
  };
  const onKeyDown = (event: React.KeyboardEvent) => {
    const step = 0.15;
    const turns: Record<string, Mat3> = { ArrowLeft: rotY(-step), ArrowRight: rotY(step), ArrowUp: rotX(-step), ArrowDown: rotX(step) };
    const turn = turns[event.key];
    if (turn) {
      event.preventDefault();
      setRotation((r) => compose(turn, r));
    } else if (event.key === '+' || event.key === '=') setZoom((z) => Math.min(6, z * 1.2));
    else if (event.key === '-') setZoom((z) => Math.max(0.3, z / 1.2));
  };

  const elements = useMemo(() => [...new Set(sites.flatMap((site) => site.species.map((s) => s.element)))].sort(), [sites]);
  const partialCount = useMemo(() => sites.filter(isPartial).length, [sites]);
  const hovered = hover ? sites[hover.siteIndex] : undefined;

  return (
    <div className="viewer" ref={containerRef}>
      <div className="viewer-tools" role="toolbar" aria-label="Structure view">
        <span className="muted">View along</span>
        <button type="button" onClick={() => preset(lookAlong(lattice[0], lattice[2]))}>a</button>
        <button type="button" onClick={() => preset(lookAlong(lattice[1], lattice[2]))}>b</button>
        <button type="button" onClick={() => preset(lookAlong(lattice[2], lattice[1]))}>c</button>
        <button type="button" onClick={() => preset(defaultRotation(lattice))}>Reset</button>
        <label className="check">
          <input type="checkbox" checked={withImages} onChange={(e) => setWithImages(e.target.checked)} /> atoms on faces
        </label>
      </div>
      <div className="viewer-stage" style={{ height: size.height }}>
        <canvas
          ref={canvasRef}
          style={{ width: size.width, height: size.height }}
          tabIndex={0}
          role="img"
          aria-label={`Crystal structure: ${sites.length} sites, ${partialCount} partially occupied. Drag or use the arrow keys to rotate, wheel or +/- to zoom.`}
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={onPointerUp}
          onPointerLeave={() => { if (!dragRef.current) setHover(null); }}
          onKeyDown={onKeyDown}
          data-testid="structure-canvas"
        />
        {hovered && hover && (
          <div className="viewer-tip" style={{ left: Math.min(hover.x + 14, size.width - 190), top: Math.max(hover.y - 10, 0) }} role="tooltip">
            <SiteDescription site={hovered} />
          </div>
        )}
      </div>
      <div className="viewer-legend">
        {elements.map((element) => (
          <span key={element} className="legend-item">
            <span className="swatch round" style={{ background: elementColor(element) }} />
            {element}
          </span>
        ))}
        <span className="muted">
          {sites.length} sites{partialCount > 0 ? ` · ${partialCount} partially occupied, drawn as pies (pale slice = vacancy)` : ' · fully ordered'}
        </span>
      </div>
    </div>
  );
}

export function SiteDescription({ site }: { site: Site }) {
  const total = site.species.reduce((sum, s) => sum + s.occupancy, 0);
  return (
    <>
      <strong>{site.label ?? site.species.map((s) => s.element).join('/')}</strong>
      <ul>
        {site.species.map((s) => (
          <li key={s.element}>
            <span className="swatch round" style={{ background: elementColor(s.element) }} /> {s.element} {(s.occupancy * 100).toFixed(1)} %
          </li>
        ))}
        {total < 1 - PARTIAL_OCCUPANCY_EPS && <li className="muted">vacancy {((1 - total) * 100).toFixed(1)} %</li>}
      </ul>
      <span className="muted mono">
        ({site.frac.map((f) => f.toFixed(3)).join(', ')})
      </span>
    </>
  );
}

function drawSite(ctx: CanvasRenderingContext2D, site: Site, x: number, y: number, r: number, highlighted: boolean): void {
  const total = site.species.reduce((sum, s) => sum + s.occupancy, 0);
  const partial = isPartial(site);
  if (!partial) {
    ctx.fillStyle = elementColor(site.species[0]?.element ?? '');
    ctx.beginPath();
    ctx.arc(x, y, r, 0, Math.PI * 2);
    ctx.fill();
  } else {
    // Pie: one slice per species in proportion to its occupancy, then the vacancy.
    let angle = -Math.PI / 2;
    const slices = site.species.map((s) => ({ color: elementColor(s.element), fraction: s.occupancy }));
    if (total < 1 - PARTIAL_OCCUPANCY_EPS) slices.push({ color: 'rgba(255,255,255,0.55)', fraction: 1 - total });
    const sum = slices.reduce((acc, s) => acc + s.fraction, 0) || 1;
    for (const slice of slices) {
      const next = angle + (slice.fraction / sum) * Math.PI * 2;
      ctx.fillStyle = slice.color;
      ctx.beginPath();
      ctx.moveTo(x, y);
      ctx.arc(x, y, r, angle, next);
      ctx.closePath();
      ctx.fill();
      angle = next;
    }
  }
  // Spherical shading: a highlight up-left and a darker rim.
  const shade = ctx.createRadialGradient(x - r * 0.35, y - r * 0.35, r * 0.1, x, y, r);
  shade.addColorStop(0, 'rgba(255,255,255,0.55)');
  shade.addColorStop(0.55, 'rgba(255,255,255,0)');
  shade.addColorStop(1, 'rgba(0,0,0,0.32)');
  ctx.fillStyle = shade;
  ctx.beginPath();
  ctx.arc(x, y, r, 0, Math.PI * 2);
  ctx.fill();
  ctx.lineWidth = highlighted ? 2.5 : 0.8;
  ctx.strokeStyle = highlighted ? '#111' : 'rgba(0,0,0,0.5)';
  ctx.setLineDash(partial && !highlighted ? [3, 2] : []);
  ctx.stroke();
  ctx.setLineDash([]);
}
