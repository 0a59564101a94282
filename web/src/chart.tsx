// A uPlot time-series chart that follows its container's width and takes new
// data without being rebuilt (live metrics redraw every poll).
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";

export interface Series {
  label: string;
  values: Array<number | null>;
}

/** Seconds since epoch → "14:03:27" (the live window is minutes long). */
const clock = (s: number) => new Date(s * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
/** Seconds since epoch → "Dec 6" at midnight, else "14:00" (for windows of days). */
const dayHour = (s: number) => {
  const d = new Date(s * 1000);
  return d.getHours() === 0 && d.getMinutes() === 0 ? d.toLocaleDateString([], { month: "short", day: "numeric" }) : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false });
};

const COLORS = ["#3b6fd8", "#d8553b", "#2f9e64", "#a35bd6", "#c79a12", "#1c9fb3", "#d63b8f", "#6b7280"];

/** `times` in ms; `span`: "live" labels the axis with clock times, "days" with dates and hours. */
export function TimeChart(props: { title: string; times: number[]; series: Series[]; unit?: string; height?: number; span?: "live" | "days" }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = props.series.map((s) => s.label).join("|");
  const height = props.height ?? 170;
  const label = props.span === "days" ? dayHour : clock;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const fmt = (v: number | null) => (v === null ? "–" : `${Number(v.toPrecision(3))}${props.unit ? ` ${props.unit}` : ""}`);
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
      axes: [{ stroke: "currentColor", space: props.span === "days" ? 90 : 70, grid: { stroke: "rgba(128,128,128,.15)" }, values: (_u, vals) => vals.map((v) => label(v)) }, { stroke: "currentColor", size: 56, grid: { stroke: "rgba(128,128,128,.15)" }, values: (_u, vals) => vals.map((v) => fmt(v).replace(` ${props.unit ?? ""}`, "")) }],
      series: [{}, ...props.series.map((s, i) => ({ label: s.label, stroke: COLORS[i % COLORS.length]!, width: 1.5, spanGaps: false, value: (_u: uPlot, v: number | null) => fmt(v) }))],
    };
    const u = new uPlot(opts, [props.times.map((t) => t / 1000), ...props.series.map((s) => s.values)] as uPlot.AlignedData, el);
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [shape, height, props.unit, props.span]);

  useEffect(() => {
    plot.current?.setData([props.times.map((t) => t / 1000), ...props.series.map((s) => s.values)] as uPlot.AlignedData);
  }, [props.times, props.series]);

  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <div ref={box} class="chart-box" style={{ minHeight: `${height + 30}px` }} role="img" aria-label={`${props.title} chart`} />
    </figure>
  );
}
