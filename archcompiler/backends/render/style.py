"""Figure styles and the legend of the static diagram.

`default` is the look the drawer writes. `paper` rewrites the drawer's own style attributes
(never a label's text): grayscale, Times, small type, tight spacing, at most one column wide.
"""

from __future__ import annotations

import re

from .dot import FLAG, SKIP_STYLES, Html, html_escape

STYLES = ("default", "paper")
PAPER_SIZE = "3.4,10.4"  # inches: one column of a two-column paper; 10.4 in is 998 px at 96 dpi

# What each mark of the diagram means, with the DOT text that shows it is drawn.
_KEYS = (
    ('class="skip-projection"', SKIP_STYLES["projection"]["color"], "━━",
     "projection shortcut (1x1 conv + norm)"),
    ('class="skip-pad"', SKIP_STYLES["pad"]["color"], "╍╍", "zero-pad shortcut (option A)"),
    ('class="skip-identity"', SKIP_STYLES["identity"]["color"], "──", "identity shortcut"),
    ("#7b3fa0", "#7b3fa0", "▭", "side branch (squeeze-excitation)"),
    (f'color="{FLAG["color"]}"', FLAG["color"], "▭", "a diagnostic points here"),
    ("×", "#444444", "×N", "a run of N identical blocks, each with its own skip"),
)


def legend(statements: list[str]) -> Html | None:
    """An HTML-like table explaining the marks that `statements` use, or None if none do."""
    text = "\n".join(statements)
    rows = [f'<TR><TD ALIGN="RIGHT"><FONT COLOR="{color}"><B>{html_escape(mark)}</B></FONT></TD>'
            f'<TD ALIGN="LEFT">{html_escape(meaning)}</TD></TR>'
            for probe, color, mark, meaning in _KEYS if probe in text]
    if not rows:
        return None
    return Html('<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="1" CELLPADDING="1">'
                '<TR><TD COLSPAN="2" ALIGN="LEFT"><B>legend</B></TD></TR>' + "".join(rows)
                + "</TABLE>")


def _gray(match: re.Match[str]) -> str:
    """A colour attribute turned gray by luminance; red (a diagnostic) becomes black."""
    key, value = match.group(1), match.group(2)
    if value.lower() == "red":
        return f'{key}="#000000"'
    if not value.startswith("#"):
        return match.group(0)
    r, g, b = (int(value[k:k + 2], 16) for k in (1, 3, 5))
    y = round(0.299 * r + 0.587 * g + 0.114 * b)
    y = min(y, 120) if y < 200 else y  # lines and text dark enough to print
    return f'{key}="#{y:02x}{y:02x}{y:02x}"'


_COLOUR = re.compile(r'\b(color|fillcolor|fontcolor|COLOR)="(#[0-9a-fA-F]{6}|red)"')
_SIZES = {'fontsize="18"': 'fontsize="11"', "fontsize=13": "fontsize=9",
          "fontsize=11": "fontsize=8", 'fontsize="15"': 'fontsize="10"',
          'fontsize="16"': 'fontsize="10"', 'POINT-SIZE="16"': 'POINT-SIZE="11"',
          'POINT-SIZE="15"': 'POINT-SIZE="10"', 'POINT-SIZE="10"': 'POINT-SIZE="7"',
          'margin="0.15,0.06"': 'margin="0.05,0.02"', 'nodesep="0.3"': 'nodesep="0.12"',
          'ranksep="0.3"': 'ranksep="0.14"', 'nodesep="0.22"': 'nodesep="0.1"',
          'ranksep="0.28"': 'ranksep="0.12"', 'width="0.35"': 'width="0.22"',
          'penwidth="2.5"': 'penwidth="1.6"', 'penwidth="2"': 'penwidth="1.3"'}
# Attributes as the drawer writes them: `key="value"` after `[`, `, ` or at a line's start.
_ATTR = re.compile(r'(?<=[\[ ,;])(fontname|fontsize|margin|nodesep|ranksep|width|penwidth|'
                   r'color|fillcolor|fontcolor)=("[^"]*"|[\w.]+)')


_SHAPE_LABEL = re.compile(r'(, )?label="\d+(x\d+)*"(?=[,\]])')
_COST_NOTE = re.compile(r'<BR/><FONT POINT-SIZE="10" COLOR="#555555">[^<]*</FONT>')


def restyle(dot_text: str, style: str) -> str:
    """Return `dot_text` in `style` (default: unchanged)."""
    if style == "default":
        return dot_text
    if style != "paper":
        raise ValueError(f"style must be one of {', '.join(STYLES)}; got {style!r}")
    out = []
    for line in dot_text.splitlines():
        # Compact: no tensor shape on edges (the stage titles give each stage's output) and no
        # cost note in labels; both are markup of the drawer's own, never the spec's text.
        if " -> " in line:
            line = _SHAPE_LABEL.sub("", line)
        line = _COST_NOTE.sub("", line)
        # Otherwise only attribute syntax is rewritten; a label's text is left as it was.
        line = _ATTR.sub(lambda m: _paper_attr(m.group(0)), line)
        line = re.sub(r'(<FONT [^>]*>)', lambda m: _paper_font(m.group(1)), line)
        out.append(line)
    text = "\n".join(out) + "\n"
    return text.replace("graph [", f'graph [size="{PAPER_SIZE}", ', 1)


def _paper_attr(attr: str) -> str:
    attr = _SIZES.get(attr, attr)
    attr = attr.replace('fontname="Helvetica"', 'fontname="Times-Roman"')
    return _COLOUR.sub(_gray, attr)


def _paper_font(tag: str) -> str:
    tag = re.sub(r'POINT-SIZE="\d+"', lambda m: _SIZES.get(m.group(0), m.group(0)), tag)
    return _COLOUR.sub(_gray, tag)
