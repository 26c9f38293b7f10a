import { useState } from "preact/hooks";
import { Link, useLocation, useSearch } from "wouter-preact";
import { signIn, signUp } from "../session";
import { ErrorBanner } from "../ui/feedback";
import { Field } from "../ui/form";

export function SignInPage() {
  return <AuthForm mode="signin" />;
}

export function SignUpPage() {
  return <AuthForm mode="signup" />;
}

function AuthForm({ mode }: { mode: "signin" | "signup" }) {
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [, navigate] = useLocation();
  const next = new URLSearchParams(useSearch()).get("next");
  const signingUp = mode === "signup";

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (signingUp) await signUp(name, email, password);
      else await signIn(email, password);
      navigate(next && next.startsWith("/") && !next.startsWith("//") ? next : "/modules", { replace: true });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" class="auth">
      <h1>{signingUp ? "Create your account" : "Sign in to Workbook"}</h1>
      <ErrorBanner error={error} />
      <form onSubmit={submit}>
        {signingUp && (
          <Field id="name" label="Name" error={error}>
            <input id="name" autocomplete="name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </Field>
        )}
        <Field id="email" label="Email" error={error}>
          <input
            id="email"
            type="email"
            autocomplete="email"
            required
            value={email}
            onInput={(e) => setEmail(e.currentTarget.value)}
          />
        </Field>
        <Field id="password" label="Password" error={error}>
          <input
            id="password"
            type="password"
            autocomplete={signingUp ? "new-password" : "current-password"}
            minLength={signingUp ? 8 : undefined}
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </Field>
        <button type="submit" class="primary" disabled={busy}>
          {signingUp ? "Create account" : "Sign in"}
        </button>
      </form>
      <p>
        {signingUp ? (
          <>
            Have an account? <Link href="/signin">Sign in</Link>
          </>
        ) : (
          <>
            New here? <Link href="/signup">Create an account</Link>
          </>
        )}
      </p>
    </main>
  );
}
