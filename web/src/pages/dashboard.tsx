import type { ComponentChildren } from "preact";
import { lazy, Suspense } from "preact/compat";
import { api } from "../api/client";
import type { ModuleStats } from "../api/types";
import { useSession } from "../session";
import { ErrorBanner, Loading } from "../ui/feedback";
import { useLoad } from "../ui/useload";
import type { LiveSession } from "./sessions";

// uPlot loads only when a dashboard opens.
const Chart = lazy(() => import("../dashboard/chart").then((m) => m.Chart));

interface Attendance {
  participants: {
    name: string;
    total_seconds: number;
    engagement: { chat_messages: number; votes: number; questions: number; hands: number };
  }[];
}

interface Learner {
  userId: string;
  name: string;
  email: string;
  completed: number;
  inProgress: number;
  timeSpentMinutes: number;
  lastAccessedAt: string | null;
}

interface Health {
  status: string;
  checks: Record<string, { status: string; message?: string }>;
}

/** Engagement per session (hosts), module completion and the server's health (admins). */
export function DashboardPage() {
  const session = useSession();
  const admin = session.status === "signed-in" && session.user.role === "admin";
  return (
    <section>
      <h1>Dashboard</h1>
      <Suspense fallback={<Loading label="Loading charts" />}>
        <Engagement />
        {admin && <Completion />}
        {admin && <Learners />}
        {admin && <ServerHealth />}
      </Suspense>
    </section>
  );
}

/** My last sessions: who came and what they did (from each session's attendance report). */
function Engagement() {
  const { value, error } = useLoad(async () => {
    const [live, past] = await Promise.all(
      ["live", "past"].map((status) => api<{ sessions: LiveSession[] }>("GET", `/api/workbook/sessions?status=${status}&mine=true&limit=10`)),
    );
    const sessions = [...past.sessions.reverse(), ...live.sessions].slice(-10);
    const reports = await Promise.all(sessions.map((s) => api<Attendance>("GET", `/api/workbook/sessions/${s.id}/attendance`)));
    return sessions.map((s, i) => {
      const people = reports[i].participants;
      const sum = (key: keyof Attendance["participants"][0]["engagement"]) => people.reduce((n, p) => n + p.engagement[key], 0);
      return { title: s.title, attendance: people.length, chat: sum("chat_messages"), votes: sum("votes"), questions: sum("questions"), hands: sum("hands") };
    });
  }, []);
  return (
    <section aria-labelledby="engagement-heading">
      <h2 id="engagement-heading">Engagement in my sessions</h2>
      <ErrorBanner error={error} />
      {!value && !error && <Loading label="Loading sessions" />}
      {value?.length === 0 && <p>No sessions yet.</p>}
      {value && value.length > 0 && (
        <>
          <Chart
            title="Attendance and activity per session"
            x={value.map((_, i) => i)}
            series={[
              { label: "Attendance", values: value.map((v) => v.attendance), color: "#1f4e79", bars: true },
              { label: "Chat messages", values: value.map((v) => v.chat), color: "#a4410e" },
              { label: "Votes", values: value.map((v) => v.votes), color: "#2b7a0b" },
              { label: "Questions", values: value.map((v) => v.questions), color: "#6a4c93" },
            ]}
          />
          <Figures
            head={["#", "Session", "Attendance", "Chat", "Votes", "Questions", "Hands"]}
            rowHeader={1}
            rows={value.map((v, i) => ({
              key: String(i),
              cells: [i + 1, v.title, v.attendance, v.chat, v.votes, v.questions, v.hands],
            }))}
          />
        </>
      )}
    </section>
  );
}

function Completion() {
  const history = useLoad(() => api<{ days: { date: string; completed: number }[] }>("GET", "/api/workbook/progress/completions?days=30"), []);
  const stats = useLoad(() => api<{ modules: ModuleStats[] }>("GET", "/api/workbook/progress/stats"), []);
  const days = history.value?.days ?? [];
  let total = 0;
  const cumulative = days.map((d) => (total += d.completed));
  return (
    <section aria-labelledby="completion-heading">
      <h2 id="completion-heading">Module completion, last 30 days</h2>
      <ErrorBanner error={history.error ?? stats.error} />
      {days.length > 0 && (
        <Chart
          title={`Modules completed over the last 30 days: ${total} in all`}
          xTime
          x={days.map((d) => Date.parse(d.date) / 1000)}
          series={[
            { label: "Completed that day", values: days.map((d) => d.completed), color: "#2b7a0b", bars: true },
            { label: "Completed in all", values: cumulative, color: "#1f4e79" },
          ]}
        />
      )}
      {stats.value && (
        <Figures
          head={["Module", "Learners", "Started", "Completed", "Average"]}
          rows={stats.value.modules.map((m) => ({
            key: m.moduleId,
            cells: [m.title, m.learners, m.started, m.completed, `${Math.round(m.averagePercent)} %`],
          }))}
        />
      )}
    </section>
  );
}

function Learners() {
  const { value, error } = useLoad(() => api<{ learners: Learner[] }>("GET", "/api/workbook/progress/learners?limit=100"), []);
  return (
    <section aria-labelledby="learners-heading">
      <h2 id="learners-heading">Each learner</h2>
      <ErrorBanner error={error} />
      {value && (
        <Figures
          head={["Learner", "Completed", "In progress", "Minutes", "Last active"]}
          rows={value.learners.map((l) => ({
            key: l.userId,
            cells: [
              <>
                {l.name} <span class="meta">{l.email}</span>
              </>,
              l.completed,
              l.inProgress,
              l.timeSpentMinutes,
              l.lastAccessedAt ? new Date(l.lastAccessedAt).toLocaleString() : "never",
            ],
          }))}
        />
      )}
    </section>
  );
}

/** A table of figures; the cell at `rowHeader` names its row (for screen readers). */
function Figures(props: { head: string[]; rows: { key: string; cells: ComponentChildren[] }[]; rowHeader?: number }) {
  const header = props.rowHeader ?? 0;
  return (
    <table>
      <thead>
        <tr>
          {props.head.map((name) => (
            <th scope="col" key={name}>
              {name}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((row) => (
          <tr key={row.key}>
            {row.cells.map((cell, i) =>
              i === header ? (
                <th scope="row" key={i}>
                  {cell}
                </th>
              ) : (
                <td key={i}>{cell}</td>
              ),
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ServerHealth() {
  const { value, error, reload } = useLoad(() => fetch("/api/health").then((r) => r.json() as Promise<Health>), []);
  return (
    <section aria-labelledby="health-heading">
      <h2 id="health-heading">Server health</h2>
      <ErrorBanner error={error} onRetry={reload} />
      {value && (
        <>
          <p>
            Status: <strong class={`health ${value.status}`}>{value.status}</strong>{" "}
            <button type="button" onClick={() => void reload()}>
              Check again
            </button>
          </p>
          <ul>
            {Object.entries(value.checks).map(([name, check]) => (
              <li key={name}>
                {name}: {check.status}
                {check.message && ` (${check.message})`}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
