// A session room as this participant sees it, rebuilt from the hub's snapshot and events
// (docs/HUB_PROTOCOL.md). Plain functions over plain data: `apply` is the only way the state
// changes, so the view is a function of what the server said.

export type MediaFlags = { mic: boolean; camera: boolean; screen: boolean };
export type SessionRole = "host" | "cohost" | "presenter" | "participant" | "viewer";

export interface Person {
  participant: string;
  name: string;
  role: SessionRole;
  media: MediaFlags;
}

export interface ChatMessage {
  message: string;
  from: string;
  to?: string;
  text: string;
  at: string;
  edited: boolean;
  deleted: boolean;
  reactions: Record<string, string[]>;
}

export interface Poll {
  poll: string;
  question: string;
  options: string[];
  multiple: boolean;
  max_choices: number;
  anonymous: boolean;
  status: "draft" | "open" | "closed";
  published: boolean;
  your_choices: number[] | null;
  tally?: { counts: number[]; ballots: number };
}

export interface Question {
  question: string;
  author?: string;
  text: string;
  status: "visible" | "answered" | "dismissed";
  answer?: string;
  pinned: boolean;
  votes: number;
  upvoted: boolean;
}

export interface Recording {
  since: string;
  paused: boolean;
  notice?: string;
}

export interface RoomState {
  seq: number;
  people: Record<string, Person>;
  lobby: { participant: string; name: string }[];
  locked: boolean;
  chatLocked: boolean;
  chat: ChatMessage[];
  polls: Poll[];
  questions: Question[];
  hands: string[];
  recording: Recording | null;
  ended: boolean;
}

export interface Snapshot {
  seq: number;
  participants: Person[];
  lobby: { participant: string; info?: { name: string }; name?: string }[];
  locked: boolean;
  chat: { locked: boolean; messages: ChatMessage[] };
  polls: Poll[];
  questions: Question[];
  hands: { participant: string }[];
  recording: Recording | null;
  ended: string | null;
}

/** A durable hub event: `kind` plus the fields the protocol lists for it. */
export type HubEvent = { kind: string } & Record<string, any>;

const CHAT_KEPT = 200;

export function fromSnapshot(s: Snapshot): RoomState {
  return {
    seq: s.seq,
    people: Object.fromEntries(s.participants.map((p) => [p.participant, p])),
    lobby: s.lobby.map((l) => ({ participant: l.participant, name: l.info?.name ?? l.name ?? "" })),
    locked: s.locked,
    chatLocked: s.chat.locked,
    chat: s.chat.messages,
    polls: s.polls,
    questions: s.questions,
    hands: s.hands.map((h) => h.participant),
    recording: s.recording,
    ended: s.ended !== null,
  };
}

/** The state after one event (a new object; unchanged parts are shared). */
export function apply(state: RoomState, seq: number, at: string, e: HubEvent): RoomState {
  const next = { ...state, seq };
  const p = e.participant as string;
  switch (e.kind) {
    case "participant.joined": {
      const info = e.info;
      const media = state.people[info.participant]?.media ?? { mic: false, camera: false, screen: false };
      next.people = { ...state.people, [info.participant]: { participant: info.participant, name: info.name, role: info.role, media } };
      next.lobby = state.lobby.filter((l) => l.participant !== info.participant);
      break;
    }
    case "participant.left":
    case "mod.removed": {
      const { [p]: _gone, ...rest } = state.people;
      next.people = rest;
      next.hands = state.hands.filter((h) => h !== p);
      break;
    }
    case "media.changed":
      next.people = withPerson(state, p, (person) => ({ ...person, media: { mic: e.mic, camera: e.camera, screen: e.screen } }));
      break;
    case "role.changed":
      next.people = withPerson(state, p, (person) => ({ ...person, role: e.role }));
      break;
    case "chat.posted":
      next.chat = [
        ...state.chat,
        { message: e.message, from: e.from, to: e.to, text: e.text, at, edited: false, deleted: false, reactions: {} },
      ].slice(-CHAT_KEPT);
      break;
    case "chat.edited":
      next.chat = state.chat.map((m) => (m.message === e.message ? { ...m, text: e.text, edited: true } : m));
      break;
    case "chat.deleted":
      next.chat = state.chat.map((m) => (m.message === e.message ? { ...m, text: "", deleted: true } : m));
      break;
    case "chat.reacted":
      next.chat = state.chat.map((m) => (m.message === e.message ? { ...m, reactions: react(m.reactions, e) } : m));
      break;
    case "chat.locked":
      next.chatLocked = e.locked;
      break;
    case "session.locked":
      next.locked = e.locked;
      break;
    case "poll.created":
      next.polls = upsertPoll(state.polls, { ...(e as unknown as Poll), status: "draft", published: false, your_choices: null });
      break;
    case "poll.opened":
      next.polls = upsertPoll(state.polls, { ...e.definition, your_choices: findPoll(state, e.poll)?.your_choices ?? null });
      break;
    case "poll.voted":
      next.polls = state.polls.map((poll) => (poll.poll === e.poll ? { ...poll, tally: e.tally } : poll));
      break;
    case "poll.closed":
      next.polls = state.polls.map((poll) => (poll.poll === e.poll ? { ...poll, status: "closed" } : poll));
      break;
    case "poll.published":
      next.polls = upsertPoll(state.polls, {
        ...e.definition,
        published: true,
        tally: e.tally,
        your_choices: findPoll(state, e.poll)?.your_choices ?? null,
      });
      break;
    case "qa.asked":
      next.questions = [
        ...state.questions,
        { question: e.question, author: e.author, text: e.text, status: "visible", pinned: false, votes: 0, upvoted: false },
      ];
      break;
    case "qa.upvoted":
      next.questions = withQuestion(state, e.question, (q) => ({ ...q, votes: e.votes }));
      break;
    case "qa.answered":
      next.questions = withQuestion(state, e.question, (q) => ({ ...q, status: "answered", answer: e.text ?? q.answer }));
      break;
    case "qa.dismissed":
      next.questions = withQuestion(state, e.question, (q) => ({ ...q, status: "dismissed" }));
      break;
    case "qa.pinned":
      next.questions = withQuestion(state, e.question, (q) => ({ ...q, pinned: e.pinned }));
      break;
    case "hand.raised":
    case "hand.lowered":
    case "hand.lowered_all":
      next.hands = e.queue ?? [];
      break;
    case "lobby.knocked":
      next.lobby = [...state.lobby.filter((l) => l.participant !== p), { participant: p, name: e.info?.name ?? "" }];
      break;
    case "lobby.admitted":
    case "lobby.denied":
    case "lobby.left":
      next.lobby = state.lobby.filter((l) => l.participant !== p);
      break;
    case "recording.started":
      next.recording = { since: at, paused: false, notice: e.notice };
      break;
    case "recording.paused":
    case "recording.resumed":
      next.recording = state.recording && { ...state.recording, paused: e.kind === "recording.paused" };
      break;
    case "recording.stopped":
      next.recording = null;
      break;
    case "session.ended":
      next.ended = true;
      break;
  }
  return next;
}

/** The caller's own vote, remembered from the `ack` (other people's ballots are not sent). */
export function withMyVote(state: RoomState, poll: string, choices: number[]): RoomState {
  return { ...state, polls: state.polls.map((p) => (p.poll === poll ? { ...p, your_choices: choices } : p)) };
}

/** The caller's own upvote toggled, remembered locally (who upvoted is never broadcast). */
export function withMyUpvote(state: RoomState, question: string): RoomState {
  return { ...state, questions: withQuestion(state, question, (q) => ({ ...q, upvoted: !q.upvoted })) };
}

function withPerson(state: RoomState, id: string, change: (p: Person) => Person) {
  const person = state.people[id];
  return person ? { ...state.people, [id]: change(person) } : state.people;
}

function withQuestion(state: RoomState, id: string, change: (q: Question) => Question) {
  return state.questions.map((q) => (q.question === id ? change(q) : q));
}

function findPoll(state: RoomState, id: string) {
  return state.polls.find((p) => p.poll === id);
}

function upsertPoll(polls: Poll[], poll: Poll): Poll[] {
  return polls.some((p) => p.poll === poll.poll) ? polls.map((p) => (p.poll === poll.poll ? { ...p, ...poll } : p)) : [...polls, poll];
}

function react(reactions: Record<string, string[]>, e: HubEvent): Record<string, string[]> {
  const emoji: string = e.emoji;
  const who = new Set(reactions[emoji] ?? []);
  if (e.on) who.add(e.participant);
  else who.delete(e.participant);
  const next: Record<string, string[]> = { ...reactions, [emoji]: [...who] };
  if (who.size === 0) delete next[emoji];
  return next;
}
