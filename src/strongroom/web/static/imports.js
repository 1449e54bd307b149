/* Strongroom: importing a backup file from the browser (messages/import.html).

   The file goes up with tus (static/vendor/tus-js-client-*.min.js) as an import upload
   (metadata purpose=import), resuming after a dropped connection like the locker's uploads.
   Then POST /api/v1/imports starts the import as a job, and GET /api/v1/imports/{id} is asked
   every second for its progress (a fraction, when the server can tell), its counts and its
   problems, until it is done or failed.  The password of an encrypted iPhone backup goes only
   in that POST; the server keeps it wrapped while the job waits and forgets it after. */
"use strict";

(function () {
  const S = window.Strongroom;
  const form = document.getElementById("import-form");
  if (!form || !window.tus) return;

  const CHUNK_BYTES = 8 * 1000 * 1000;
  const RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 20000, 30000];
  const POLL_MS = 1000;

  function byId(id) { return document.getElementById(id); }
  const run = byId("import-run");
  const bar = byId("import-bar");
  const step = byId("import-step");
  const detail = byId("import-detail");
  const result = byId("import-result");
  const problemList = byId("import-problems");
  const start = byId("import-start");

  const human = S.human;

  function count(n, one, many) { return n.toLocaleString() + " " + (n === 1 ? one : many); }

  function show(state, title, text, fraction) {
    run.hidden = false;
    run.dataset.state = state;
    step.textContent = title;
    detail.textContent = text || "";
    if (fraction === null || fraction === undefined) bar.removeAttribute("value");
    else bar.value = fraction;
  }

  function finish(message, isError) {
    result.replaceChildren();
    const p = document.createElement("p");
    p.className = isError ? "alert" : "notice";
    p.textContent = message;
    if (!isError) {
      p.append(" ");
      const link = document.createElement("a");
      link.href = "/messages";
      link.textContent = "Open your messages";
      p.append(link);
    }
    result.append(p);
    start.disabled = false;
  }

  function listProblems(problems, total) {
    problemList.replaceChildren();
    (problems || []).slice(0, 20).forEach(function (pr) {
      const li = document.createElement("li");
      li.textContent = pr.where + ": " + pr.message;
      problemList.append(li);
    });
    if (total > 20) {
      const li = document.createElement("li");
      li.textContent = "… and " + (total - 20) + " more";
      problemList.append(li);
    }
    problemList.hidden = !problemList.children.length;
  }

  function counts(c) {
    return (c.imported || 0).toLocaleString() + " new, " + (c.duplicates || 0).toLocaleString() +
      " already here" + (c.skipped ? ", " + c.skipped.toLocaleString() + " skipped" : "");
  }

  async function follow(id) {
    let status;
    try {
      status = await S.api("GET", "/api/v1/imports/" + encodeURIComponent(id));
    } catch (err) {
      show("waiting", "Importing…", "Reconnecting: " + err.message, null);
      window.setTimeout(function () { follow(id); }, 3 * POLL_MS);
      return;
    }
    const progress = status.progress || {};
    listProblems(status.problems, status.counts.problems);
    if (status.state === "done") {
      show("done", "Imported " + status.filename, counts(status.counts), 1);
      finish(counts(status.counts) + (status.counts.problems ? ", " + count(status.counts.problems, "problem", "problems") + " (listed below)." : "."), false);
      return;
    }
    if (status.state === "failed") {
      show("failed", "Not imported", status.filename, 0);
      finish("The import failed: " + (status.error || "unknown error") + ". What was read before the failure is kept.", true);
      return;
    }
    if (status.state === "queued") show("waiting", "Waiting to start…", status.filename, null);
    else if (status.state === "retrying") show("waiting", "Trying again shortly…", status.error || "", null);
    else {
      const fraction = typeof progress.fraction === "number" ? progress.fraction : null;
      const where = fraction === null ? "" : Math.floor(100 * fraction) + "% · ";
      show("importing", "Importing " + (progress.file || status.filename) + "…", where + counts(status.counts), fraction);
    }
    window.setTimeout(function () { follow(id); }, POLL_MS);
  }

  async function begin(uploadId, password) {
    show("waiting", "Starting the import…", "", null);
    const body = { upload: uploadId, format: "auto" };
    if (password) body.password = password;
    let started;
    try {
      started = await S.api("POST", "/api/v1/imports", body);
    } catch (err) {
      show("failed", "Not imported", "", 0);
      finish("The import could not start: " + err.message + ".", true);
      return;
    }
    follow(started.id);
  }

  function reason(err) {
    const response = err.originalResponse;
    if (!response) return navigator.onLine ? "the server cannot be reached" : "this device is offline";
    try {
      const problem = JSON.parse(response.getBody() || "{}");
      if (problem.detail) return problem.detail;
    } catch (e) { /* not JSON */ }
    return "the server answered " + response.getStatus();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const file = byId("import-file").files[0];
    if (!file) {
      show("failed", "Choose a file first", "", 0);
      return;
    }
    const password = byId("import-password").value;
    byId("import-password").value = "";
    start.disabled = true;
    result.replaceChildren();
    listProblems([], 0);
    show("uploading", "Uploading " + file.name + "…", "0 of " + human(file.size), 0);
    const upload = new window.tus.Upload(file, {
      endpoint: "/api/v1/uploads",
      chunkSize: CHUNK_BYTES,
      retryDelays: RETRY_DELAYS,
      headers: { "X-CSRF-Token": S.csrf() },
      metadata: { filename: file.name, purpose: "import" },
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      onProgress: function (sent) {
        show("uploading", "Uploading " + file.name + "…", human(sent) + " of " + human(file.size), sent / Math.max(file.size, 1));
      },
      onSuccess: function () {
        begin(upload.url.split("/").pop(), password);
      },
      onError: function (err) {
        show("failed", "Not uploaded", file.name, 0);
        finish("The file could not be uploaded: " + reason(err) + ".", true);
      },
    });
    upload.findPreviousUploads().then(function (previous) {
      if (previous.length) upload.resumeFromPreviousUpload(previous[0]);
      upload.start();
    }, function () { upload.start(); });
  });
})();
