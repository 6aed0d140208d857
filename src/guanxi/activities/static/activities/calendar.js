/* Calendar drag and drop (vanilla JS, no library): drop an event on a day (month view) or an hour (day/week views);
   the new start keeps the event's minutes (and, in the month view, its time of day). The server answers 409 when the
   activity changed since the page was drawn: the grid is reloaded so the user sees the current state. */
(function () {
  "use strict";

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  /* The new start as local wall time "YYYY-MM-DDTHH:MM:00" (the server reads it in Asia/Shanghai). The original
     start is written with its offset; its wall-clock hour and minute are taken from the text, not the browser zone. */
  function newStart(cell, original) {
    var time = original.slice(11, 16);
    var hour = cell.dataset.hour !== undefined ? pad(parseInt(cell.dataset.hour, 10)) : time.slice(0, 2);
    return cell.dataset.day + "T" + hour + ":" + time.slice(3, 5) + ":00";
  }

  function status(text) {
    var line = document.querySelector(".calendar-status");
    if (line) line.textContent = text;
  }

  function reload() {
    var target = document.getElementById("calendar");
    if (window.htmx && target) {
      window.htmx.ajax("GET", window.location.href, { target: "#calendar", swap: "innerHTML" });
    } else {
      window.location.reload();
    }
  }

  var dragged = null;

  document.addEventListener("dragstart", function (event) {
    var item = event.target.closest && event.target.closest(".calendar-event[draggable=true]");
    if (!item) return;
    dragged = item;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.dataset.id);
  });

  document.addEventListener("dragover", function (event) {
    if (dragged && event.target.closest && event.target.closest(".calendar-drop")) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
    }
  });

  document.addEventListener("drop", function (event) {
    var cell = event.target.closest && event.target.closest(".calendar-drop");
    if (!dragged || !cell) return;
    event.preventDefault();
    var item = dragged;
    dragged = null;
    var line = document.querySelector(".calendar-status");
    var body = { id: item.dataset.id, version: item.dataset.version, start: newStart(cell, item.dataset.start) };
    cell.appendChild(item);
    fetch(line.dataset.moveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) { return { status: response.status, data: data }; });
    }).then(function (result) {
      if (result.status === 200) {
        status(line.dataset.moved);
        reload();
      } else if (result.status === 409) {
        status(result.data.detail || line.dataset.stale);
        reload();
      } else {
        status(result.data.detail || line.dataset.failed);
        reload();
      }
    }).catch(function () {
      status(line.dataset.failed);
      reload();
    });
  });

  document.addEventListener("dragend", function () { dragged = null; });
})();
