// How every page shows waiting, failure and success: one banner per error, announced to
// screen readers, with the server's own message.

import { describe } from "../api/client";

export function Loading({ label }: { label: string }) {
  return (
    <p class="loading" role="status">
      {label}…
    </p>
  );
}

export function ErrorBanner({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (!error) return null;
  return (
    <div class="banner error" role="alert">
      <span>{describe(error)}</span>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function Notice({ children }: { children: preact.ComponentChildren }) {
  return (
    <div class="banner info" role="status">
      {children}
    </div>
  );
}

export function ProgressBar({ value, label }: { value: number; label: string }) {
  const percent = Math.round(Math.max(0, Math.min(1, value)) * 100);
  return (
    <div class="progress">
      <progress max={100} value={percent} aria-label={label} />
      <span>{percent} %</span>
    </div>
  );
}
