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
          <table>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Session</th>
                <th scope="col">Attendance</th>
                <th scope="col">Chat</th>
                <th scope="col">Votes</th>
                <th scope="col">Questions</th>
                <th scope="col">Hands</th>
              </tr>
            </thead>
            <tbody>
              {value.map((v, i) => (
                <tr key={i}>
                  <td>{i + 1}</td>
                  <th scope="row">{v.title}</th>
                  <td>{v.attendance}</td>
                  <td>{v.chat}</td>
                  <td>{v.votes}</td>
                  <td>{v.questions}</td>
                  <td>{v.hands}</td>
                </tr>
              ))}
            </tbody>
          </table>
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
        <table>
          <thead>
            <tr>
              <th scope="col">Module</th>
              <th scope="col">Learners</th>
              <th scope="col">Started</th>
              <th scope="col">Completed</th>
              <th scope="col">Average</th>
            </tr>
          </thead>
          <tbody>
            {stats.value.modules.map((m) => (
              <tr key={m.moduleId}>
                <th scope="row">{m.title}</th>
                <td>{m.learners}</td>
                <td>{m.started}</td>
                <td>{m.completed}</td>
                <td>{Math.round(m.averagePercent)} %</td>
              </tr>
            ))}
          </tbody>
        </table>
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
        <table>
          <thead>
            <tr>
              <th scope="col">Learner</th>
              <th scope="col">Completed</th>
              <th scope="col">In progress</th>
              <th scope="col">Minutes</th>
              <th scope="col">Last active</th>
            </tr>
          </thead>
          <tbody>
            {value.learners.map((l) => (
              <tr key={l.userId}>
                <th scope="row">
                  {l.name} <span class="meta">{l.email}</span>
                </th>
                <td>{l.completed}</td>
                <td>{l.inProgress}</td>
                <td>{l.timeSpentMinutes}</td>
                <td>{l.lastAccessedAt ? new Date(l.lastAccessedAt).toLocaleString() : "never"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
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
