/** Polls `check` until it returns a truthy value (returned) or `timeout` ms pass (throws, naming `what`). */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeout = 5000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeout;
  for (let i = 0; ; i++) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, Math.min(5 + i, 25)));
  }
}

/** Resolves with the first event `name` of `emitter` (a client), rejecting after `timeout` ms. */
export function nextEvent<T>(on: (handler: (arg: T) => void) => () => void, what: string, timeout = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`Timed out after ${timeout} ms waiting for ${what}`));
    }, timeout);
    const off = on((arg) => {
      clearTimeout(timer);
      off();
      resolve(arg);
    });
  });
}
