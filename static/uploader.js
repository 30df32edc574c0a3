// Uploads each chosen file as soon as it is picked, with a progress bar; a failed upload (a
// dropped connection on a phone) is retried automatically and can be retried by hand. The form
// then submits only the ids of files already stored.
(function () {
  "use strict";
  var form = document.getElementById("evidence-form");
  if (!form || !window.XMLHttpRequest) { return; }
  var input = form.querySelector("[data-uploader]");
  var list = form.querySelector("[data-upload-list]");
  var submit = form.querySelector("[data-submit]");
  var url = form.getAttribute("data-upload-url");
  var token = document.querySelector("meta[name=csrf-token]").getAttribute("content");
  var pending = 0;
  var AUTOMATIC_RETRIES = 3;

  function setBusy() {
    submit.disabled = pending > 0;
    submit.textContent = pending > 0 ? "Uploading…" : "Submit evidence";
  }

  function send(file, row, attempt) {
    var bar = row.querySelector("progress");
    var status = row.querySelector(".status");
    var retry = row.querySelector("button");
    retry.hidden = true;
    status.textContent = attempt > 0 ? "Retrying…" : "Uploading…";
    var xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("X-CSRFToken", token);
    xhr.setRequestHeader("X-Filename", encodeURIComponent(file.name));
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.onprogress = function (event) {
      if (event.lengthComputable) { bar.value = event.loaded / event.total; }
    };
    function failed(message, retryable) {
      if (retryable && attempt < AUTOMATIC_RETRIES) {
        status.textContent = "Connection lost, retrying…";
        window.setTimeout(function () { send(file, row, attempt + 1); }, 1000 * Math.pow(2, attempt));
        return;
      }
      row.classList.add("failed");
      status.textContent = message;
      retry.hidden = !retryable;
      pending -= 1;
      setBusy();
    }
    xhr.onload = function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
      if (xhr.status === 200) {
        bar.value = 1;
        row.classList.add("done");
        status.textContent = "Uploaded";
        var hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = "uploads";
        hidden.value = body.id;
        row.appendChild(hidden);
        pending -= 1;
        setBusy();
      } else {
        failed(body.error || ("Upload failed (" + xhr.status + ")"), xhr.status >= 500);
      }
    };
    xhr.onerror = function () { failed("Upload failed: connection lost.", true); };
    xhr.send(file);
  }

  function add(file) {
    var row = document.createElement("li");
    row.className = "upload";
    var name = document.createElement("span");
    name.className = "name";
    name.textContent = file.name;
    var bar = document.createElement("progress");
    bar.max = 1;
    bar.value = 0;
    var status = document.createElement("span");
    status.className = "status";
    var retry = document.createElement("button");
    retry.type = "button";
    retry.textContent = "Retry";
    retry.hidden = true;
    retry.addEventListener("click", function () {
      row.classList.remove("failed");
      pending += 1;
      setBusy();
      send(file, row, 0);
    });
    row.append(name, bar, status, retry);
    list.appendChild(row);
    pending += 1;
    setBusy();
    send(file, row, 0);
  }

  input.addEventListener("change", function () {
    Array.prototype.forEach.call(input.files, add);
    // The files are stored already; the form must not send them again.
    input.value = "";
  });
})();
