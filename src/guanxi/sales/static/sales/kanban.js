// Kanban drag and drop: a card dropped on another column POSTs the move with the version the card was drawn with;
// the server answers the refreshed board (409 with the current board and a message when the card was stale).
(function () {
  "use strict";
  var dragged = null;

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".kanban-card[draggable=true]");
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.deal);
    card.classList.add("dragging");
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    document.querySelectorAll(".kanban-col.drop-target").forEach(function (col) { col.classList.remove("drop-target"); });
  });

  document.addEventListener("dragover", function (event) {
    var column = event.target.closest && event.target.closest(".kanban-col");
    if (!column || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    column.classList.add("drop-target");
  });

  document.addEventListener("dragleave", function (event) {
    var column = event.target.closest && event.target.closest(".kanban-col");
    if (column && !column.contains(event.relatedTarget)) column.classList.remove("drop-target");
  });

  document.addEventListener("drop", function (event) {
    var column = event.target.closest && event.target.closest(".kanban-col");
    if (!column || !dragged) return;
    event.preventDefault();
    var card = dragged;
    var fromColumn = card.closest(".kanban-col");
    if (fromColumn === column) return;
    var board = column.closest(".kanban");
    var url = board.dataset.moveUrl.replace("/0/", "/" + card.dataset.deal + "/");
    htmx.ajax("POST", url, {
      target: "#board",
      swap: "innerHTML",
      values: {
        stage_id: column.dataset.stage,
        version: card.dataset.version,
        pipeline: board.dataset.pipeline,
        team: board.dataset.team,
        owner: board.dataset.owner
      }
    });
  });

  // A stale card (409) or a refused move (422) still brings the board as it is now, with the message on top.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if ((status === 409 || status === 422) && event.detail.target && event.detail.target.id === "board") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
