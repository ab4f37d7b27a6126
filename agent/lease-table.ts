/**
 * One lease timer per active fault. `arm` starts it, `renew` pushes the expiry out, and when a
 * lease runs out `onExpire` is called once with the fault id (the agent then reverts on its own).
 */
export class LeaseTable {
  private readonly leases = new Map<string, { expiresAt: number; timer: NodeJS.Timeout }>();
  private readonly onExpire: (faultId: string) => void;

  constructor(onExpire: (faultId: string) => void) {
    this.onExpire = onExpire;
  }

  /** Starts (or restarts) the lease of `faultId`, `leaseMs` from now; returns the expiry (epoch ms). */
  arm(faultId: string, leaseMs: number): number {
    this.clear(faultId);
    const expiresAt = Date.now() + leaseMs;
    const timer = setTimeout(() => {
      this.leases.delete(faultId);
      this.onExpire(faultId);
    }, leaseMs);
    this.leases.set(faultId, { expiresAt, timer });
    return expiresAt;
  }

  /** Re-arms a live lease; undefined when there is none (expired, reverted, never applied). */
  renew(faultId: string, leaseMs: number): number | undefined {
    return this.leases.has(faultId) ? this.arm(faultId, leaseMs) : undefined;
  }

  has(faultId: string): boolean {
    return this.leases.has(faultId);
  }

  expiresAt(faultId: string): number | undefined {
    return this.leases.get(faultId)?.expiresAt;
  }

  clear(faultId: string): void {
    const lease = this.leases.get(faultId);
    if (lease) clearTimeout(lease.timer);
    this.leases.delete(faultId);
  }

  clearAll(): void {
    for (const id of [...this.leases.keys()]) this.clear(id);
  }
}
