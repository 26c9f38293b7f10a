import { Link, useSearch } from "wouter-preact";
import { api, query } from "../api/client";
import type { SearchHit } from "../api/types";
import { ErrorBanner, Loading } from "../ui/feedback";
import { useLoad } from "../ui/useload";

const KIND: Record<SearchHit["kind"], string> = { note: "Note", module: "Module", transcript: "Transcript" };

/** Search across my notes, modules and transcripts, best first, matches highlighted. */
export function SearchPage() {
  const q = new URLSearchParams(useSearch()).get("q") ?? "";
  const { value, error, reload } = useLoad(
    () => (q ? api<{ hits: SearchHit[] }>("GET", `/api/workbook/search${query({ q })}`) : Promise.resolve({ hits: [] })),
    [q],
  );
  return (
    <section>
      <h1>Search: {q}</h1>
      <ErrorBanner error={error} onRetry={reload} />
      {!value && !error && <Loading label="Searching" />}
      {value && (
        <p role="status">
          {value.hits.length} {value.hits.length === 1 ? "result" : "results"}
        </p>
      )}
      <ol class="cards">
        {value?.hits.map((hit) => (
          <li class="card" key={`${hit.kind}-${hit.id}-${hit.start ?? ""}`}>
            <span class="badge">{KIND[hit.kind]}</span>{" "}
            <Link href={hrefOf(hit)}>{hit.title}</Link>
            <p class="snippet" dangerouslySetInnerHTML={{ __html: hit.snippet }} />
          </li>
        ))}
      </ol>
    </section>
  );
}

function hrefOf(hit: SearchHit): string {
  switch (hit.kind) {
    case "note":
      return `/notes/${hit.id}`;
    case "module":
      return `/modules/${hit.id}`;
    case "transcript":
      if (hit.moment) {
        const m = hit.moment;
        return `/sessions/${m.sessionId}/recordings${query({ recording: m.sessionRecordingId, track: m.trackId, t: m.offset.toFixed(1) })}`;
      }
      return `/audio/${hit.recordingId ?? hit.id}${query({ t: hit.start?.toFixed(1) })}`;
  }
}
