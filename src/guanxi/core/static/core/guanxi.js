// Page behaviour that would otherwise sit in inline onclick/onchange handlers, which the Content-Security-Policy
// blocks (script-src 'self'). Delegated from the document, so it also works in fragments swapped in by htmx.
//   data-select-all="<selector>"  a checkbox that checks or clears every checkbox matching the selector
//   data-autosubmit               a field whose form is submitted as soon as it changes
document.addEventListener("change", (event) => {
  const field = event.target;
  if (!(field instanceof HTMLElement)) return;
  if (field.dataset.selectAll !== undefined) {
    document.querySelectorAll(field.dataset.selectAll).forEach((box) => { box.checked = field.checked; });
  }
  if (field.dataset.autosubmit !== undefined && field.form) {
    field.form.requestSubmit ? field.form.requestSubmit() : field.form.submit();
  }
});
