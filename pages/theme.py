"""Colours, the few CSS rules of the portal and its accessibility script, applied once per page.

Contrasts (WCAG 2.1 AA, measured with the relative-luminance formula): link and primary text #0B4F8A on white 8.4:1,
on the page background 7.8:1; field borders #6B7A8C 4.4:1 on white (≥ 3:1 for a control's boundary); the orange
chip #A84300 under white text 6.1:1 (Quasar's orange-9 had 3.8:1). The focus ring is two-tone (WCAG technique C40):
a dark ring #12263F (15.3:1 on white) inside a white one (11.6:1 on the sidebar's #0A3A66), so one of them stands
out on every background; Quasar's own focus tint is faint, and the old amber outline had 2:1 on white.
The ring's and the orange's rules sit in the cascade layer `theme`, the first of NiceGUI's layers: an !important rule
of an earlier layer wins over Quasar's `.no-outline { outline: 0 !important }` and `.bg-orange-9 {…!important}` in
its later layer (unlayered rules would lose).
A dialog's backdrop sits at z-index 0 under its content at 1 (Quasar: -1 and auto, which paints the same but makes
axe-core measure the dialog's buttons against the grey backdrop).
The Tailwind classes the pages use are plain CSS in utilities.css (main.py runs NiceGUI with tailwind=False), served
once as a file whose address carries its content's hash, so a browser keeps it for a year and fetches it again only
when it changes.
"""

import hashlib
from pathlib import Path

from fastapi import Response
from nicegui import APIRouter, ui

router = APIRouter()

PRIMARY = '#0B4F8A'
SIDEBAR = '#0A3A66'
FOCUS_DARK = '#12263F'
FOCUS_LIGHT = '#FFFFFF'
MAIN_ID = 'hauptinhalt'
"""The id the skip link jumps to (`main_anchor`)."""

CSS = f'''
body {{ background: #F3F6FA; }}
.portal-nav a.nicegui-link {{ display: flex; align-items: center; gap: 16px; min-height: 48px; padding: 8px 16px;
  color: #E8F0F8; text-decoration: none; border-radius: 0 24px 24px 0; margin-right: 8px; }}
.portal-nav a.nicegui-link[aria-current=page] {{ background: #FFFFFF; color: {SIDEBAR}; font-weight: 600; }}
.portal-nav a.nicegui-link:not([aria-current=page]):hover {{ background: rgba(255,255,255,0.12); }}
.portal-card {{ border-radius: 10px; box-shadow: 0 1px 3px rgba(10,58,102,.12); }}
.page-title {{ font-size: 1.5rem; font-weight: 600; color: #12263F; }}
.muted {{ color: #4A5B70; }}
.text-h5, .text-h6 {{ color: #12263F; }}
.q-btn.bg-primary:hover {{ background: #083E6D !important; }}
.readable {{ max-width: 70ch; }}
a.nicegui-link {{ color: {PRIMARY}; text-decoration: underline; }}
a.nicegui-link.no-underline {{ text-decoration: none; }}
.q-field--outlined .q-field__control:before {{ border-color: #6B7A8C; }}
.q-field--standard .q-field__control:before {{ border-bottom-color: #6B7A8C; }}
.sr-only {{ position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0; }}
.skip-link {{ position: absolute; left: 8px; top: -100px; z-index: 10000; padding: 12px 16px; border-radius: 4px;
  background: #FFFFFF; color: {PRIMARY}; font-weight: 600; }}
.skip-link:focus {{ top: 8px; }}
#{MAIN_ID}:focus {{ outline: none; }}
.q-dialog__backdrop {{ z-index: 0; }}
.q-dialog__inner {{ z-index: 1; }}
.q-date__calendar-weekdays > div {{ color: #4A5B70; opacity: 1; }}
.q-table th.sortable {{ white-space: nowrap; }}
.sort-header {{ font: inherit; color: inherit; background: none; border: 0; padding: 0; cursor: pointer;
  text-align: inherit; }}
@layer theme {{
.bg-orange-9 {{ background: #A84300 !important; }}
.text-orange-9 {{ color: #A84300 !important; }}
html body :focus-visible, html body .q-field--focused .q-field__control {{
  outline: 3px solid {FOCUS_DARK} !important; outline-offset: 0 !important;
  box-shadow: 0 0 0 6px {FOCUS_LIGHT} !important; }}
html body .q-field__native:focus-visible, html body .q-field input:focus-visible,
html body .q-field textarea:focus-visible, html body .q-menu:focus-visible,
html body .q-dialog__inner > div:focus-visible, html body [tabindex="-1"]:focus-visible {{
  outline: none !important; box-shadow: none !important; }}
html body .q-menu .q-item:focus-visible, html body .q-menu .q-btn:focus-visible, html body .q-date :focus-visible {{
  outline-offset: -3px !important; box-shadow: inset 0 0 0 6px {FOCUS_LIGHT} !important; }}
}}
'''
# Phones (below 600 px, Quasar's xs): half the padding around pages and cards, so a 320 px screen keeps 296 px for
# content instead of 224 px.
PHONE_CSS = '''
@media (max-width: 599.98px) {
  :root { --nicegui-default-padding: 0.5rem; }
  .page-frame { padding: 8px !important; }
  /* The arrows of unsorted headers (invisible until hover, which phones lack) made the key columns 5 px wider than
     320 px; the sorted column keeps its arrow. */
  .q-table th.sortable:not(.sorted) .q-table__sort-icon { display: none; }
  /* and the sorted one may put its arrow on a second line rather than widen the column */
  .q-table th.sortable { white-space: normal; }
}
'''

SCRIPT = (Path(__file__).with_name('a11y.js')).read_text(encoding='utf-8')
UTILITIES_CSS = Path(__file__).with_name('utilities.css').read_bytes()
UTILITIES_VERSION = hashlib.sha256(UTILITIES_CSS).hexdigest()[:16]
UTILITIES_URL = f'/stil/portal-{UTILITIES_VERSION}.css'


@router.get('/stil/portal-{version}.css', include_in_schema=False)
def utilities_stylesheet(version: str) -> Response:
    """Only the current version: an old address would otherwise be cached for a year with the new content."""
    if version != UTILITIES_VERSION:
        return Response(status_code=404)
    return Response(UTILITIES_CSS, media_type='text/css', headers={
        'Cache-Control': 'public, max-age=31536000, immutable'})


def apply_theme() -> None:
    ui.colors(primary=PRIMARY, secondary='#2A7DE1', accent='#F2A900', positive='#1E7B34', negative='#B3261E')
    ui.add_head_html(f'<link rel="stylesheet" href="{UTILITIES_URL}">')
    ui.add_css(CSS)
    ui.add_css(PHONE_CSS)
    ui.add_body_html(f'<script>{SCRIPT}</script>')

