import { useState } from "preact/hooks";
import { Link, useLocation } from "wouter-preact";
import { api } from "../api/client";
import { saveGuestPass, type GuestPass } from "../session/hub";
import { useSession } from "../session";
import { ErrorBanner, Loading } from "../ui/feedback";
import { Field } from "../ui/form";
import { useLoad } from "../ui/useload";
import type { LiveSession } from "./sessions";

interface InviteView {
  session: LiveSession;
  role: string;
  guests: boolean;
}

/** Where an invite link lands (`/invite#token=...`): join as yourself, or as a guest. */
export function InvitePage() {
  const token = new URLSearchParams(location.hash.slice(1)).get("token") ?? "";
  const session = useSession();
  const [, navigate] = useLocation();
  const [name, setName] = useState("");
  const [error, setError] = useState<unknown>(null);
  const invite = useLoad(
    () => (token ? api<InviteView>("POST", "/api/workbook/invites/lookup", { body: { token } }) : Promise.reject(new Error("This link has no invite token."))),
    [token],
  );

  async function acceptAsMe() {
    try {
      const { sessionId } = await api<{ sessionId: string }>("POST", "/api/workbook/invites/accept", { body: { token } });
      navigate(`/sessions/${sessionId}`);
    } catch (err) {
      setError(err);
    }
  }

  async function joinAsGuest(e: Event) {
    e.preventDefault();
    try {
      const { guest, join } = await api<{ guest: GuestPass; join: { session: { id: string } } }>("POST", "/api/workbook/invites/guest", {
        body: { token, displayName: name },
      });
      saveGuestPass(join.session.id, guest);
      navigate(`/guest/${join.session.id}`);
    } catch (err) {
      setError(err);
    }
  }

  const here = `/invite#token=${encodeURIComponent(token)}`;
  const view = invite.value;
  return (
    <main id="main" class="auth">
      <h1>{view ? `You are invited to ${view.session.title}` : "Invitation"}</h1>
      <ErrorBanner error={invite.error ?? error} />
      {!view && !invite.error && <Loading label="Opening the invitation" />}
      {view && (
        <>
          {view.session.description && <p>{view.session.description}</p>}
          <p class="meta">
            {view.session.status === "live" ? "Live now" : `Starts ${new Date(view.session.scheduledStart).toLocaleString()}`} · you join as{" "}
            {view.role}
          </p>
          {session.status === "signed-in" ? (
            <button type="button" class="primary" onClick={() => void acceptAsMe()}>
              Join as {session.user.name}
            </button>
          ) : (
            <>
              {view.guests && (
                <form onSubmit={joinAsGuest} aria-label="Join as a guest">
                  <Field id="guest-name" name="displayName" label="Your name" error={error}>
                    <input id="guest-name" required maxLength={100} autocomplete="name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
                  </Field>
                  <button type="submit" class="primary">
                    Join as a guest
                  </button>
                </form>
              )}
              <p>
                Have an account? <Link href={`/signin?next=${encodeURIComponent(here)}`}>Sign in</Link> or{" "}
                <Link href={`/signup?next=${encodeURIComponent(here)}`}>create one</Link> to join with it.
              </p>
            </>
          )}
        </>
      )}
    </main>
  );
}
