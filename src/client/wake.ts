/**
 * Browser hook: calls `wake` when the page comes back online or becomes visible (a laptop waking up, a tab
 * brought back). Returns the function that removes both listeners; does nothing outside a browser.
 */
export function watchPage(wake: () => void): (() => void) | undefined {
  if (typeof window === 'undefined' || typeof window.addEventListener !== 'function') return undefined;
  const doc = typeof document === 'undefined' ? undefined : document;
  const onChange = (): void => {
    if (doc?.visibilityState !== 'hidden') wake();
  };
  window.addEventListener('online', onChange);
  doc?.addEventListener('visibilitychange', onChange);
  return () => {
    window.removeEventListener('online', onChange);
    doc?.removeEventListener('visibilitychange', onChange);
  };
}
