// The ticket page's reply-template picker (service/_agent_tools.html): a click on a template puts its filled-in text
// into the reply box — the element marked data-reply-box (the message thread's reply form), else the message form's
// content field, else the resolution field of the "resolve" action. Delegated from the document, loaded once.
if (!window.guanxiReplyPicker) {
  window.guanxiReplyPicker = true;
  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("[data-reply-text]") : null;
    if (!button) return;
    event.preventDefault();
    const box =
      document.querySelector("[data-reply-box]") ||
      document.querySelector("textarea[name=content]") ||
      document.querySelector("textarea[name=resolution]");
    if (!box) return;
    box.value = button.dataset.replyText;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
  });
}
