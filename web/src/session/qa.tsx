import { useState } from "preact/hooks";
import type { Room } from "./useroom";

/** Questions: ask (optionally anonymously), upvote; moderators answer, pin and dismiss. */
export function QaPanel({ room }: { room: Room }) {
  const state = room.state!;
  const [text, setText] = useState("");
  const [anonymous, setAnonymous] = useState(false);
  const moderate = room.capabilities.has("moderate_qa");
  const questions = [...state.questions]
    .filter((q) => q.status !== "dismissed" || moderate)
    .sort((a, b) => Number(b.pinned) - Number(a.pinned) || b.votes - a.votes);

  async function ask(e: Event) {
    e.preventDefault();
    if (await room.send({ type: "qa.ask", text, anonymous })) setText("");
  }

  return (
    <section aria-label="Questions" class="panel">
      {room.capabilities.has("ask") && (
        <form class="stack" onSubmit={ask}>
          <label for="qa-text">Your question</label>
          <input id="qa-text" required maxLength={1000} value={text} onInput={(e) => setText(e.currentTarget.value)} />
          <label class="check">
            <input type="checkbox" checked={anonymous} onChange={(e) => setAnonymous(e.currentTarget.checked)} /> Ask anonymously
          </label>
          <button type="submit">Ask</button>
        </form>
      )}
      {questions.length === 0 && <p class="meta">No questions yet.</p>}
      <ol class="questions">
        {questions.map((q) => (
          <li key={q.question} class={`card${q.pinned ? " pinned" : ""}`}>
            <p>
              {q.pinned && <strong>Pinned · </strong>}
              {q.text}
            </p>
            <p class="meta">
              {q.author ? (state.people[q.author]?.name ?? "Someone") : "Anonymous"} · {q.status}
              {q.answer && ` · Answer: ${q.answer}`}
            </p>
            <div class="actions">
              <button
                type="button"
                aria-pressed={q.upvoted}
                aria-label={`Upvote (${q.votes})`}
                onClick={() => void room.upvote(q.question)}
              >
                ▲ <span class="votes">{q.votes}</span>
              </button>
              {moderate && q.status === "visible" && (
                <button type="button" onClick={() => void room.send({ type: "qa.answer", question: q.question })}>
                  Mark answered
                </button>
              )}
              {moderate && (
                <button type="button" onClick={() => void room.send({ type: "qa.pin", question: q.question, pinned: !q.pinned })}>
                  {q.pinned ? "Unpin" : "Pin"}
                </button>
              )}
              {moderate && q.status !== "dismissed" && (
                <button type="button" onClick={() => void room.send({ type: "qa.dismiss", question: q.question })}>
                  Dismiss
                </button>
              )}
            </div>
          </li>
        ))}
      </ol>
    </section>
  );
}
