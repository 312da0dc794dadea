import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from './api.js';

/** Small pieces every view uses: status lines, errors as sentences, and data loading. */
export function ErrorBox({ error }: { error: unknown }) {
  const text = error instanceof Error ? error.message : String(error);
  const hint =
    error instanceof ApiError && error.status === 403
      ? 'Your roles do not allow this (see the Access section of the README).'
      : error instanceof ApiError && error.status === 401
        ? 'Sign in, or enter a function key when asked.'
        : null;
  return (
    <div class="error" role="alert">
      <p>{text}</p>
      {hint && <p>{hint}</p>}
      {error instanceof ApiError && Array.isArray(error.problem?.acceptedForms) && (
        <ul>
          {(error.problem.acceptedForms as unknown[]).map((f) => (
            <li key={String(f)}>{String(f)}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="loading" role="status">
      Loading {what}…
    </p>
  );
}

export type Loaded<T> = { state: 'idle' } | { state: 'loading' } | { state: 'done'; value: T } | { state: 'error'; error: unknown };

/** Runs `load` whenever `deps` change; a newer load cancels an older one. */
export function useLoad<T>(load: ((signal: AbortSignal) => Promise<T>) | null, deps: unknown[]): Loaded<T> {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'idle' });
  useEffect(() => {
    if (!load) {
      setLoaded({ state: 'idle' });
      return;
    }
    const controller = new AbortController();
    setLoaded({ state: 'loading' });
    load(controller.signal).then(
      (value) => !controller.signal.aborted && setLoaded({ state: 'done', value }),
      (error: unknown) => !controller.signal.aborted && setLoaded({ state: 'error', error }),
    );
    return () => controller.abort();
  }, deps);
  return loaded;
}

/** A submitted form's text fields, trimmed. */
export function formFields(event: Event): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [k, v] of new FormData(event.currentTarget as HTMLFormElement)) if (typeof v === 'string') fields[k] = v.trim();
  return fields;
}

export function Field({ label, children, hint }: { label: string; children: ComponentChildren; hint?: string }) {
  return (
    <label class="field">
      <span>{label}</span>
      {children}
      {hint && <small class="muted">{hint}</small>}
    </label>
  );
}

/** "credit-default:3" style summary of a partial answer's bounds. */
export function Bounds({ partial, reason, hidden }: { partial: boolean; reason?: string; hidden?: number }) {
  return (
    <>
      {partial && (
        <p class="note" role="status">
          Partial answer{reason ? ` (${reason === 'node-budget' ? 'node budget reached' : 'time budget reached'})` : ''}.
        </p>
      )}
      {hidden !== undefined && hidden > 0 && (
        <p class="note" role="status">
          {hidden} node{hidden === 1 ? '' : 's'} hidden: they belong to workspaces your roles do not cover.
        </p>
      )}
    </>
  );
}
