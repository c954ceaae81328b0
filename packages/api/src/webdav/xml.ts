/**
 * A small, strict XML 1.0 (+ Namespaces) well-formedness parser for request bodies
 * (PROPFIND). It builds a tiny element tree and refuses anything it does not need:
 * DOCTYPE is rejected outright, so there are no entities to expand (no XXE, no
 * "billion laughs"); only the five predefined entities and character references are
 * understood. Iterative, with depth and element limits, so hostile input cannot blow
 * the stack.
 */

export class XmlSyntaxError extends Error {
  constructor(message: string, position: number) {
    super(`${message} (at offset ${position})`);
    this.name = "XmlSyntaxError";
  }
}

export interface XmlElement {
  /** As written, e.g. `D:propfind`. */
  qname: string;
  localName: string;
  /** Resolved namespace URI; "" when the element is in no namespace. */
  namespace: string;
  attributes: ReadonlyMap<string, string>;
  children: XmlElement[];
  /** Character data directly inside the element (entities decoded). */
  text: string;
}

export interface XmlLimits {
  maxDepth: number;
  maxElements: number;
}

const DEFAULT_LIMITS: XmlLimits = { maxDepth: 64, maxElements: 10_000 };
const XML_NS = "http://www.w3.org/XML/1998/namespace";
const XMLNS_NS = "http://www.w3.org/2000/xmlns/";

const INVALID_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const NAME =
  /[A-Za-z_:\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD][-.0-9A-Za-z_:\u00B7\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u037D\u037F-\u1FFF\u203F\u2040\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD]*/y;
const WHITESPACE = /[ \t\r\n]*/y;
const XML_DECL =
  /<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(["'])1\.[0-9]+\1([ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(["'])[A-Za-z][A-Za-z0-9._-]*\3)?([ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(["'])(yes|no)\5)?[ \t\r\n]*\?>/y;
const REFERENCE = /&(?:([A-Za-z_:][-.0-9A-Za-z_:]*)|#([0-9]+)|#x([0-9A-Fa-f]+));/y;
const PREDEFINED: Record<string, string> = { lt: "<", gt: ">", amp: "&", apos: "'", quot: '"' };

function isXmlChar(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}

interface OpenElement {
  element: XmlElement;
  scope: Map<string, string>;
}

class Parser {
  private pos = 0;
  private elements = 0;

  constructor(
    private readonly src: string,
    private readonly limits: XmlLimits,
  ) {}

  private fail(message: string): never {
    throw new XmlSyntaxError(message, this.pos);
  }

  private startsWith(token: string): boolean {
    return this.src.startsWith(token, this.pos);
  }

  /** Skips whitespace; returns whether there was any. */
  private whitespace(): boolean {
    WHITESPACE.lastIndex = this.pos;
    WHITESPACE.exec(this.src);
    const skipped = WHITESPACE.lastIndex > this.pos;
    this.pos = WHITESPACE.lastIndex;
    return skipped;
  }

  private name(): string {
    NAME.lastIndex = this.pos;
    const match = NAME.exec(this.src);
    if (!match) this.fail("expected a name");
    this.pos = NAME.lastIndex;
    return match[0];
  }

  /** Character data or an attribute value with its references decoded. */
  private decode(raw: string, offset: number): string {
    let out = "";
    let i = 0;
    while (i < raw.length) {
      const amp = raw.indexOf("&", i);
      if (amp === -1) {
        out += raw.slice(i);
        break;
      }
      out += raw.slice(i, amp);
      REFERENCE.lastIndex = amp;
      const match = REFERENCE.exec(raw);
      if (!match) throw new XmlSyntaxError("malformed entity reference", offset + amp);
      const [whole, named, decimal, hex] = match;
      if (named !== undefined) {
        const value = PREDEFINED[named];
        if (value === undefined) throw new XmlSyntaxError(`undeclared entity &${named};`, offset + amp);
        out += value;
      } else {
        const code = Number.parseInt(decimal ?? hex ?? "", decimal !== undefined ? 10 : 16);
        if (!isXmlChar(code))
          throw new XmlSyntaxError("character reference to an invalid character", offset + amp);
        out += String.fromCodePoint(code);
      }
      i = amp + whole.length;
    }
    return out;
  }

  private comment(): void {
    const end = this.src.indexOf("-->", this.pos + 4);
    if (end === -1) this.fail("unterminated comment");
    const body = this.src.slice(this.pos + 4, end);
    if (body.includes("--") || body.endsWith("-")) this.fail("'--' inside a comment");
    this.pos = end + 3;
  }

  private processingInstruction(): void {
    this.pos += 2;
    const target = this.name();
    if (target.toLowerCase() === "xml") this.fail("XML declaration not at the start of the document");
    const end = this.src.indexOf("?>", this.pos);
    if (end === -1) this.fail("unterminated processing instruction");
    if (end > this.pos && !this.whitespace()) this.fail("expected whitespace after the PI target");
    this.pos = end + 2;
  }

  /** Comments, PIs and whitespace between top-level constructs. */
  private misc(): void {
    for (;;) {
      this.whitespace();
      if (this.startsWith("<!--")) this.comment();
      else if (this.startsWith("<?")) this.processingInstruction();
      else if (this.startsWith("<!DOCTYPE")) this.fail("DOCTYPE is not allowed");
      else return;
    }
  }

  private resolve(
    qname: string,
    scope: Map<string, string>,
    isAttribute: boolean,
  ): { prefix: string; local: string; ns: string } {
    const parts = qname.split(":");
    if (parts.length > 2 || parts.some((p) => p === "")) this.fail(`malformed qualified name ${qname}`);
    if (parts.length === 1) return { prefix: "", local: qname, ns: isAttribute ? "" : (scope.get("") ?? "") };
    const [prefix = "", local = ""] = parts;
    const ns = scope.get(prefix);
    if (ns === undefined) this.fail(`undeclared namespace prefix ${prefix}`);
    return { prefix, local, ns };
  }

  /** `<name attr="v" …>` or `…/>`; returns the element and whether it is empty. */
  private startTag(parentScope: Map<string, string>): { open: OpenElement; empty: boolean } {
    this.pos += 1;
    const qname = this.name();
    const attributes = new Map<string, string>();
    for (;;) {
      const spaced = this.whitespace();
      if (this.startsWith("/>") || this.startsWith(">")) break;
      if (!spaced) this.fail("expected whitespace before an attribute");
      const attrName = this.name();
      this.whitespace();
      if (this.src[this.pos] !== "=") this.fail("expected '=' after an attribute name");
      this.pos += 1;
      this.whitespace();
      const quote = this.src[this.pos];
      if (quote !== '"' && quote !== "'") this.fail("expected a quoted attribute value");
      const end = this.src.indexOf(quote, this.pos + 1);
      if (end === -1) this.fail("unterminated attribute value");
      const raw = this.src.slice(this.pos + 1, end);
      if (raw.includes("<")) this.fail("'<' in an attribute value");
      if (attributes.has(attrName)) this.fail(`duplicate attribute ${attrName}`);
      attributes.set(attrName, this.decode(raw, this.pos + 1));
      this.pos = end + 1;
    }
    const empty = this.startsWith("/>");
    this.pos += empty ? 2 : 1;

    const scope = new Map(parentScope);
    for (const [attrName, value] of attributes) {
      if (attrName === "xmlns") {
        if (value === XML_NS || value === XMLNS_NS) this.fail("reserved namespace bound as default");
        scope.set("", value);
      } else if (attrName.startsWith("xmlns:")) {
        const prefix = attrName.slice(6);
        if (prefix === "xmlns" || value === "" || (prefix === "xml") !== (value === XML_NS)) {
          this.fail(`illegal namespace declaration ${attrName}`);
        }
        scope.set(prefix, value);
      }
    }
    const seen = new Set<string>();
    for (const attrName of attributes.keys()) {
      if (attrName === "xmlns" || attrName.startsWith("xmlns:")) continue;
      const { local, ns } = this.resolve(attrName, scope, true);
      const expanded = `{${ns}}${local}`;
      if (seen.has(expanded)) this.fail(`duplicate attribute ${attrName}`);
      seen.add(expanded);
    }
    const { local, ns } = this.resolve(qname, scope, false);
    this.elements += 1;
    if (this.elements > this.limits.maxElements) this.fail("too many elements");
    return {
      open: {
        element: { qname, localName: local, namespace: ns, attributes, children: [], text: "" },
        scope,
      },
      empty,
    };
  }

  parse(): XmlElement {
    const invalid = INVALID_CHAR.exec(this.src);
    if (invalid) throw new XmlSyntaxError("character not allowed in XML", invalid.index);
    if (this.src.charCodeAt(0) === 0xfeff) this.pos = 1;
    if (this.startsWith("<?xml")) {
      XML_DECL.lastIndex = this.pos;
      if (!XML_DECL.exec(this.src)) this.fail("malformed XML declaration");
      this.pos = XML_DECL.lastIndex;
    }
    this.misc();
    if (!this.startsWith("<")) this.fail("expected the root element");
    const initialScope = new Map([["xml", XML_NS]]);
    const first = this.startTag(initialScope);
    const root = first.open.element;
    const stack: OpenElement[] = first.empty ? [] : [first.open];

    while (stack.length > 0) {
      const top = stack[stack.length - 1] as OpenElement;
      if (this.pos >= this.src.length) this.fail(`unclosed element ${top.element.qname}`);
      if (this.startsWith("</")) {
        this.pos += 2;
        const closing = this.name();
        this.whitespace();
        if (this.src[this.pos] !== ">") this.fail("expected '>'");
        this.pos += 1;
        if (closing !== top.element.qname) this.fail(`</${closing}> closes <${top.element.qname}>`);
        stack.pop();
      } else if (this.startsWith("<!--")) {
        this.comment();
      } else if (this.startsWith("<![CDATA[")) {
        const end = this.src.indexOf("]]>", this.pos + 9);
        if (end === -1) this.fail("unterminated CDATA section");
        top.element.text += this.src.slice(this.pos + 9, end);
        this.pos = end + 3;
      } else if (this.startsWith("<?")) {
        this.processingInstruction();
      } else if (this.startsWith("<!")) {
        this.fail("markup declaration inside an element");
      } else if (this.startsWith("<")) {
        const child = this.startTag(top.scope);
        top.element.children.push(child.open.element);
        if (!child.empty) {
          if (stack.length >= this.limits.maxDepth) this.fail("elements nested too deeply");
          stack.push(child.open);
        }
      } else {
        const next = this.src.indexOf("<", this.pos);
        const end = next === -1 ? this.src.length : next;
        const raw = this.src.slice(this.pos, end);
        if (raw.includes("]]>")) this.fail("']]>' in character data");
        top.element.text += this.decode(raw, this.pos);
        this.pos = end;
      }
    }
    this.misc();
    if (this.pos !== this.src.length) this.fail("content after the root element");
    return root;
  }
}

/** Parses a whole document; throws XmlSyntaxError unless it is well-formed (and namespace-well-formed). */
export function parseXml(source: string, limits: XmlLimits = DEFAULT_LIMITS): XmlElement {
  return new Parser(source, limits).parse();
}
