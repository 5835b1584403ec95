/**
 * Aho-Corasick multi-pattern matching over bytes, compiled to a full DFA so scanning costs one table
 * lookup per input byte whatever the number of patterns. Bytes that occur in no pattern share one
 * column (byte classes), which keeps the table small: states × (distinct pattern bytes + 1).
 */
export class AhoCorasick {
  private readonly byteClass = new Uint8Array(256);
  private readonly width: number;
  private readonly fastTable: Int32Array;
  /** Pattern ids ending at each state (own and inherited through failure links); null when none. */
  private readonly outputs: Array<number[] | null>;
  readonly patternLengths: number[];

  constructor(patterns: Uint8Array[]) {
    let classes = 1;
    for (const p of patterns) {
      if (p.length === 0) throw new Error('empty pattern');
      for (const b of p) if (this.byteClass[b] === 0) this.byteClass[b] = classes++;
    }
    if (classes > 256) throw new Error('too many byte classes'); // cannot happen: 255 byte values + 1
    this.width = classes;
    this.patternLengths = patterns.map((p) => p.length);

    // 1. Trie (goto function); -1 = no edge yet.
    const goto: Int32Array[] = [new Int32Array(classes).fill(-1)];
    const outputs: Array<number[] | null> = [null];
    patterns.forEach((pattern, id) => {
      let state = 0;
      for (const b of pattern) {
        const c = this.byteClass[b]!;
        let next = goto[state]![c]!;
        if (next === -1) {
          next = goto.length;
          goto.push(new Int32Array(classes).fill(-1));
          outputs.push(null);
          goto[state]![c] = next;
        }
        state = next;
      }
      (outputs[state] ??= []).push(id);
    });

    // 2. Breadth-first: failure links folded into a complete transition table, outputs merged.
    const n = goto.length;
    const table = new Int32Array(n * classes);
    const fail = new Int32Array(n);
    const queue: number[] = [];
    for (let c = 0; c < classes; c++) {
      const next = goto[0]![c]!;
      if (next === -1) table[c] = 0;
      else {
        table[c] = next;
        fail[next] = 0;
        queue.push(next);
      }
    }
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head]!;
      const f = fail[state]!;
      const inherited = outputs[f];
      if (inherited) outputs[state] = [...(outputs[state] ?? []), ...inherited];
      for (let c = 0; c < classes; c++) {
        const next = goto[state]![c]!;
        if (next === -1) table[state * classes + c] = table[f * classes + c]!;
        else {
          table[state * classes + c] = next;
          fail[next] = table[f * classes + c]!;
          queue.push(next);
        }
      }
    }
    this.outputs = outputs;
    // Entries hold the next state's row offset (no multiply per byte), negated when it accepts.
    const fast = new Int32Array(n * classes);
    for (let i = 0; i < fast.length; i++) {
      const next = table[i]!;
      fast[i] = outputs[next] ? -(next * classes) : next * classes;
    }
    this.fastTable = fast;
  }

  get stateCount(): number {
    return this.outputs.length;
  }

  /**
   * Calls `onMatch(patternId, start)` for every occurrence (overlapping ones included), in order of
   * their end offset.
   */
  scan(data: Uint8Array, onMatch: (patternId: number, start: number) => void): void {
    const { fastTable, byteClass, width } = this;
    const len = data.length;
    let state = 0;
    for (let i = 0; i < len; i++) {
      state = fastTable[state + byteClass[data[i]!]!]!;
      if (state < 0) {
        // Accepting states are stored negated so the hot loop needs no second lookup.
        state = -state;
        for (const id of this.outputs[state / width]!) onMatch(id, i + 1 - this.patternLengths[id]!);
      }
    }
  }

  /** True when any pattern occurs (stops at the first). */
  test(data: Uint8Array): boolean {
    const { fastTable, byteClass } = this;
    const len = data.length;
    let state = 0;
    for (let i = 0; i < len; i++) {
      state = fastTable[state + byteClass[data[i]!]!]!;
      if (state < 0) return true;
    }
    return false;
  }
}
