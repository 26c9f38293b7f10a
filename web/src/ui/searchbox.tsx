import { useState } from "preact/hooks";
import { useLocation } from "wouter-preact";

/** The header's search field: opens the search page for notes, modules and transcripts. */
export function SearchBox() {
  const [, navigate] = useLocation();
  const [q, setQ] = useState("");
  return (
    <form
      role="search"
      class="searchbox"
      onSubmit={(e) => {
        e.preventDefault();
        if (q.trim()) navigate(`/search?q=${encodeURIComponent(q.trim())}`);
      }}
    >
      <label for="global-search" class="visually-hidden">
        Search notes, modules and transcripts
      </label>
      <input
        id="global-search"
        type="search"
        placeholder="Search"
        value={q}
        onInput={(e) => setQ(e.currentTarget.value)}
      />
    </form>
  );
}
