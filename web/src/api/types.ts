// The server's JSON shapes the client uses (the OpenAPI document at /api/openapi.json is the
// full reference).

export type Role = "user" | "premium" | "admin";

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
}

export interface AuthAnswer {
  user: User;
  token: string;
}

export type ProgressStatus = "not_started" | "in_progress" | "completed";

export interface Progress {
  moduleId: string;
  status: ProgressStatus;
  progressPercent: number;
  timeSpentMinutes: number;
  completedAt: string | null;
}

export interface Exercise {
  title: string;
  description?: string;
}

export interface Module {
  id: string;
  title: string;
  description: string;
  order: number;
  duration: number;
  difficulty: string;
  content: { objectives: string[]; materials: string[]; exercises: Exercise[] };
  prerequisites: string[];
  isLocked: boolean;
  progress: Progress | null;
}

export interface ModuleStats {
  moduleId: string;
  title: string;
  learners: number;
  started: number;
  completed: number;
  averagePercent: number;
}

export type Permission = "owner" | "write" | "read";

export interface Note {
  id: string;
  ownerId: string;
  title: string;
  content: string;
  tags: string[];
  folder: string | null;
  moduleId: string | null;
  isPrivate: boolean;
  version: number;
  updatedAt: string;
  permission: Permission;
  snippet?: string;
}

export interface Share {
  userId: string;
  email: string;
  name: string;
  permission: "read" | "write";
}

export interface SearchHit {
  kind: "note" | "module" | "transcript";
  id: string;
  title: string;
  snippet: string;
  recordingId?: string;
  start?: number;
  moment?: { sessionId: string; sessionRecordingId: string; trackId: string; speaker: string; offset: number; mediaUrl: string };
}

export interface Recording {
  id: string;
  title: string;
  format: string;
  fileSize: number;
  durationSecs: number;
  createdAt: string;
}

export interface Job {
  id: string;
  status: "queued" | "running" | "done" | "failed" | "cancelled";
  progress: number;
  error: string | null;
}

export interface Segment {
  startSecs: number;
  endSecs: number;
  text: string;
  speaker: string | null;
}

export interface RecordingDetail {
  recording: Recording;
  transcription: Job | null;
  segments: Segment[] | null;
  text: string | null;
}
