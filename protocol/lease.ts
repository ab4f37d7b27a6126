/**
 * Longest lease a fault may take, ms: 1 hour, for proxy and agent faults alike. Leases are a dead
 * man's switch, meant to be short and renewed while a run lives; a longer one would also pass
 * Node's timer limit (2^31-1 ms, ~24.8 days), past which a timer fires after 1 ms and the fault
 * would revert at once.
 */
export const MAX_LEASE_MS = 3_600_000;
