import type { ComponentChildren } from "preact";
import { ApiError } from "../api/client";

/** A labelled input whose error, when the server named this field, sits under it. */
export function Field(props: {
  id: string;
  label: string;
  error?: unknown;
  name?: string;
  children: ComponentChildren;
}) {
  const message = props.error instanceof ApiError ? props.error.field(props.name ?? props.id) : undefined;
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.children}
      {message && (
        <span class="field-error" id={`${props.id}-error`}>
          {message}
        </span>
      )}
    </div>
  );
}
