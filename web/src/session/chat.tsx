import { useEffect, useRef, useState } from "preact/hooks";
import type { Room } from "./useroom";

const REACTIONS = ["👍", "🎉", "❓"];

/** Public chat and direct messages, reactions, and who is typing. */
export function ChatPanel({ room }: { room: Room }) {
  const state = room.state!;
  const [text, setText] = useState("");
  const [to, setTo] = useState("");
  const lastTyping = useRef(0);
  const list = useRef<HTMLOListElement>(null);
  const nameOf = (id: string) => (id === room.me ? "You" : (state.people[id]?.name ?? "Someone"));
  const typing = Object.entries(room.typing)
    .filter(([id, at]) => id !== room.me && Date.now() - at < 4000)
    .map(([id]) => nameOf(id));

  useEffect(() => {
    list.current?.lastElementChild?.scrollIntoView({ block: "nearest" });
  }, [state.chat.length]);

  async function send(e: Event) {
    e.preventDefault();
    if (!text.trim()) return;
    if (await room.send({ type: "chat.send", text, ...(to ? { to } : {}) })) setText("");
  }

  function onInput(value: string) {
    setText(value);
    // The hub throttles typing to one every 2 s; sending more would only be refused.
    if (Date.now() - lastTyping.current > 2000) {
      lastTyping.current = Date.now();
      void room.send({ type: "chat.typing", ...(to ? { to } : {}) });
    }
  }

  const canChat = room.capabilities.has("chat") && (!state.chatLocked || room.capabilities.has("moderate_chat"));
  return (
    <section aria-label="Chat" class="panel">
      <ol class="chat" ref={list} aria-live="polite">
        {state.chat.map((m) => (
          <li key={m.message} class={m.to ? "dm" : undefined}>
            <strong>{nameOf(m.from)}</strong>
            {m.to && <span class="meta"> to {nameOf(m.to)} (private)</span>}: {m.deleted ? <em>deleted</em> : m.text}
            {m.edited && !m.deleted && <span class="meta"> (edited)</span>}
            <span class="reactions">
              {REACTIONS.map((emoji) => {
                const who = m.reactions[emoji] ?? [];
                const mine = who.includes(room.me);
                return (
                  <button
                    type="button"
                    key={emoji}
                    class="reaction"
                    aria-pressed={mine}
                    aria-label={`React ${emoji} (${who.length})`}
                    onClick={() => void room.send({ type: "chat.react", message: m.message, emoji, on: !mine })}
                  >
                    {emoji}
                    {who.length > 0 && ` ${who.length}`}
                  </button>
                );
              })}
            </span>
          </li>
        ))}
      </ol>
      <p class="meta typing" aria-live="polite">
        {typing.length > 0 && `${typing.join(", ")} ${typing.length === 1 ? "is" : "are"} typing…`}
      </p>
      {state.chatLocked && <p class="meta">The host has locked the chat.</p>}
      {canChat && (
        <form class="inline" onSubmit={send}>
          <label for="chat-to" class="visually-hidden">
            Send to
          </label>
          <select id="chat-to" value={to} onChange={(e) => setTo(e.currentTarget.value)}>
            <option value="">Everyone</option>
            {room.capabilities.has("direct_message") &&
              Object.values(state.people)
                .filter((p) => p.participant !== room.me)
                .map((p) => (
                  <option key={p.participant} value={p.participant}>
                    {p.name} (private)
                  </option>
                ))}
          </select>
          <label for="chat-text" class="visually-hidden">
            Message
          </label>
          <input id="chat-text" maxLength={2000} value={text} onInput={(e) => onInput(e.currentTarget.value)} placeholder="Message" />
          <button type="submit">Send</button>
        </form>
      )}
    </section>
  );
}
