// Progressive enhancement for the Invite User page. The server renders every state
// from the library's form model; this script only
//  - re-submits the form when a choice changes, so the next options, hints and seat
//    information appear at once (without JavaScript the "Apply choices" button does
//    the same), and puts the focus back on the changed control once the page is back;
//  - asks before a button with `data-confirm` posts its form (Revoke).
'use strict';

const FOCUS_KEY = 'invite-page:focus';

/** Remembers the control to focus after the next load (storage may be off: then not). */
function rememberFocus(name) {
  try {
    sessionStorage.setItem(FOCUS_KEY, name);
  } catch {
    // No session storage: the page still works, the focus starts at the top.
  }
}

/** Focuses the control remembered before the last auto-submit, once. */
function restoreFocus() {
  let name = null;
  try {
    name = sessionStorage.getItem(FOCUS_KEY);
    sessionStorage.removeItem(FOCUS_KEY);
  } catch {
    return;
  }
  const form = document.getElementById('invite-form');
  if (!name || !(form instanceof HTMLFormElement)) return;
  const found = form.elements.namedItem(name);
  // Radio buttons share a name: the checked one takes the focus.
  const control = found instanceof RadioNodeList
    ? Array.from(found).find((el) => el.checked) || found[0]
    : found;
  if (control instanceof HTMLElement && !control.hasAttribute('disabled')) {
    control.focus();
  }
}

document.addEventListener('change', (event) => {
  const el = event.target;
  if (!(el instanceof HTMLElement) || !el.hasAttribute('data-autosubmit')) return;
  const form = el.form;
  if (!form) return;
  if (el.name) rememberFocus(el.name);
  const update = form.querySelector('button[name="action"][value="update"]');
  form.requestSubmit(update || undefined);
});

document.addEventListener('submit', (event) => {
  const button = event.submitter;
  const question = button instanceof HTMLElement ? button.dataset.confirm : undefined;
  if (question && !window.confirm(question)) event.preventDefault();
});

restoreFocus();
