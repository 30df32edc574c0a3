// Uploads each chosen file as soon as it is picked, with a progress bar; the form then submits
// only the ids of files already stored. A file over the size limit is refused before sending.
// Files larger than one part go in parts (portfolio/evidence/resumable.py): after a dropped
// connection (a phone losing its signal) the uploader asks which parts arrived and sends only
// the rest, by itself a few times and then when the learner presses Retry. Any file in the list
// can be removed; a stored one is discarded on the server too. Progress is announced to screen
// readers once per tenth of each file.
(function () {
  "use strict";
  var form = document.getElementById("evidence-form");
  if (!form || !window.XMLHttpRequest) { return; }
  var input = form.querySelector("[data-uploader]");
  var list = form.querySelector("[data-upload-list]");
  var submit = form.querySelector("[data-submit]");
  var announcer = form.querySelector("[data-upload-announcer]");
  var uploadUrl = form.getAttribute("data-upload-url");
  var resumableUrl = form.getAttribute("data-resumable-url");
  var discardUrl = form.getAttribute("data-discard-url");
  var maxBytes = Number(form.getAttribute("data-upload-max"));
  var token = document.querySelector("meta[name=csrf-token]").getAttribute("content");
  var pending = 0;
  var AUTOMATIC_RETRIES = 3;
  // Files up to one part go in one request; larger ones in parts the server announces.
  var ONE_REQUEST_MAX = 8 * 1024 * 1024;
  var UNITS = ["KB", "MB", "GB", "TB"];

  // As portfolio.core.uploads.human_size: "2 GB", "1.5 MB", binary multiples.
  function humanSize(n) {
    var exponent = 0;
    while (exponent < UNITS.length && n >= Math.pow(1024, exponent + 1)) { exponent += 1; }
    if (exponent === 0) { return n === 1 ? "1 byte" : n + " bytes"; }
    var value = n / Math.pow(1024, exponent);
    var text = value < 10 ? value.toFixed(1).replace(/\.0$/, "") : Math.round(value).toString();
    return text + " " + UNITS[exponent - 1];
  }

  function tooLarge(size, limit) {
    return "This file is " + humanSize(size) + "; the limit is " + humanSize(limit) + ".";
  }

  function setBusy() {
    submit.disabled = pending > 0;
    submit.textContent = pending > 0 ? "Uploading…" : "Submit evidence";
  }

  function announce(text) { announcer.textContent = text; }

  function parse(xhr) {
    try { return JSON.parse(xhr.responseText) || {}; } catch (e) { return {}; }
  }

  // What went wrong, in words a learner can act on; true when trying again may help.
  function explain(xhr, file) {
    var body = parse(xhr);
    switch (xhr.status) {
      case 0: return ["The connection was lost. Check your signal, then press Retry.", true];
      case 400: return [body.error || "This page has expired: reload it and add the file again.", false];
      case 401: case 403: return ["You are no longer logged in: log in again in another tab, then press Retry.", true];
      case 404: return ["This upload has expired: remove it and add the file again.", false];
      case 413: return [body.error || tooLarge(file.size, body.limit || maxBytes), false];
      case 422: return [body.error || "This file cannot be used as evidence.", false];
      default: return [body.error || "Something went wrong on our side. Press Retry, or try again later.", true];
    }
  }

  function request(method, url, body, headers) {
    var xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.setRequestHeader("X-CSRFToken", token);
    Object.keys(headers || {}).forEach(function (name) { xhr.setRequestHeader(name, headers[name]); });
    return xhr;
  }

  // One file in the list: its row, its state, and how it is sent, retried and removed.
  function Upload(file) {
    this.file = file;
    this.attempt = 0;
    this.ticket = null;
    this.xhr = null;
    this.announced = 0;
    this.row = this.draw();
  }

  Upload.prototype.draw = function () {
    var self = this;
    var row = document.createElement("li");
    row.className = "upload";
    var name = document.createElement("span");
    name.className = "name";
    var size = document.createElement("span");
    size.className = "meta";
    size.textContent = "(" + humanSize(this.file.size) + ")";
    name.append(this.file.name + " ", size);
    this.bar = document.createElement("progress");
    this.bar.max = 1;
    this.bar.value = 0;
    this.bar.setAttribute("aria-label", "Upload of " + this.file.name);
    this.status = document.createElement("span");
    this.status.className = "status";
    var actions = document.createElement("span");
    actions.className = "actions";
    this.retry = button("Retry", "Retry " + this.file.name, function () { self.start(); });
    this.retry.hidden = true;
    var remove = button("Remove", "Remove " + this.file.name, function () { self.remove(); });
    actions.append(this.retry, remove);
    row.append(name, this.bar, this.status, actions);
    return row;
  };

  function button(text, label, onclick) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "secondary";
    b.textContent = text;
    b.setAttribute("aria-label", label);
    b.addEventListener("click", onclick);
    return b;
  }

  Upload.prototype.start = function () {
    this.row.classList.remove("failed");
    this.retry.hidden = true;
    this.attempt = 0;
    this.busy(true);
    this.send();
  };

  // Whether the file holds back the form's submit button.
  Upload.prototype.busy = function (busy) {
    if (busy === Boolean(this.counted)) { return; }
    this.counted = busy;
    pending += busy ? 1 : -1;
    setBusy();
  };

  Upload.prototype.send = function () {
    if (this.removed) { return; }
    this.status.textContent = this.attempt > 0 ? "Retrying…" : "Uploading…";
    if (this.file.size > ONE_REQUEST_MAX) { this.sendInParts(); } else { this.sendWhole(); }
  };

  Upload.prototype.progress = function (loaded) {
    var fraction = this.file.size ? Math.min(1, loaded / this.file.size) : 1;
    this.bar.value = fraction;
    var tenths = Math.floor(fraction * 10);
    if (tenths > this.announced && tenths < 10) {
      this.announced = tenths;
      announce(this.file.name + ": " + tenths * 10 + "% uploaded.");
    }
  };

  Upload.prototype.sendWhole = function () {
    var self = this;
    var xhr = this.xhr = request("POST", uploadUrl, null, {
      "X-Filename": encodeURIComponent(this.file.name),
      "Content-Type": "application/octet-stream"
    });
    xhr.upload.onprogress = function (event) { self.progress(event.loaded); };
    xhr.onload = function () {
      if (xhr.status === 200) { self.stored(parse(xhr)); } else { self.failed(xhr); }
    };
    xhr.onerror = function () { self.failed(xhr); };
    xhr.send(this.file);
  };

  // Begin (once), ask which parts the server has, send the others one by one, then finish.
  Upload.prototype.sendInParts = function () {
    var self = this;
    if (!this.ticket) {
      var begin = this.xhr = request("POST", resumableUrl, null, {"Content-Type": "application/json"});
      begin.onload = function () {
        if (begin.status !== 201) { self.failed(begin); return; }
        var body = parse(begin);
        self.ticket = body.ticket;
        self.partSize = body.part_size;
        self.sendParts([]);
      };
      begin.onerror = function () { self.failed(begin); };
      begin.send(JSON.stringify({size: this.file.size}));
      return;
    }
    var status = this.xhr = request("GET", this.partsUrl(""));
    status.onload = function () {
      if (status.status !== 200) { self.failed(status); return; }
      self.sendParts(parse(status).parts || []);
    };
    status.onerror = function () { self.failed(status); };
    status.send();
  };

  Upload.prototype.partsUrl = function (tail) {
    return resumableUrl + "/" + encodeURIComponent(this.ticket) + tail;
  };

  Upload.prototype.sendParts = function (done) {
    var self = this;
    var count = Math.ceil(this.file.size / this.partSize);
    var missing = [];
    for (var n = 1; n <= count; n += 1) { if (done.indexOf(n) < 0) { missing.push(n); } }
    var received = (count - missing.length) * this.partSize;
    function next() {
      if (!missing.length) { self.finish(); return; }
      var number = missing[0];
      var part = self.file.slice((number - 1) * self.partSize, number * self.partSize);
      var xhr = self.xhr = request("PUT", self.partsUrl("/parts/" + number), null,
                                   {"Content-Type": "application/octet-stream"});
      xhr.upload.onprogress = function (event) { self.progress(received + event.loaded); };
      xhr.onload = function () {
        if (xhr.status !== 200) { self.failed(xhr); return; }
        missing.shift();
        received += part.size;
        self.attempt = 0;  // progress was made: a later drop gets its own retries
        self.progress(received);
        next();
      };
      xhr.onerror = function () { self.failed(xhr); };
      xhr.send(part);
    }
    this.progress(Math.min(received, this.file.size));
    next();
  };

  Upload.prototype.finish = function () {
    var self = this;
    this.status.textContent = "Checking the file…";
    var xhr = this.xhr = request("POST", this.partsUrl("/finish"), null,
                                 {"X-Filename": encodeURIComponent(this.file.name)});
    xhr.onload = function () {
      if (xhr.status === 200) { self.ticket = null; self.stored(parse(xhr)); } else { self.failed(xhr); }
    };
    xhr.onerror = function () { self.failed(xhr); };
    xhr.send();
  };

  Upload.prototype.stored = function (body) {
    this.xhr = null;
    this.bar.value = 1;
    this.row.classList.add("done");
    this.row.setAttribute("data-upload-id", body.id);
    this.status.textContent = "Uploaded";
    announce(this.file.name + " uploaded.");
    var hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = "uploads";
    hidden.value = body.id;
    this.row.appendChild(hidden);
    this.busy(false);
  };

  Upload.prototype.failed = function (xhr) {
    var self = this;
    if (this.removed) { return; }
    this.xhr = null;
    var explained = explain(xhr, this.file);
    if (explained[1] && this.attempt < AUTOMATIC_RETRIES) {
      this.status.textContent = "Connection lost, retrying…";
      window.setTimeout(function () { self.attempt += 1; self.send(); }, 1000 * Math.pow(2, this.attempt));
      return;
    }
    this.refuse(explained[0]);
    this.retry.hidden = !explained[1];
    this.busy(false);
  };

  Upload.prototype.refuse = function (message) {
    this.row.classList.add("failed");
    this.status.textContent = message;
    announce(this.file.name + ": " + message);
  };

  Upload.prototype.remove = function () {
    this.removed = true;
    if (this.xhr) { this.xhr.abort(); }
    this.busy(false);
    if (this.ticket) {
      request("POST", this.partsUrl("/abort")).send();  // else the sweep clears its parts
    }
    var id = this.row.getAttribute("data-upload-id");
    if (id) { discard(this.row, this.file.name); } else { forget(this.row, this.file.name); }
  };

  // A stored upload leaves the list once the server has discarded it.
  function discard(row, name) {
    var xhr = request("POST", discardUrl.replace(/\/0\/discard$/, "/" + row.getAttribute("data-upload-id") + "/discard"));
    xhr.onload = function () {
      if (xhr.status === 200) { forget(row, name); return; }
      row.classList.add("failed");
      row.querySelector(".status").textContent = "Could not remove " + name + ": " + explain(xhr, {size: 0})[0];
    };
    xhr.onerror = function () {
      row.querySelector(".status").textContent = "Could not remove " + name + ": the connection was lost. Try again.";
    };
    xhr.send();
  }

  function forget(row, name) {
    row.remove();
    announce(name + " removed.");
    input.focus();
  }

  function add(file) {
    var upload = new Upload(file);
    list.appendChild(upload.row);
    if (file.size > maxBytes) {
      upload.refuse(tooLarge(file.size, maxBytes));
      return;
    }
    upload.start();
  }

  // Rows the server drew after a refused form: files stored already, removable here.
  Array.prototype.forEach.call(list.querySelectorAll("li[data-upload-id]"), function (row) {
    var button = row.querySelector("[data-remove]");
    var name = row.querySelector(".name").firstChild.textContent.trim();
    button.hidden = false;
    button.addEventListener("click", function () { discard(row, name); });
  });

  input.addEventListener("change", function () {
    Array.prototype.forEach.call(input.files, add);
    // The files are stored already; the form must not send them again.
    input.value = "";
  });
})();
