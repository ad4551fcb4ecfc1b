// Keyboard shortcuts and the overlay that lists them. Keys act only when the
// user is not typing in a field, and never with Ctrl, Alt or ⌘ held, so the
// browser's own shortcuts keep working.

// `bindings`: [{ keys: ['1', '2'], label: '1 … 9', help: 'what it does', run(event) }]
export function installShortcuts(bindings, dialog) {
  const byKey = new Map(bindings.flatMap((b) => b.keys.map((k) => [k, b])));
  dialog.querySelector('dl').replaceChildren(...bindings.flatMap(({ keys, label, help }) => [
    Object.assign(document.createElement('dt'), { textContent: label ?? keys.join(' / ') }),
    Object.assign(document.createElement('dd'), { textContent: help }),
  ]));
  document.addEventListener('keydown', (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    if (event.target.closest?.('input, select, textarea, [contenteditable="true"]')) return;
    if (dialog.open && event.key !== '?') return;
    const binding = byKey.get(event.key);
    if (!binding) return;
    event.preventDefault();
    binding.run(event);
  });
}

export function toggleHelp(dialog) {
  if (dialog.open) dialog.close();
  else dialog.showModal();
}
