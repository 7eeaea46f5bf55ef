/**
 * Counts a byte pattern in a stream that arrives in arbitrary chunks (TLS records cut anywhere),
 * without keeping the stream: the floor's only "parsing" (floor.ts).
 */
/** Counts occurrences of `pattern` in a stream of chunks, including those split across two chunks. */
export class PatternCounter {
  private tail = Buffer.alloc(0);
  count = 0;

  constructor(private readonly pattern: Buffer) {}

  feed(chunk: Buffer): void {
    const keep = this.pattern.length - 1;
    if (this.tail.length > 0) {
      // Only matches that start in the tail and end in the chunk: the tail is shorter than the pattern.
      const seam = Buffer.concat([this.tail, chunk.subarray(0, keep)]);
      for (let at = seam.indexOf(this.pattern); at >= 0; at = seam.indexOf(this.pattern, at + 1)) this.count += 1;
    }
    for (let at = chunk.indexOf(this.pattern); at >= 0; at = chunk.indexOf(this.pattern, at + 1)) this.count += 1;
    // The last bytes seen, across chunks: TLS may deliver the end of a response a few bytes at a time.
    const recent = chunk.length >= keep ? chunk : Buffer.concat([this.tail, chunk]);
    this.tail = Buffer.from(recent.subarray(Math.max(0, recent.length - keep)));
  }
}
