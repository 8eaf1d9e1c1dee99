"""Colours and the few CSS rules of the portal, applied once per page."""

from nicegui import ui

PRIMARY = '#0B4F8A'
SIDEBAR = '#0A3A66'

CSS = '''
body { background: #F3F6FA; }
.portal-sidebar .q-item { color: #E8F0F8; border-radius: 0 24px 24px 0; margin-right: 8px; }
.portal-sidebar .q-item.nav-active { background: #FFFFFF; color: #0A3A66; font-weight: 600; }
.portal-sidebar .q-item:not(.nav-active):hover { background: rgba(255,255,255,0.12); }
.portal-card { border-radius: 10px; box-shadow: 0 1px 3px rgba(10,58,102,.12); }
.page-title { font-size: 1.5rem; font-weight: 600; color: #12263F; }
.muted { color: #4A5B70; }
.text-h5, .text-h6 { color: #12263F; }
.q-btn.bg-primary .q-focus-helper { display: none; }
.q-btn.bg-primary:hover { background: #083E6D !important; }
.q-btn:focus-visible, .q-item:focus-visible, a:focus-visible { outline: 3px solid #F2A900; outline-offset: 2px; }
.readable { max-width: 70ch; }
'''
# Phones (below 600 px, Quasar's xs): half the padding around pages and cards, so a 320 px screen keeps 296 px for
# content instead of 224 px.
PHONE_CSS = '''
@media (max-width: 599.98px) {
  :root { --nicegui-default-padding: 0.5rem; }
  .page-frame { padding: 8px !important; }
}
'''


def apply_theme() -> None:
    ui.colors(primary=PRIMARY, secondary='#2A7DE1', accent='#F2A900', positive='#1E7B34', negative='#B3261E')
    ui.add_css(CSS)
    ui.add_css(PHONE_CSS)
