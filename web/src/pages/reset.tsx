import { useState } from "preact/hooks";
import { Link } from "wouter-preact";
import { api } from "../api/client";
import { ErrorBanner, Notice } from "../ui/feedback";
import { Field } from "../ui/form";

/** The page an admin's reset link opens: `/reset-password#token=...` (the token stays out of logs). */
export function ResetPasswordPage() {
  const token = new URLSearchParams(location.hash.slice(1)).get("token") ?? "";
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    try {
      await api("POST", "/api/workbook/auth/password-reset", { body: { token, newPassword: password } });
      setDone(true);
    } catch (err) {
      setError(err);
    }
  }

  return (
    <main id="main" class="auth">
      <h1>Choose a new password</h1>
      {done ? (
        <Notice>
          Your password is changed. <Link href="/signin">Sign in</Link>
        </Notice>
      ) : (
        <>
          <ErrorBanner error={token ? error : new Error("This link has no reset token; ask for a new one.")} />
          <form onSubmit={submit}>
            <Field id="newPassword" label="New password (8 to 128 characters)" error={error}>
              <input
                id="newPassword"
                type="password"
                autocomplete="new-password"
                minLength={8}
                required
                value={password}
                onInput={(e) => setPassword(e.currentTarget.value)}
              />
            </Field>
            <button type="submit" class="primary" disabled={!token}>
              Set password
            </button>
          </form>
        </>
      )}
    </main>
  );
}
