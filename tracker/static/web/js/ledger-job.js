// The ledger job page: poll the job's status (a small JSON endpoint) and move the progress bar;
// reload the page once the job waits for the person (preview ready) or has finished.
(function () {
  "use strict";
  var box = document.getElementById("ledger-job-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-status-url");
  var bar = box.querySelector(".progress-bar");
  var text = document.getElementById("ledger-job-progress-text");
  var seen = [];
  box.setAttribute("data-seen", "");

  function show(status) {
    bar.style.width = status.percent + "%";
    bar.setAttribute("aria-valuenow", String(status.percent));
    bar.textContent = status.percent + "%";
    text.textContent = status.state_label + "：" + status.done + " / " + status.total;
    if (seen[seen.length - 1] !== status.percent) {
      seen.push(status.percent);
      box.setAttribute("data-seen", seen.join(","));
    }
  }

  function poll() {
    var request = new XMLHttpRequest();
    request.open("GET", url);
    request.setRequestHeader("Accept", "application/json");
    request.onload = function () {
      if (request.status !== 200) { setTimeout(poll, 2000); return; }
      var status = JSON.parse(request.responseText);
      show(status);
      if (status.finished) {
        setTimeout(function () { window.location.reload(); }, 400);
      } else {
        setTimeout(poll, 500);
      }
    };
    request.onerror = function () { setTimeout(poll, 2000); };
    request.send();
  }
  poll();
})();
