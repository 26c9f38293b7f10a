import { useState } from "preact/hooks";
import { Link, useLocation } from "wouter-preact";
import { api } from "../api/client";
import { download } from "../api/download";
import { useSession } from "../session";
import { ErrorBanner, Loading } from "../ui/feedback";
import { Field } from "../ui/form";
import { useAction } from "../ui/useaction";
import { useLoad } from "../ui/useload";

export interface LiveSession {
  id: string;
  hostId: string;
  title: string;
  description: string;
  status: "scheduled" | "live" | "ended";
  scheduledStart: string;
}

/** Live and upcoming sessions: join, and for hosts schedule, start and end. */
export function SessionsPage() {
  const session = useSession();
  const user = session.status === "signed-in" ? session.user : null;
  const canHost = user?.role === "premium" || user?.role === "admin";
  const live = useLoad(() => api<{ sessions: LiveSession[] }>("GET", "/api/workbook/sessions?status=live&limit=50"), []);
  const upcoming = useLoad(() => api<{ sessions: LiveSession[] }>("GET", "/api/workbook/sessions?status=upcoming&limit=50"), []);
  const past = useLoad(() => api<{ sessions: LiveSession[] }>("GET", "/api/workbook/sessions?status=past&limit=20"), []);
  const { error, setError, act } = useAction(() => Promise.all([live.reload(), upcoming.reload(), past.reload()]));
  const [, navigate] = useLocation();

  async function schedule(e: Event) {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const when = String(form.get("start") || "");
    await act(() =>
      api("POST", "/api/workbook/sessions", {
        body: {
          title: form.get("title"),
          description: form.get("description") || undefined,
          scheduledStart: when ? new Date(when).toISOString() : new Date().toISOString(),
          settings: { lobby: form.get("lobby") === "on", inviteOnly: form.get("inviteOnly") === "on" },
        },
      }),
    );
  }

  const mine = (s: LiveSession) => user && (s.hostId === user.id || user.role === "admin");
  return (
    <section>
      <h1>Sessions</h1>
      <ErrorBanner error={error ?? live.error ?? upcoming.error} />
      <h2>Live now</h2>
      {!live.value && <Loading label="Loading sessions" />}
      {live.value?.sessions.length === 0 && <p>No session is live.</p>}
      <ul class="cards">
        {live.value?.sessions.map((s) => (
          <li class="card" key={s.id}>
            <h3>{s.title}</h3>
            <p>{s.description}</p>
            <div class="actions">
              <button type="button" class="primary" onClick={() => navigate(`/sessions/${s.id}`)}>
                Join {s.title}
              </button>
              {mine(s) && (
                <button type="button" class="danger" onClick={() => void act(() => api("POST", `/api/workbook/sessions/${s.id}/end`))}>
                  End
                </button>
              )}
            </div>
            {mine(s) && <InviteForm session={s} />}
            <div>
            </div>
          </li>
        ))}
      </ul>
      <h2>Upcoming</h2>
      {upcoming.value?.sessions.length === 0 && <p>Nothing scheduled.</p>}
      <ul class="cards">
        {upcoming.value?.sessions.map((s) => (
          <li class="card" key={s.id}>
            <h3>{s.title}</h3>
            <p class="meta">{new Date(s.scheduledStart).toLocaleString()}</p>
            {mine(s) && (
              <button type="button" class="primary" onClick={() => void act(() => api("POST", `/api/workbook/sessions/${s.id}/start`))}>
                Start {s.title}
              </button>
            )}
            {mine(s) && <InviteForm session={s} />}
          </li>
        ))}
      </ul>
      <h2>Past</h2>
      {past.value?.sessions.length === 0 && <p>No past sessions.</p>}
      <ul class="cards">
        {past.value?.sessions.map((s) => (
          <li class="card" key={s.id}>
            <h3>{s.title}</h3>
            <div class="actions">
              <Link href={`/sessions/${s.id}/recordings`}>Recordings of {s.title}</Link>
              {mine(s) && (
                <button type="button" onClick={() => download(`/api/workbook/sessions/${s.id}/export?format=md`, "minutes.md").catch(setError)}>
                  Minutes of {s.title}
                </button>
              )}
            </div>
          </li>
        ))}
      </ul>
      {canHost && (
        <form class="stack" onSubmit={schedule} aria-labelledby="schedule-heading">
          <h2 id="schedule-heading">Schedule a session</h2>
          <Field id="s-title" name="title" label="Title" error={error}>
            <input id="s-title" name="title" required maxLength={255} />
          </Field>
          <Field id="s-description" name="description" label="Description" error={error}>
            <input id="s-description" name="description" />
          </Field>
          <Field id="s-start" name="scheduledStart" label="Starts (empty: now)" error={error}>
            <input id="s-start" name="start" type="datetime-local" />
          </Field>
          <label class="check">
            <input type="checkbox" name="lobby" /> Participants wait in a lobby until admitted
          </label>
          <label class="check">
            <input type="checkbox" name="inviteOnly" /> Only invited people may join
          </label>
          <button type="submit" class="primary">
            Schedule
          </button>
        </form>
      )}
    </section>
  );
}

/** A host's invite link for one session: the role it grants, guests or not, uses, expiry. */
function InviteForm({ session }: { session: LiveSession }) {
  const [url, setUrl] = useState("");
  const [error, setError] = useState<unknown>(null);
  const id = (name: string) => `invite-${name}-${session.id}`;

  async function create(e: Event) {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const number = (key: string) => (form.get(key) ? Number(form.get(key)) : undefined);
    try {
      const invite = await api<{ url: string }>("POST", `/api/workbook/sessions/${session.id}/invites`, {
        body: {
          role: form.get("role"),
          guests: form.get("guests") === "on",
          maxUses: number("maxUses"),
          expiresInMinutes: number("expiresInMinutes"),
        },
      });
      setUrl(invite.url);
      setError(null);
    } catch (err) {
      setError(err);
    }
  }

  return (
    <details class="invite">
      <summary>Invite people to {session.title}</summary>
      <form class="stack" onSubmit={create}>
        <label for={id("role")}>They join as</label>
        <select id={id("role")} name="role">
          <option value="participant">participant</option>
          <option value="viewer">viewer (watch and chat only)</option>
          <option value="presenter">presenter (may share media)</option>
        </select>
        <label class="check">
          <input type="checkbox" name="guests" defaultChecked /> People without an account may join as guests
        </label>
        <Field id={id("uses")} name="maxUses" label="How many people (empty: no limit)" error={error}>
          <input id={id("uses")} name="maxUses" type="number" min={1} max={10000} />
        </Field>
        <Field id={id("expiry")} name="expiresInMinutes" label="Valid for minutes (empty: until the session ends)" error={error}>
          <input id={id("expiry")} name="expiresInMinutes" type="number" min={1} max={43200} />
        </Field>
        <button type="submit">Create invite link</button>
      </form>
      <ErrorBanner error={error} />
      {url && (
        <p class="inline">
          <label for={id("url")}>Invite link</label>
          <input id={id("url")} class="invite-url" readOnly value={url} onFocus={(e) => e.currentTarget.select()} />
          <button type="button" onClick={() => void navigator.clipboard?.writeText(url)}>
            Copy
          </button>
        </p>
      )}
    </details>
  );
}
