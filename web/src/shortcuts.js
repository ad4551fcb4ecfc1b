// @ts-check
// Keyboard shortcuts and the overlay that lists them. Keys act only when the
// user is not typing in a field (a checkbox is not one), and never with Ctrl,
// Alt or ⌘ held, so the browser's own shortcuts keep working.

/**
 * One shortcut: the keys (`KeyboardEvent.key`) that run it, how the overlay
 * writes them (default: the keys), and what it does.
 * @typedef {{keys: string[], label?: string, help: string, run: (event: KeyboardEvent) => void}} Binding
 */

/**
 * @param {Binding[]} bindings
 * @param {HTMLDialogElement} dialog the overlay, holding a `<dl>` for the list
 */
export function installShortcuts(bindings, dialog) {
  const byKey = new Map(bindings.flatMap((b) => b.keys.map((k) => /** @type {const} */ ([k, b]))));
  dialog.querySelector('dl')?.replaceChildren(...bindings.flatMap(({ keys, label, help }) => [
    Object.assign(document.createElement('dt'), { textContent: label ?? keys.join(' / ') }),
    Object.assign(document.createElement('dd'), { textContent: help }),
  ]));
  document.addEventListener('keydown', (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    // Typing goes to the field; a checkbox or radio button takes no letters.
    if (event.target instanceof Element && event.target.closest('input:not([type="checkbox"], [type="radio"]), select, textarea, [contenteditable="true"]')) return;
    if (dialog.open && event.key !== '?') return;
    const binding = byKey.get(event.key);
    if (!binding) return;
    event.preventDefault();
    binding.run(event);
  });
}

/** @param {HTMLDialogElement} dialog */
export function toggleHelp(dialog) {
  if (dialog.open) dialog.close();
  else dialog.showModal();
}
