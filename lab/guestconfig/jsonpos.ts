/**
 * Where things are in a JSON text, so the node-config lint can name a line and column: each
 * member's key and each array element, by its path. A small scanner for text JSON.parse accepted.
 */
export type JsonPath = Array<string | number>;
export interface JsonAt {
  line: number;
  column: number;
}

/** "storage.files[0].path": how a path is named in messages. */
export function showPath(path: JsonPath): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${p}` : p)).join('');
}

/** Line and column (1-based) of an offset. */
export function offsetAt(text: string, offset: number): JsonAt {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

/** Where JSON.parse failed: its "position N" (V8's message), else the end of the text. */
export function jsonErrorAt(text: string, err: Error): JsonAt {
  const pos = err.message.match(/position (\d+)/)?.[1];
  return offsetAt(text, pos === undefined ? text.trimEnd().length : Number(pos));
}

/**
 * The position of every key (for a member) and every element (for an array item) in a valid
 * JSON text, keyed by its path joined with "\0". Duplicate keys: the last one, as JSON.parse keeps.
 */
export class JsonPositions {
  private at = new Map<string, number>();
  private i = 0;

  constructor(private readonly text: string) {
    this.value([]);
  }

  /** The position of the key at path, else of the nearest enclosing one, else 1:1. */
  of(path: JsonPath): JsonAt {
    for (let n = path.length; n > 0; n--) {
      const off = this.at.get(path.slice(0, n).join('\0'));
      if (off !== undefined) return offsetAt(this.text, off);
    }
    return { line: 1, column: 1 };
  }

  /** Whether the text has this exact path. */
  has(path: JsonPath): boolean {
    return this.at.has(path.join('\0'));
  }

  private ws(): void {
    while (/\s/.test(this.text[this.i] ?? '')) this.i++;
  }

  private value(path: JsonPath): void {
    this.ws();
    const c = this.text[this.i];
    if (c === '{') this.object(path);
    else if (c === '[') this.array(path);
    else if (c === '"') this.string();
    else while (this.i < this.text.length && !/[\s,\]}]/.test(this.text[this.i])) this.i++;
  }

  private object(path: JsonPath): void {
    this.i++;
    for (;;) {
      this.ws();
      if (this.text[this.i] === '}' || this.i >= this.text.length) break;
      const start = this.i;
      const key = JSON.parse(this.string()) as string;
      this.at.set([...path, key].join('\0'), start);
      this.ws();
      this.i++; // ':'
      this.value([...path, key]);
      this.ws();
      if (this.text[this.i] === ',') this.i++;
    }
    this.i++;
  }

  private array(path: JsonPath): void {
    this.i++;
    for (let n = 0; ; n++) {
      this.ws();
      if (this.text[this.i] === ']' || this.i >= this.text.length) break;
      this.at.set([...path, n].join('\0'), this.i);
      this.value([...path, n]);
      this.ws();
      if (this.text[this.i] === ',') this.i++;
    }
    this.i++;
  }

  /** The string literal at i (quotes included), i moved past it. */
  private string(): string {
    const start = this.i++;
    while (this.i < this.text.length && this.text[this.i] !== '"') this.i += this.text[this.i] === '\\' ? 2 : 1;
    this.i++;
    return this.text.slice(start, this.i);
  }
}
