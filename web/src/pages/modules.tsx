import { Link } from "wouter-preact";
import { api } from "../api/client";
import type { Module } from "../api/types";
import { useSession } from "../session";
import { ErrorBanner, Loading } from "../ui/feedback";
import { useLoad } from "../ui/useload";
import { StatusBadge } from "./module";

export function ModulesPage() {
  const { value, error, reload } = useLoad(
    () => api<{ modules: Module[] }>("GET", "/api/workbook/modules?limit=100"),
    [],
  );
  const session = useSession();
  const admin = session.status === "signed-in" && session.user.role === "admin";
  const modules = value?.modules;
  const byId = new Map(modules?.map((m) => [m.id, m]));
  return (
    <section>
      <h1>Modules</h1>
      <ErrorBanner error={error} onRetry={reload} />
      {!modules && !error && <Loading label="Loading modules" />}
      {modules?.length === 0 && <p>No modules yet.</p>}
      <ol class="cards" aria-label="Modules in workshop order">
        {modules?.map((m) => (
          <li class={`card${m.isLocked ? " locked" : ""}`} key={m.id}>
            <h2>
              <Link href={`/modules/${m.id}`}>{m.title}</Link>
            </h2>
            <p class="meta">
              {m.duration} min · {m.difficulty} · <StatusBadge module={m} />
            </p>
            <p>{m.description}</p>
            {m.isLocked && (
              <p class="prereq">
                Locked until you complete:{" "}
                {m.prerequisites.map((id) => byId.get(id)?.title ?? "another module").join(", ")}
              </p>
            )}
            {m.progress && !m.isLocked && (
              <progress max={100} value={m.progress.progressPercent} aria-label={`${m.title} progress`} />
            )}
          </li>
        ))}
      </ol>
      {admin && (
        <p>
          How learners are doing: <Link href="/dashboard">the dashboard</Link>.
        </p>
      )}
    </section>
  );
}
