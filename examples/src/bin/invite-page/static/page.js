// Progressive enhancement for the Invite User page. The server renders every state
// from the library's form model; this script only re-submits the form when a choice
// changes, so the next options, hints and seat information appear at once. Without
// JavaScript the "Apply choices" button does the same.
'use strict';

document.addEventListener('change', (event) => {
  const el = event.target;
  if (!(el instanceof HTMLElement) || !el.hasAttribute('data-autosubmit')) return;
  const form = el.form;
  if (!form) return;
  const update = form.querySelector('button[name="action"][value="update"]');
  form.requestSubmit(update || undefined);
});
