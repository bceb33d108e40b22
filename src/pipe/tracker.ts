/**
 * Tells a sender when zmq-ts no longer holds a message's buffers (pyzmq's
 * MessageTracker): every queue that takes the message holds a reference, released
 * when the bytes were handed to the kernel (tcp, ipc), read by the receiving socket
 * (inproc), or dropped. The sender holds one more until send() has finished routing.
 */
export class MessageTracker {
  private refs = 1;
  private resolveDone!: () => void;
  /** Resolves when the buffers may be reused. */
  readonly done: Promise<void> = new Promise((resolve) => (this.resolveDone = resolve));

  /** True once the buffers are out of our hands. */
  get isDone(): boolean {
    return this.refs === 0;
  }

  /** @internal */
  hold(): void {
    this.refs++;
  }

  /** @internal */
  release(): void {
    if (this.refs > 0 && --this.refs === 0) this.resolveDone();
  }
}
