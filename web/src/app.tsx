// The page frame and the routes. Each page is one file in `pages/`; the note editor loads on
// demand (CodeMirror and Yjs are most of the client's weight).

import { lazy, Suspense } from "preact/compat";
import { Link, Redirect, Route, Switch, useLocation } from "wouter-preact";
import { signOut, useSession } from "./session";
import { SignInPage, SignUpPage } from "./pages/signin";
import { ResetPasswordPage } from "./pages/reset";
import { ModulesPage } from "./pages/modules";
import { ModulePage } from "./pages/module";
import { NotesPage } from "./pages/notes";
import { AudioPage } from "./pages/audio";
import { RecordingPage } from "./pages/recording";
import { SearchPage } from "./pages/search";
import { SessionsPage } from "./pages/sessions";
import { RecordingsPage } from "./pages/recordings";
import { InvitePage } from "./pages/invite";
import { guestJoin, guestPass } from "./session/hub";
import { SearchBox } from "./ui/searchbox";
import { Loading } from "./ui/feedback";

const NotePage = lazy(() => import("./pages/note").then((m) => m.NotePage));
const RoomPage = lazy(() => import("./pages/room").then((m) => m.RoomPage));
const DashboardPage = lazy(() => import("./pages/dashboard").then((m) => m.DashboardPage));

export function App() {
  const session = useSession();
  const [location] = useLocation();
  if (session.status === "loading") return <Loading label="Starting" />;
  if (location.startsWith("/reset-password")) return <ResetPasswordPage />;
  if (location === "/invite") return <InvitePage />;
  const guestRoom = /^\/guest\/([0-9a-f-]{36})$/.exec(location);
  if (guestRoom) return <GuestRoom sessionId={guestRoom[1]} />;
  if (session.status === "signed-out") {
    return (
      <Switch>
        <Route path="/signup" component={SignUpPage} />
        <Route path="/signin" component={SignInPage} />
        <Route>
          <Redirect to={`/signin?next=${encodeURIComponent(location)}`} replace />
        </Route>
      </Switch>
    );
  }
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <Link href="/modules" class="brand">
          Workbook
        </Link>
        <nav aria-label="Main">
          <NavLink href="/modules">Modules</NavLink>
          <NavLink href="/sessions">Sessions</NavLink>
          <NavLink href="/notes">Notes</NavLink>
          <NavLink href="/audio">Audio</NavLink>
          {session.user.role !== "user" && <NavLink href="/dashboard">Dashboard</NavLink>}
        </nav>
        <SearchBox />
        <span class="who" title={session.user.email}>
          {session.user.name}
        </span>
        <button type="button" class="link" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<Loading label="Loading" />}>
          <Switch>
            <Route path="/modules" component={ModulesPage} />
            <Route path="/modules/:id">{(p) => <ModulePage id={p.id} />}</Route>
            <Route path="/sessions" component={SessionsPage} />
            <Route path="/sessions/:id">{(p) => <RoomPage id={p.id} />}</Route>
            <Route path="/sessions/:id/recordings">{(p) => <RecordingsPage id={p.id} />}</Route>
            <Route path="/notes" component={NotesPage} />
            <Route path="/notes/:id">{(p) => <NotePage id={p.id} user={session.user} />}</Route>
            <Route path="/audio" component={AudioPage} />
            <Route path="/audio/:id">{(p) => <RecordingPage id={p.id} />}</Route>
            <Route path="/search" component={SearchPage} />
            <Route path="/dashboard" component={DashboardPage} />
            <Route path="/">
              <Redirect to="/modules" replace />
            </Route>
            <Route path="/signin">
              <Redirect to="/modules" replace />
            </Route>
            <Route path="/signup">
              <Redirect to="/modules" replace />
            </Route>
            <Route>
              <section>
                <h1>Not found</h1>
                <p>
                  There is no page here. <Link href="/modules">Go to the modules</Link>.
                </p>
              </section>
            </Route>
          </Switch>
        </Suspense>
      </main>
    </>
  );
}

/** A guest's room: no account, the pass from the invite page, nothing but the session. */
function GuestRoom({ sessionId }: { sessionId: string }) {
  const pass = guestPass(sessionId);
  return (
    <main id="main">
      <Suspense fallback={<Loading label="Joining the session" />}>
        {pass ? (
          <RoomPage id={sessionId} join={guestJoin(sessionId, pass)} />
        ) : (
          <p>This tab has no guest pass for the session: open the invite link again.</p>
        )}
      </Suspense>
    </main>
  );
}

function NavLink({ href, children }: { href: string; children: string }) {
  const [location] = useLocation();
  const current = location === href || location.startsWith(`${href}/`);
  return (
    <Link href={href} aria-current={current ? "page" : undefined}>
      {children}
    </Link>
  );
}
