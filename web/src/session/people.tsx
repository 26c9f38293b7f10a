import type { Person } from "./state";
import type { Room } from "./useroom";

const RANK = ["viewer", "participant", "presenter", "cohost", "host"];

/** Who is here, the hand queue, the lobby, and the host's controls over each person. */
export function PeoplePanel({ room }: { room: Room }) {
  const state = room.state!;
  const admin = room.capabilities.has("admin_room");
  const myRole = state.people[room.me]?.role ?? "participant";
  const position = state.hands.indexOf(room.me) + 1;
  const people = Object.values(state.people).sort((a, b) => RANK.indexOf(b.role) - RANK.indexOf(a.role) || a.name.localeCompare(b.name));
  const below = (p: Person) => p.participant !== room.me && RANK.indexOf(p.role) < RANK.indexOf(myRole);
  const mod = (type: string, fields: Record<string, unknown>) => void room.send({ type, ...fields });

  return (
    <section aria-label="People" class="panel">
      {room.capabilities.has("raise_hand") && (
        <div class="actions">
          {position > 0 ? (
            <>
              <span role="status" class="hand-position">
                Your hand is raised: position {position} of {state.hands.length}
              </span>
              <button type="button" onClick={() => mod("hand.lower", {})}>
                Lower hand
              </button>
            </>
          ) : (
            <button type="button" onClick={() => mod("hand.raise", {})}>
              Raise hand
            </button>
          )}
        </div>
      )}
      {state.hands.length > 0 && (
        <section aria-labelledby="hands-heading">
          <h3 id="hands-heading">Raised hands</h3>
          <ol class="hands">
            {state.hands.map((id, i) => (
              <li key={id}>
                {i + 1}. {state.people[id]?.name ?? "Someone"}
                {admin && (
                  <button type="button" onClick={() => mod("hand.lower", { participant: id })}>
                    Lower
                  </button>
                )}
              </li>
            ))}
          </ol>
          {admin && (
            <button type="button" onClick={() => mod("hand.lower_all", {})}>
              Lower all hands
            </button>
          )}
        </section>
      )}
      {admin && state.lobby.length > 0 && (
        <section aria-labelledby="lobby-heading">
          <h3 id="lobby-heading">Waiting in the lobby</h3>
          <ul>
            {state.lobby.map((l) => (
              <li key={l.participant}>
                {l.name}{" "}
                <button type="button" onClick={() => mod("lobby.admit", { participant: l.participant })}>
                  Admit
                </button>
                <button type="button" onClick={() => mod("lobby.deny", { participant: l.participant })}>
                  Deny
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      <h3>In the session ({people.length})</h3>
      <ul class="people-list">
        {people.map((p) => (
          <li key={p.participant} data-participant={p.participant}>
            <span>
              {p.name}
              {p.participant === room.me && " (you)"} <span class="badge">{p.role}</span>{" "}
              <span class="meta">
                {[p.media.mic && "mic", p.media.camera && "camera", p.media.screen && "screen"].filter(Boolean).join(" · ")}
              </span>
            </span>
            {admin && below(p) && (
              <span class="actions">
                {p.media.mic && (
                  <button type="button" onClick={() => mod("mod.mute_request", { participant: p.participant, media: "audio" })}>
                    Mute {p.name}
                  </button>
                )}
                <label class="visually-hidden" for={`role-${p.participant}`}>
                  Role of {p.name}
                </label>
                <select
                  id={`role-${p.participant}`}
                  value={p.role}
                  onChange={(e) => mod("mod.set_role", { participant: p.participant, role: e.currentTarget.value })}
                >
                  {RANK.slice(0, RANK.indexOf(myRole)).map((role) => (
                    <option key={role} value={role}>
                      {role}
                    </option>
                  ))}
                </select>
                <button type="button" onClick={() => mod("mod.remove", { participant: p.participant, ban: false })}>
                  Remove
                </button>
                <button type="button" class="danger" onClick={() => mod("mod.remove", { participant: p.participant, ban: true })}>
                  Ban
                </button>
              </span>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
