/** A small strict XML reader for the tests: elements, attributes, text; throws on a tag that does not match. */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

export function parseXml(xml: string): XmlElement {
  const root: XmlElement = { name: '#document', attrs: {}, children: [], text: '' };
  const stack = [root];
  const token = /<\?[^?]*\?>|<!--[\s\S]*?-->|<\/([\w:-]+)\s*>|<([\w:-]+)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>|([^<]+)/g;
  let m: RegExpExecArray | null;
  let pos = 0;
  while ((m = token.exec(xml))) {
    if (m.index !== pos) throw new Error(`unparsable XML at offset ${pos}: ${xml.slice(pos, pos + 40)}`);
    pos = token.lastIndex;
    const top = stack[stack.length - 1];
    if (m[1]) {
      if (top.name !== m[1]) throw new Error(`</${m[1]}> closes <${top.name}>`);
      stack.pop();
    } else if (m[2]) {
      const attrs = Object.fromEntries([...m[3].matchAll(/([\w:-]+)="([^"]*)"/g)].map((a) => [a[1], unescape(a[2])]));
      const e: XmlElement = { name: m[2], attrs, children: [], text: '' };
      top.children.push(e);
      if (!m[4]) stack.push(e);
    } else if (m[5] !== undefined) {
      if (/[<&](?!amp;|lt;|gt;|quot;|apos;)/.test(m[5])) throw new Error(`unescaped text: ${m[5].slice(0, 40)}`);
      top.text += unescape(m[5]);
    }
  }
  if (pos !== xml.length || stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1].name}>`);
  const docs = root.children;
  if (docs.length !== 1) throw new Error(`${docs.length} root elements`);
  return docs[0];
}

/** Every element below e (depth first) with this name. */
export function all(e: XmlElement, name: string): XmlElement[] {
  return e.children.flatMap((c) => [...(c.name === name ? [c] : []), ...all(c, name)]);
}
