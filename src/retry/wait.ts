/** A retry's wait that a stop can cut short. */
export interface Wait {
  /** Resolves when the time is up or wake() was called. */
  readonly done: Promise<void>;
  /** Ends the wait now (idempotent). */
  wake(): void;
}

export function wait(ms: number): Wait {
  let wake = (): void => {};
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    wake = (): void => {
      clearTimeout(timer);
      resolve();
    };
  });
  return { done, wake };
}
