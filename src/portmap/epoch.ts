// Has the gateway lost its mappings? Both protocols stamp every response with the seconds since
// the server's mapping state began; a reboot (or a table flush) restarts that count. A client
// compares each new value with the last one and its own clock's progress, and re-maps at once
// when they disagree (RFC 6887 §8.5, RFC 6886 §3.6). Pure: times in, verdict out.

export interface EpochSample {
  /** the server's epoch value, seconds */
  serverS: number
  /** our monotonic clock when it arrived, ms */
  clientMs: number
}

/**
 * RFC 6887 §8.5: invalid (state lost) when the server time went back by more than 1 s, or when
 * the two clocks advanced by amounts that differ by more than 2 s plus 1/16 of either.
 */
export function pcpEpochLost (prev: EpochSample, curr: EpochSample): boolean {
  if (curr.serverS < prev.serverS - 1) return true
  const clientDelta = (curr.clientMs - prev.clientMs) / 1000
  const serverDelta = curr.serverS - prev.serverS
  return clientDelta + 2 < serverDelta - serverDelta / 16 || serverDelta + 2 < clientDelta - clientDelta / 16
}

/**
 * RFC 6886 §3.6: the server's count should have grown by at least 7/8 of our elapsed time; if it
 * is more than 2 s below that conservative estimate, the gateway rebooted.
 */
export function natPmpEpochLost (prev: EpochSample, curr: EpochSample): boolean {
  const elapsedS = (curr.clientMs - prev.clientMs) / 1000
  const expected = prev.serverS + elapsedS * 7 / 8
  return curr.serverS < expected - 2
}
