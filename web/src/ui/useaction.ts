import { useState } from "preact/hooks";

/**
 * A change a page makes, then the data it shows reloaded: `act(change)` runs the change,
 * keeps its failure in `error` for the page's banner (cleared by the next success), and
 * calls `reload` after a success.
 */
export function useAction(reload: () => Promise<unknown>) {
  const [error, setError] = useState<unknown>(null);
  async function act(change: () => Promise<unknown>) {
    try {
      await change();
      setError(null);
      await reload();
    } catch (err) {
      setError(err);
    }
  }
  return { error, setError, act };
}
