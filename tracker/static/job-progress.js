// A job's page: poll its JSON and show its status, progress bar and file link.
(function () {
  var box = document.querySelector('[data-testid="job"]');
  function show(job) {
    box.querySelectorAll('[data-status]').forEach(function (el) { el.hidden = el.dataset.status !== job.status; });
    box.querySelector('[data-testid="job-progress"]').value = job.progress;
    box.querySelector('[data-testid="job-rows"]').textContent = job.rows;
    if (job.error) { box.querySelector('[data-testid="job-error"]').textContent = job.error.message; }
    var link = box.querySelector('[data-testid="job-file"]');
    if (job.file_url) { link.href = job.file_url; link.hidden = false; }
    return job.status === 'done' || job.status === 'failed';
  }
  function poll() {
    fetch(box.dataset.url, {credentials: 'same-origin'}).then(function (r) { return r.json(); })
      .then(function (job) {
        if (!show(job)) { setTimeout(poll, 1000); return; }
        // An import's result (links, row errors) is drawn by the server: show it.
        if (box.hasAttribute('data-reload-when-finished')) { window.location.reload(); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  poll();
})();
