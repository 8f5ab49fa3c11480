// The issue page's upload box through tus (resumable uploads): progress with size and speed,
// pause and resume, automatic retry after a dropped connection, and resume after a reload or
// on another day (tus-js-client remembers each upload's URL in localStorage, keyed by the
// file's name, type, size and date).  Without JavaScript the form posts the file as it is.
// Served locally; the CSP allows no inline script.
"use strict";
(function () {
  var CHUNK_SIZE = 5 * 1024 * 1024;
  var RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 20000, 30000, 60000];

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) {
      return values[key] === undefined ? "" : String(values[key]);
    });
  }

  function size(bytes) {
    if (bytes >= 1024 * 1024) { return (bytes / (1024 * 1024)).toFixed(1) + " MB"; }
    return Math.max(1, Math.round(bytes / 1024)) + " KB";
  }

  function errorText(error) {
    var response = error && error.originalResponse;
    if (response) {
      try {
        var body = JSON.parse(response.getBody() || "{}");
        if (body.message) { return body.message; }
      } catch (ignored) { /* not JSON: fall through */ }
    }
    return String((error && error.message) || error);
  }

  function setUp(form) {
    var endpoint = form.dataset.tusEndpoint;
    var maxSize = parseInt(form.dataset.maxSize, 10);
    var inputs = form.querySelectorAll("input[type=file]");
    var note = form.querySelector("input[name=note]");
    var csrf = form.querySelector("input[name=csrf_token]").value;
    var box = form.querySelector(".upload-progress");
    var bar = box.querySelector(".progress-bar");
    var meter = box.querySelector(".progress");
    var status = box.querySelector(".upload-status");
    var errorBox = form.querySelector(".upload-error");
    var unfinished = form.querySelector(".upload-unfinished");
    var start = form.querySelector(".upload-start");
    var pause = form.querySelector(".upload-pause");
    var resume = form.querySelector(".upload-resume");
    var upload = null;
    var speed = { at: 0, bytes: 0, rate: 0 };

    function show(element, visible) { element.hidden = !visible; }

    function showError(text) {
      errorBox.textContent = form.dataset.msgFailed + " " + text;
      show(errorBox, true);
      show(pause, false);
      show(resume, false);
      show(start, true);
      window.setTimeout(function () { start.disabled = false; }, 0);
    }

    function progress(sent, total) {
      var now = Date.now();
      if (!speed.at || sent < speed.bytes) {
        speed = { at: now, bytes: sent, rate: 0 };
      } else if (now - speed.at >= 500) {
        var rate = (sent - speed.bytes) / ((now - speed.at) / 1000);
        speed = { at: now, bytes: sent, rate: speed.rate ? 0.7 * speed.rate + 0.3 * rate : rate };
      }
      var percent = total ? Math.floor((sent / total) * 100) : 0;
      bar.style.width = percent + "%";
      meter.setAttribute("aria-valuenow", String(percent));
      status.textContent = fill(form.dataset.msgProgress, {
        done: size(sent), total: size(total), speed: size(speed.rate || 0)
      });
    }

    // A page opened again (a reload, another day): say which uploads wait to go on.
    function listUnfinished() {
      var storage = tus.defaultOptions.urlStorage;
      if (!storage || !storage.findAllUploads) { return; }
      storage.findAllUploads().then(function (previous) {
        var mine = previous.filter(function (p) {
          return p.uploadUrl && p.uploadUrl.indexOf(endpoint + "/") !== -1;
        });
        if (!mine.length) { return; }
        var p = mine[mine.length - 1];
        var name = (p.metadata && p.metadata.filename) || "";
        unfinished.textContent = fill(form.dataset.msgUnfinished, { name: name });
        show(unfinished, true);
      }).catch(function () { /* storage unavailable: nothing to say */ });
    }

    function begin(file) {
      show(errorBox, false);
      if (file.size > maxSize) { showError(form.dataset.msgTooLarge); return; }
      var evidenceId = null;
      speed = { at: 0, bytes: 0, rate: 0 };
      upload = new tus.Upload(file, {
        endpoint: endpoint,
        chunkSize: CHUNK_SIZE,
        retryDelays: RETRY_DELAYS,
        metadata: { filename: file.name, note: note.value || "" },
        headers: { "X-CSRFToken": csrf },
        storeFingerprintForResuming: true,
        removeFingerprintOnSuccess: true,
        onProgress: progress,
        onShouldRetry: function (error, attempt, options) {
          var code = error.originalResponse ? error.originalResponse.getStatus() : 0;
          var retry = !code || code >= 500 || code === 409 || code === 423;
          if (retry) { status.textContent = form.dataset.msgRetrying; }
          return retry;
        },
        onAfterResponse: function (req, res) {
          var id = res.getHeader("Evidence-Id");
          if (id) { evidenceId = id; }
        },
        onError: function (error) {
          // A final refusal (a duplicate, a wrong type, too large): the server has let the
          // upload go, so the page must not offer to resume it next time.
          var code = error.originalResponse ? error.originalResponse.getStatus() : 0;
          var storage = tus.defaultOptions.urlStorage;
          if (code >= 400 && code < 500 && code !== 409 && code !== 423 && upload &&
              upload._urlStorageKey && storage && storage.removeUpload) {
            storage.removeUpload(upload._urlStorageKey).catch(function () { /* nothing kept */ });
          }
          showError(errorText(error));
        },
        onSuccess: function () {
          status.textContent = form.dataset.msgDone;
          show(pause, false);
          form.dataset.evidenceId = evidenceId || "";
          window.location.reload();
        }
      });
      show(box, true);
      show(start, false);
      show(pause, true);
      show(resume, false);
      progress(0, file.size);
      upload.findPreviousUploads().then(function (previous) {
        if (previous.length) { upload.resumeFromPreviousUpload(previous[0]); }
        show(unfinished, false);
        upload.start();
      });
    }

    form.addEventListener("submit", function (event) {
      var file = null;
      inputs.forEach(function (input) {
        if (!file && input.files && input.files.length) { file = input.files[0]; }
      });
      if (!file) { return; }  // the server says to choose a file
      event.preventDefault();
      begin(file);
    });

    pause.addEventListener("click", function () {
      if (!upload) { return; }
      upload.abort();
      show(pause, false);
      show(resume, true);
      status.textContent = fill(form.dataset.msgPaused, {
        done: size(speed.bytes), total: size(upload.file.size)
      });
    });

    resume.addEventListener("click", function () {
      if (!upload) { return; }
      show(resume, false);
      show(pause, true);
      speed = { at: 0, bytes: 0, rate: 0 };
      upload.start();
    });

    listUnfinished();
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.tus || !tus.isSupported) { return; }  // the plain form still works
    document.querySelectorAll("form.evidence-upload[data-tus-endpoint]").forEach(setUp);
  });
})();
