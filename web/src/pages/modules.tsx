import { Link } from "wouter-preact";
import { api } from "../api/client";
import type { Module, ModuleStats } from "../api/types";
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
      {admin && <LearnerProgress />}
    </section>
  );
}

/** Admins: how far learners are in each module. */
function LearnerProgress() {
  const { value, error } = useLoad(() => api<{ modules: ModuleStats[] }>("GET", "/api/workbook/progress/stats"), []);
  return (
    <section aria-labelledby="learners-heading">
      <h2 id="learners-heading">Learners' progress</h2>
      <ErrorBanner error={error} />
      {value && (
        <table>
          <thead>
            <tr>
              <th scope="col">Module</th>
              <th scope="col">Started</th>
              <th scope="col">Completed</th>
              <th scope="col">Average</th>
            </tr>
          </thead>
          <tbody>
            {value.modules.map((s) => (
              <tr key={s.moduleId}>
                <th scope="row">{s.title}</th>
                <td>{s.started}</td>
                <td>{s.completed}</td>
                <td>{Math.round(s.averagePercent)} %</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
