/**
 * Where things are in a JSON text, so the node-config lint can name a line and column: each
 * member's key and each array element, by its path; and where a text that is not JSON goes wrong
 * (V8's JSON.parse names no position for an unexpected token).
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

/**
 * Where JSON.parse failed: where this scanner stops, else V8's "position N", else the end of the
 * text (V8's message names no position for an unexpected token). Past the last token: the end.
 */
export function jsonErrorAt(text: string, err: Error): JsonAt {
  const end = text.trimEnd().length;
  try {
    new JsonPositions(text);
  } catch (e) {
    if (e instanceof JsonSyntaxError) return offsetAt(text, Math.min(e.offset, end));
  }
  const pos = err.message.match(/position (\d+)/)?.[1];
  return offsetAt(text, pos === undefined ? end : Math.min(Number(pos), end));
}

/** Where the scanner found the text is not JSON. */
export class JsonSyntaxError extends Error {
  constructor(readonly offset: number) {
    super(`not JSON at offset ${offset}`);
  }
}

/**
 * The position of every key (for a member) and every element (for an array item) in a JSON
 * text, keyed by its path joined with "\0"; a text that is not JSON throws JsonSyntaxError at
 * the first place it goes wrong. Duplicate keys: the last one, as JSON.parse keeps.
 */
export class JsonPositions {
  private at = new Map<string, number>();
  private i = 0;

  constructor(private readonly text: string) {
    this.value([]);
    this.ws();
    if (this.i < text.length) this.fail();
  }

  /** The position of the key at path, else of the nearest enclosing one, else 1:1. */
  of(path: JsonPath): JsonAt {
    for (let n = path.length; n > 0; n--) {
      const off = this.at.get(path.slice(0, n).join('\0'));
      if (off !== undefined) return offsetAt(this.text, off);
    }
    return { line: 1, column: 1 };
  }

  private fail(): never {
    throw new JsonSyntaxError(this.i);
  }

  private ws(): void {
    while (/[ \t\n\r]/.test(this.text[this.i] ?? '')) this.i++;
  }

  private expect(c: string): void {
    this.ws();
    if (this.text[this.i] !== c) this.fail();
    this.i++;
  }

  private value(path: JsonPath): void {
    this.ws();
    const c = this.text[this.i];
    if (c === '{') return this.object(path);
    if (c === '[') return this.array(path);
    if (c === '"') return void this.string();
    const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(this.text.slice(this.i, this.i + 400));
    if (!m) this.fail();
    this.i += m[0].length;
  }

  /** Members or elements up to the closing bracket, each read by one(index). */
  private items(close: string, one: (n: number) => void): void {
    this.i++;
    this.ws();
    if (this.text[this.i] === close) return void this.i++;
    for (let n = 0; ; n++) {
      this.ws();
      one(n);
      this.ws();
      if (this.text[this.i] === close) return void this.i++;
      this.expect(',');
    }
  }

  private object(path: JsonPath): void {
    this.items('}', () => {
      const start = this.i;
      if (this.text[this.i] !== '"') this.fail();
      const key = JSON.parse(this.string()) as string;
      this.at.set([...path, key].join('\0'), start);
      this.expect(':');
      this.value([...path, key]);
    });
  }

  private array(path: JsonPath): void {
    this.items(']', (n) => {
      this.at.set([...path, n].join('\0'), this.i);
      this.value([...path, n]);
    });
  }

  /** The string literal at i (quotes included), i moved past it. */
  private string(): string {
    const start = this.i++;
    while (this.text[this.i] !== '"') {
      if (this.i >= this.text.length || this.text.charCodeAt(this.i) < 0x20) this.fail();
      this.i += this.text[this.i] === '\\' ? 2 : 1;
    }
    this.i++;
    return this.text.slice(start, this.i);
  }
}
