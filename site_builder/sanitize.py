"""SANITIZE (pure): the HTML and SVG a notebook output carries, rebuilt from an allowlist.

Those outputs come back from the cache, which may be restored from CI: input an attacker may
shape. So what reaches a page is re-serialised from parser events, keeping only tags and
attributes that cannot run code (a pandas table, a matplotlib SVG, IPython's HTML and Markdown,
the MathML logbuild makes of a formula);
text is escaped again, URLs must be relative, http(s) or a data: image. Scripts, event handlers,
styles that could fetch, frames and forms are dropped. (Widgets and other JavaScript outputs do
not work in a static page anyway.)
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

HTML_TAGS = frozenset(["a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "details", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul"])
SVG_TAGS = frozenset(["svg", "g", "path", "circle", "ellipse", "line", "polyline", "polygon", "rect", "text", "tspan", "defs", "clippath", "use", "lineargradient", "radialgradient", "stop", "title", "desc", "symbol", "marker", "pattern", "mask"])
MATHML_TAGS = frozenset(["math", "mrow", "mi", "mo", "mn", "ms", "msup", "msub", "msubsup", "mfrac", "msqrt", "mroot", "mtext", "mspace", "mover", "munder", "munderover", "mtable", "mtr", "mtd", "mstyle", "mpadded", "mphantom", "menclose", "semantics", "annotation"])  # our own MathML
VOID = frozenset({"br", "col", "hr", "img"})
ATTRIBUTES = frozenset(["class", "id", "title", "alt", "width", "height", "colspan", "rowspan", "align", "valign", "border", "scope", "open", "d", "fill", "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin", "stroke-dasharray", "stroke-opacity", "fill-opacity", "fill-rule", "clip-rule", "opacity", "transform", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "dx", "dy", "points", "viewbox", "version", "preserveaspectratio", "font-size", "font-family", "font-weight", "font-style", "text-anchor", "dominant-baseline", "clip-path", "offset", "stop-color", "stop-opacity", "gradientunits", "gradienttransform", "patternunits", "markerwidth", "markerheight", "refx", "refy", "orient", "xmlns", "xmlns:xlink", "style", "aria-label", "role", "lang", "dir", "start", "display", "stretchy", "fence", "form", "accent", "accentunder", "linebreak", "mathvariant", "separator", "lspace", "rspace", "columnalign", "rowspacing", "columnspacing", "minsize", "maxsize", "movablelimits", "largeop", "symmetric", "notation"])
URL_ATTRIBUTES = frozenset({"href", "src", "xlink:href"})
SAFE_URL = re.compile(r"^(?:https?://|#|data:image/(?:png|jpeg|gif|webp);base64,|[^:/?#]+(?:[/?#]|$))", re.IGNORECASE)
UNSAFE_VALUE = re.compile(r"javascript:|expression\(|url\((?!\s*['\"]?#)", re.IGNORECASE)
DROPPED_WITH_CONTENT = frozenset({"script", "style", "iframe", "object", "embed", "template", "noscript",
                                  "textarea", "select", "svg:script", "foreignobject"})


def sanitize(markup: str) -> str:
    """`markup` with only what cannot run code; text escaped, tags balanced."""
    parser = _Rebuild()
    parser.feed(markup)
    parser.close()
    return parser.result()


class _Rebuild(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []
        self.skipping: list[str] = []  # a dropped element whose content goes too

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skipping or tag in DROPPED_WITH_CONTENT:
            if tag not in VOID:
                self.skipping.append(tag)
            return
        if tag not in HTML_TAGS and tag not in SVG_TAGS and tag not in MATHML_TAGS:
            return
        kept = "".join(f' {name}="{html.escape(value or "")}"' for name, value in attrs if _allowed(name, value or ""))
        self.out.append(f"<{tag}{kept}>")
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if self.open and self.open[-1] == tag and (tag in SVG_TAGS or tag in MATHML_TAGS):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skipping:
            if tag == self.skipping[-1]:
                self.skipping.pop()
            return
        if tag in self.open:
            while self.open:
                last = self.open.pop()
                self.out.append(f"</{last}>")
                if last == tag:
                    break

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.out.append(html.escape(data, quote=False))

    def result(self) -> str:
        return "".join(self.out) + "".join(f"</{tag}>" for tag in reversed(self.open))


def _allowed(name: str, value: str) -> bool:
    if name in URL_ATTRIBUTES:
        return bool(SAFE_URL.match(value.strip()))
    return name in ATTRIBUTES and not UNSAFE_VALUE.search(value)
