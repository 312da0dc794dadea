import { useEffect, useRef, useState } from 'preact/hooks';
import { setKeyPrompt } from './api.js';
import { formFields } from './ui.js';

/**
 * Asked only when the API answers 401 (function keys, no Entra sign-in in front). The key is kept in
 * sessionStorage: this tab only, gone when it closes, never in a URL or a cookie.
 */
export function KeyDialog() {
  const dialog = useRef<HTMLDialogElement>(null);
  const [request, setRequest] = useState<{ rejected: boolean; resolve: (key: string | null) => void } | null>(null);
  useEffect(() => {
    setKeyPrompt((rejected) => new Promise((resolve) => setRequest({ rejected, resolve })));
  }, []);
  useEffect(() => {
    if (request && dialog.current && !dialog.current.open) dialog.current.showModal();
  }, [request]);

  function finish(key: string | null) {
    request?.resolve(key);
    setRequest(null);
    dialog.current?.close();
  }

  return (
    <dialog ref={dialog} class="key-dialog" aria-labelledby="key-title" onCancel={() => finish(null)}>
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          const key = formFields(e).key ?? '';
          finish(key || null);
        }}
      >
        <h2 id="key-title">Function key needed</h2>
        {request?.rejected && <p class="error">That key was not accepted. Try another.</p>}
        <p>
          This app is protected by function keys. Enter a function key (or a host key); it is kept for this browser tab only and sent with
          each call as a header.
        </p>
        <label class="field">
          <span>Function key</span>
          <input name="key" type="password" autoComplete="off" required autoFocus />
        </label>
        <div class="buttons">
          <button type="submit">Use this key</button>
          <button type="button" onClick={() => finish(null)}>
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}
