/**
 * Work an active fault keeps running inside the agent process (a kill interval). It dies with the
 * process, so a crash leaves none of it behind; revert stops it.
 */
export class BackgroundTasks {
  private readonly stops = new Map<string, () => void>();

  /** Registers how to stop the work of `faultId`; a second add for the same id stops the first. */
  add(faultId: string, stop: () => void): void {
    this.stop(faultId);
    this.stops.set(faultId, stop);
  }

  /** Stops the work of `faultId`; true when there was some. */
  stop(faultId: string): boolean {
    const stop = this.stops.get(faultId);
    if (!stop) return false;
    this.stops.delete(faultId);
    stop();
    return true;
  }

  stopAll(): void {
    for (const id of [...this.stops.keys()]) this.stop(id);
  }
}
