// A chart from uPlot (a small, maintained canvas chart library), sized to its container.
// The numbers it draws are also in a table beside it, for screen readers and for copying.

import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Series {
  label: string;
  values: number[];
  color: string;
  bars?: boolean;
}

export function Chart({ title, x, series, xTime = false }: { title: string; x: number[]; series: Series[]; xTime?: boolean }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (!el || x.length === 0) return;
    const bars = uPlot.paths.bars?.({ size: [0.6, 40] });
    const plot = new uPlot(
      {
        width: el.clientWidth || 600,
        height: 220,
        scales: { x: { time: xTime } },
        axes: [xTime ? {} : { values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? `#${t + 1}` : "")) }, {}],
        series: [
          {},
          ...series.map((s) => ({ label: s.label, stroke: s.color, fill: s.bars ? `${s.color}88` : undefined, paths: s.bars ? bars : undefined })),
        ],
      },
      [x, ...series.map((s) => s.values)],
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height: 220 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [x, series]);
  return <div class="chart" ref={host} role="img" aria-label={title} />;
}
