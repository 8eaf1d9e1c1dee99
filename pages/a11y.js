// Template slots that stay mounted. NiceGUI 3.18 hands Vue a new component object for a template slot (the tables'
// status chips and row menus) on every render of the page, and any element's update renders the page from its root;
// Vue compares component types by identity, so it threw every slot cell away and built it again: a row menu
// opened a moment before a search result, a page change or a label update closed under the click
// (zauberzeug/nicegui#6284, fix proposed upstream in #6287). Here each template gets one component object, so Vue
// patches the cells instead. The page's module script sets globalThis.Vue after this classic script has run.
(() => {
  if (Object.getOwnPropertyDescriptor(globalThis, 'Vue')) return;
  const components = new Map();
  const isTemplateSlot = (type) => type !== null && typeof type === 'object' && typeof type.template === 'string'
    && Object.keys(type).length === 2 && 'props' in type;
  let vue;
  Object.defineProperty(globalThis, 'Vue', {
    configurable: true,
    get: () => vue,
    set: (module) => {
      const h = (type, ...rest) => {
        if (isTemplateSlot(type)) {
          if (!components.has(type.template)) components.set(type.template, type);
          type = components.get(type.template);
        }
        return module.h(type, ...rest);
      };
      vue = Object.freeze({ ...module, h });
    },
  });
})();

// Accessibility of Quasar's own parts, for every page (pages/theme.py adds this script once per page).
// Quasar renders these in the browser, out of reach of the pages' Python code:
// - a dialog gets its name from its heading (aria-labelledby), as Quasar leaves role=dialog unnamed;
// - the loading bar is hidden from assistive technology (an unnamed progressbar outside the landmarks);
// - q-badge (status chips, counts) says role=status: a live region that re-announces every chip of a table redraw;
// - a field in error gets aria-invalid and aria-describedby pointing at its message (Quasar shows it, links neither);
// - menus: focus goes to the first item when a menu opens, arrow keys, Home and End move between the items;
// - while a modal dialog is open, everything behind it is inert (Quasar traps the focus but leaves the rest readable
//   and clickable for assistive technology);
// - focus returns to the control that opened a dialog, drawer or menu when that closes and focus fell to <body>
//   (Quasar refocuses the opener only while that element still exists; a table or drawer redraw replaces it).
(() => {
  if (window.__portalA11y) return;
  window.__portalA11y = true;
  let serial = 0;
  const ensureId = (element) => element.id || (element.id = `a11y-${++serial}`);
  const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select, textarea, '
    + '[tabindex]:not([tabindex="-1"])';
  const LAYERS = '.q-dialog, .q-menu';

  function nameDialogs() {
    document.querySelectorAll('[role=dialog]:not([aria-label])').forEach((dialog) => {
      const named = dialog.getAttribute('aria-labelledby');
      if (named && document.getElementById(named)) return;  // a redraw of the content replaces the heading
      const heading = dialog.querySelector('[role=heading], h1, h2, h3, .text-h6, .text-h5');
      if (heading) dialog.setAttribute('aria-labelledby', ensureId(heading));
    });
  }

  // Quasar's loading bar (a thin line at the top while an upload or request runs) repeats what the page says in
  // words; as an unnamed progressbar outside every landmark it only adds noise, so assistive technology skips it.
  function hideLoadingBar() {
    document.querySelectorAll('.q-loading-bar:not([aria-hidden])').forEach((bar) => bar.setAttribute('aria-hidden', 'true'));
  }

  function quietBadges() {
    document.querySelectorAll('.q-badge[role=status]').forEach((badge) => {
      badge.removeAttribute('role');
      const label = badge.getAttribute('aria-label');
      if (!label || label === badge.textContent.trim()) badge.removeAttribute('aria-label');
      else badge.setAttribute('role', 'img');
    });
  }

  function describeFields() {
    document.querySelectorAll('.q-field').forEach((field) => {
      const input = field.querySelector('input, textarea, select, .q-field__native[tabindex]');
      if (!input) return;
      const message = field.querySelector('.q-field__messages > div');
      const own = input.dataset.a11yDescribedby;
      if (message && message.textContent.trim()) {
        const id = ensureId(message);
        if (input.getAttribute('aria-describedby') !== id) {
          input.setAttribute('aria-describedby', id);
          input.dataset.a11yDescribedby = id;
        }
      } else if (own && input.getAttribute('aria-describedby') === own) {
        input.removeAttribute('aria-describedby');
        delete input.dataset.a11yDescribedby;
      }
      if (field.classList.contains('q-field--error')) input.setAttribute('aria-invalid', 'true');
      else if (input.hasAttribute('aria-invalid')) input.removeAttribute('aria-invalid');
    });
  }

  function inertBehindModal() {
    const modals = [...document.querySelectorAll('[role=dialog][aria-modal=true]')];
    const top = modals[modals.length - 1];
    for (const child of document.body.children) {
      const behind = top !== undefined && !child.contains(top)
        && (child.id === 'app' || modals.some((modal) => child.contains(modal)));
      if (behind !== child.hasAttribute('inert')) child.toggleAttribute('inert', behind);
    }
  }

  // --- focus: remember the last focused control of each layer (the page, each open dialog or menu) --------------
  const remembered = new Map();
  const layerOf = (element) => element.closest(LAYERS) || document.body;
  const keyOf = (element) => [element.tagName, element.getAttribute('aria-label') || element.textContent.trim()];
  document.addEventListener('focusin', (event) => {
    const target = event.target;
    if (!(target instanceof HTMLElement) || target === document.body) return;
    remembered.set(layerOf(target), {element: target, key: keyOf(target)});
  });

  function findAgain(layer, memory) {
    if (memory.element.isConnected && !memory.element.closest('[aria-hidden=true]')) return memory.element;
    const [tag, name] = memory.key;
    return [...layer.querySelectorAll(FOCUSABLE)].find((element) => {
      const [otherTag, otherName] = keyOf(element);
      return otherTag === tag && otherName === name && element.offsetParent !== null;
    });
  }

  function restoreFocus(layerClosed) {
    const active = document.activeElement;
    if (active && active !== document.body) return;
    const page = remembered.get(document.body);
    if (!layerClosed && !document.querySelector(LAYERS) && page && page.element.isConnected) return;  // a click
    const open = [...document.querySelectorAll(LAYERS)].filter((layer) => layer.isConnected);
    for (const layer of [...open.reverse(), document.body]) {
      const memory = remembered.get(layer);
      const element = memory && findAgain(layer, memory);
      if (element) {
        element.focus();
        return;
      }
      if (layer !== document.body) {
        const first = layer.querySelector(FOCUSABLE);
        if (first) {
          first.focus();
          return;
        }
      }
    }
  }

  // --- menus ---------------------------------------------------------------------------------------------------
  const menuItems = (menu) => [...menu.querySelectorAll('[role=menuitem]')].filter(
    (item) => item.getAttribute('aria-disabled') !== 'true' && item.offsetParent !== null);
  document.addEventListener('focusin', (event) => {
    const target = event.target;
    if (target instanceof HTMLElement && target.classList.contains('q-menu')) {
      const first = menuItems(target)[0];
      if (first) first.focus();
    }
  });
  document.addEventListener('keydown', (event) => {
    const menu = event.target instanceof HTMLElement && event.target.closest('[role=menu]');
    if (!menu) return;
    const items = menuItems(menu);
    if (!items.length) return;
    const index = items.indexOf(event.target);
    const next = {
      ArrowDown: items[(index + 1) % items.length], ArrowUp: items[(index - 1 + items.length) % items.length],
      Home: items[0], End: items[items.length - 1],
    }[event.key];
    if (next) {
      event.preventDefault();
      next.focus();
    }
  });

  let scheduled = false;
  let removed = false;
  let layerClosed = false;
  const closesLayer = (node) => node instanceof Element && (node.matches(LAYERS) || node.querySelector(LAYERS));
  const observer = new MutationObserver((mutations) => {
    for (const mutation of mutations) {
      removed = removed || mutation.removedNodes.length > 0;
      layerClosed = layerClosed || [...mutation.removedNodes].some(closesLayer);
    }
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      nameDialogs();
      hideLoadingBar();
      quietBadges();
      describeFields();
      inertBehindModal();
      if (removed) {
        const closed = layerClosed;
        removed = layerClosed = false;
        setTimeout(() => restoreFocus(closed), 60);
      }
    });
  });
  observer.observe(document.documentElement, {
    childList: true, subtree: true, attributes: true, attributeFilter: ['class', 'role', 'aria-modal'],
  });
})();
