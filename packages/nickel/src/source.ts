import type { Span } from './errors.js';

/** A source file's text with a line table, to turn offsets into line:column positions. */
export class Source {
  private lineStarts: number[] | undefined;

  constructor(
    readonly file: string,
    readonly text: string,
  ) {}

  private lines(): number[] {
    if (!this.lineStarts) {
      const starts = [0];
      for (let i = 0; i < this.text.length; i++) if (this.text.charCodeAt(i) === 10) starts.push(i + 1);
      this.lineStarts = starts;
    }
    return this.lineStarts;
  }

  span(start: number, end: number): Span {
    const lines = this.lines();
    let lo = 0;
    let hi = lines.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lines[mid] as number) <= start) lo = mid;
      else hi = mid - 1;
    }
    return {
      file: this.file,
      line: lo + 1,
      column: start - (lines[lo] as number) + 1,
      offset: start,
      end,
      lineText: this.line(lo + 1),
    };
  }

  /** The text of one line (1-based), for error excerpts. */
  line(n: number): string {
    const lines = this.lines();
    const start = lines[n - 1] ?? this.text.length;
    const end = lines[n] ?? this.text.length + 1;
    return this.text.slice(start, end - 1);
  }
}
