import { useState } from "preact/hooks";
import type { Poll } from "./state";
import type { Room } from "./useroom";

/** Polls: hosts draft, open, close and publish; everyone votes; results live for hosts. */
export function PollsPanel({ room }: { room: Room }) {
  const polls = room.state!.polls;
  const manage = room.capabilities.has("create_polls");
  return (
    <section aria-label="Polls" class="panel">
      {manage && <NewPoll room={room} />}
      {polls.length === 0 && <p class="meta">No polls yet.</p>}
      <ol class="polls">
        {polls.map((poll) => (
          <li key={poll.poll} class="card">
            <PollCard room={room} poll={poll} manage={manage} />
          </li>
        ))}
      </ol>
    </section>
  );
}

function NewPoll({ room }: { room: Room }) {
  const [question, setQuestion] = useState("");
  const [options, setOptions] = useState("");
  async function create(e: Event) {
    e.preventDefault();
    const list = options
      .split("\n")
      .map((o) => o.trim())
      .filter(Boolean);
    const created = await room.send({ type: "poll.create", question, options: list, multiple: false, anonymous: false });
    if (!created) return;
    await room.send({ type: "poll.open", poll: created.poll });
    setQuestion("");
    setOptions("");
  }
  return (
    <form class="stack" onSubmit={create} aria-label="New poll">
      <label for="poll-question">Question</label>
      <input id="poll-question" required maxLength={500} value={question} onInput={(e) => setQuestion(e.currentTarget.value)} />
      <label for="poll-options">Options, one per line (2 to 10)</label>
      <textarea id="poll-options" required rows={3} value={options} onInput={(e) => setOptions(e.currentTarget.value)} />
      <button type="submit">Open poll</button>
    </form>
  );
}

function PollCard({ room, poll, manage }: { room: Room; poll: Poll; manage: boolean }) {
  const [choice, setChoice] = useState<number | null>(poll.your_choices?.[0] ?? null);
  const open = poll.status === "open";
  const showTally = poll.tally && (manage || poll.published);
  return (
    <>
      <h3>{poll.question}</h3>
      <p class="meta">
        {poll.status}
        {poll.published && " · results published"}
      </p>
      {open && room.capabilities.has("vote") ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (choice !== null) void room.vote(poll.poll, [choice]);
          }}
        >
          <fieldset>
            <legend class="visually-hidden">{poll.question}</legend>
            {poll.options.map((option, i) => (
              <label key={i} class="check">
                <input type="radio" name={`poll-${poll.poll}`} checked={choice === i} onChange={() => setChoice(i)} /> {option}
              </label>
            ))}
          </fieldset>
          <button type="submit" disabled={choice === null}>
            {poll.your_choices ? "Change vote" : "Vote"}
          </button>
          {poll.your_choices && <span class="meta"> You voted: {poll.options[poll.your_choices[0]]}</span>}
        </form>
      ) : null}
      {showTally && (
        <ul class="tally" aria-label="Results">
          {poll.options.map((option, i) => {
            const count = poll.tally!.counts[i] ?? 0;
            const share = poll.tally!.ballots ? Math.round((100 * count) / poll.tally!.ballots) : 0;
            return (
              <li key={i}>
                <span>{option}</span>
                <meter min={0} max={100} value={share} aria-label={`${option}: ${count} votes`} />
                <span class="count">{count}</span>
              </li>
            );
          })}
        </ul>
      )}
      {manage && (
        <div class="actions">
          {open && (
            <button type="button" onClick={() => void room.send({ type: "poll.close", poll: poll.poll })}>
              Close
            </button>
          )}
          {poll.status === "closed" && !poll.published && (
            <button type="button" onClick={() => void room.send({ type: "poll.publish", poll: poll.poll })}>
              Publish results
            </button>
          )}
        </div>
      )}
    </>
  );
}
