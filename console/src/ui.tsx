import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api';

/** The API's code and message (and request id), or what went wrong before an answer. */
export function ErrorAlert({ error }: { error: unknown }) {
  if (!error) return null;
  const e = error instanceof ApiError ? error : new ApiError('Error', error instanceof Error ? error.message : String(error));
  return (
    <div class="alert alert-danger" role="alert" data-testid="error">
      <strong class="me-2 error-code">{e.code}</strong>
      <span class="error-message">{e.message}</span>
      {e.requestId && <div class="small text-body-secondary mt-1">RequestId {e.requestId}</div>}
    </div>
  );
}

/** A call's state: `run` keeps its result, or its error for ErrorAlert. */
export function useCall<T>() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<T | null>(null);
  const run = async (fn: () => Promise<T>): Promise<T | null> => {
    setBusy(true);
    setError(null);
    try {
      const r = await fn();
      setResult(r);
      return r;
    } catch (e) {
      setError(e);
      return null;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, result, run, setResult, setError };
}

export function Spinner({ label = 'Loading' }: { label?: string }) {
  return (
    <div class="d-flex align-items-center gap-2 my-3" role="status">
      <span class="spinner-border spinner-border-sm" aria-hidden="true" />
      <span>{label}…</span>
    </div>
  );
}

export function PageTitle({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  // Keyboard and screen-reader users land on the new page's title.
  useEffect(() => ref.current?.focus(), []);
  return (
    <h1 class="h3 mb-3 page-title" tabIndex={-1} ref={ref}>
      {children}
    </h1>
  );
}

export const fmtTime = (unixSeconds: number | null | undefined): string => (unixSeconds ? new Date(unixSeconds * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : '—');

export const STATE_BADGE: Record<string, string> = {
  Enabled: 'text-bg-success',
  Disabled: 'text-bg-secondary',
  PendingDelete: 'text-bg-danger',
  PendingImport: 'text-bg-warning',
  Archived: 'text-bg-dark',
};

export function StateBadge({ state }: { state: string }) {
  return <span class={`badge ${STATE_BADGE[state] ?? 'text-bg-light'}`}>{state}</span>;
}

interface ConfirmRequest {
  title: string;
  body: ComponentChildren;
  confirmLabel: string;
  resolve: (ok: boolean) => void;
}

let openConfirm: ((r: ConfirmRequest) => void) | null = null;

/** Asks before a destructive action; resolves true only on the confirm button. */
export function confirmAction(title: string, body: ComponentChildren, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => (openConfirm ? openConfirm({ title, body, confirmLabel, resolve }) : resolve(false)));
}

/** The one confirmation dialog (a modal <dialog>: focus stays in it, Escape cancels). */
export function ConfirmHost() {
  const [req, setReq] = useState<ConfirmRequest | null>(null);
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    openConfirm = setReq;
    return () => void (openConfirm = null);
  }, []);
  useEffect(() => {
    if (req && !ref.current?.open) ref.current?.showModal();
  }, [req]);
  const close = (ok: boolean) => {
    ref.current?.close();
    req?.resolve(ok);
    setReq(null);
  };
  return (
    <dialog ref={ref} class="confirm-dialog" aria-labelledby="confirm-title" onCancel={() => close(false)}>
      {req && (
        <div>
          <h2 id="confirm-title" class="h5">
            {req.title}
          </h2>
          <div class="mb-3">{req.body}</div>
          <div class="d-flex justify-content-end gap-2">
            <button type="button" class="btn btn-outline-secondary" onClick={() => close(false)} autoFocus>
              Cancel
            </button>
            <button type="button" class="btn btn-danger" data-testid="confirm" onClick={() => close(true)}>
              {req.confirmLabel}
            </button>
          </div>
        </div>
      )}
    </dialog>
  );
}

/** A read-only value with a copy button. */
export function CopyField({ label, value, id, rows = 3 }: { label: string; value: string; id: string; rows?: number }) {
  const [copied, setCopied] = useState(false);
  return (
    <div class="mb-3">
      <label class="form-label" for={id}>
        {label}
      </label>
      <textarea class="form-control font-monospace" id={id} rows={rows} readOnly value={value} />
      <button
        type="button"
        class="btn btn-sm btn-outline-secondary mt-1"
        onClick={async () => {
          await navigator.clipboard?.writeText(value).catch(() => undefined);
          setCopied(true);
        }}
      >
        {copied ? 'Copied' : 'Copy'}
      </button>
    </div>
  );
}

/** Where a page sits: links to the pages above it, then its own name. */
export function Breadcrumb({ trail, here }: { trail: Array<[string, string]>; here: string }) {
  return (
    <nav aria-label="breadcrumb">
      <ol class="breadcrumb">
        {trail.map(([href, label]) => (
          <li class="breadcrumb-item" key={href}>
            <a href={href}>{label}</a>
          </li>
        ))}
        <li class="breadcrumb-item active" aria-current="page">
          {here}
        </li>
      </ol>
    </nav>
  );
}
