import { useState } from "preact/hooks";
import { Link } from "wouter-preact";
import { api } from "../api/client";
import type { Module, Progress, ProgressStatus } from "../api/types";
import { ErrorBanner, Loading, Notice } from "../ui/feedback";
import { useLoad } from "../ui/useload";

const STATUS_TEXT: Record<ProgressStatus, string> = {
  not_started: "Not started",
  in_progress: "In progress",
  completed: "Completed",
};

export function StatusBadge({ module }: { module: Module }) {
  if (module.isLocked) return <span class="badge locked">Locked</span>;
  const status = module.progress?.status ?? "not_started";
  return <span class={`badge ${status}`}>{STATUS_TEXT[status]}</span>;
}

export function ModulePage({ id }: { id: string }) {
  const { value, error, reload, setValue } = useLoad(
    () => api<{ module: Module }>("GET", `/api/workbook/modules/${id}`),
    [id],
  );
  const [actionError, setActionError] = useState<unknown>(null);
  const [started] = useState(() => Date.now());
  const module = value?.module;

  async function report(progressPercent: number) {
    setActionError(null);
    const minutes = Math.min(1440, Math.round((Date.now() - started) / 60000));
    try {
      const { progress } = await api<{ progress: Progress }>("POST", `/api/workbook/progress/${id}`, {
        body: { progressPercent, timeSpentMinutes: minutes },
      });
      if (module) setValue({ module: { ...module, progress } });
    } catch (err) {
      setActionError(err);
    }
  }

  if (error) return <ErrorBanner error={error} onRetry={reload} />;
  if (!module) return <Loading label="Loading the module" />;
  const percent = module.progress?.progressPercent ?? 0;
  return (
    <article>
      <p>
        <Link href="/modules">← All modules</Link>
      </p>
      <h1>{module.title}</h1>
      <p class="meta">
        {module.duration} min · {module.difficulty} · <StatusBadge module={module} />
      </p>
      <p>{module.description}</p>
      <ErrorBanner error={actionError} />
      {module.isLocked ? (
        <Notice>This module is locked: complete its prerequisites first.</Notice>
      ) : (
        <div class="actions" role="group" aria-label="Progress">
          {percent === 0 && (
            <button type="button" class="primary" onClick={() => void report(10)}>
              Start
            </button>
          )}
          {percent > 0 && percent < 100 && (
            <>
              <label for="percent">Progress</label>
              <input
                id="percent"
                type="range"
                min={0}
                max={100}
                step={10}
                value={percent}
                onChange={(e) => void report(Number(e.currentTarget.value))}
              />
              <span>{percent} %</span>
              <button type="button" class="primary" onClick={() => void report(100)}>
                Mark complete
              </button>
            </>
          )}
          {percent === 100 && <span>Completed. Well done.</span>}
        </div>
      )}
      <Section title="Objectives" items={module.content.objectives} />
      <Section title="Materials" items={module.content.materials} />
      {module.content.exercises.length > 0 && (
        <section>
          <h2>Exercises</h2>
          <ol>
            {module.content.exercises.map((ex, i) => (
              <li key={i}>
                <strong>{ex.title}</strong>
                {ex.description && <p>{ex.description}</p>}
              </li>
            ))}
          </ol>
        </section>
      )}
    </article>
  );
}

function Section({ title, items }: { title: string; items: string[] }) {
  if (items.length === 0) return null;
  return (
    <section>
      <h2>{title}</h2>
      <ul>
        {items.map((item, i) => (
          <li key={i}>{item}</li>
        ))}
      </ul>
    </section>
  );
}
