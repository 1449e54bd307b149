/* Strongroom locker: uploads, by the file picker or by dropping files on the page, with a
   progress bar per file and one for all of them.

   Uploads use tus (static/vendor/tus-js-client-*.min.js) in 8 MB requests: after a dropped
   connection the client asks the server how far it got (HEAD) and carries on from there,
   retrying for about a minute; when the browser says it is offline the upload waits and
   resumes by itself once it is back online.  The upload's address is remembered in
   localStorage, so a file chosen again after a reload continues where it stopped.  Uploads
   that cannot fit are refused before a byte is sent: here from /api/v1/usage, and by the
   server (413 quota-exceeded with free_bytes) for anything that changed meanwhile. */
"use strict";

(function () {
  const S = window.Strongroom;
  const locker = document.getElementById("locker");
  if (!locker || locker.dataset.view === "trash" || locker.dataset.view === "trash-folder") return;

  const ENDPOINT = "/api/v1/uploads";
  const CHUNK_BYTES = 8 * 1000 * 1000;
  const RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 20000, 30000];
  const AT_ONCE = 2;
  const jobs = [];
  let refreshTimer = null;

  function byId(id) { return document.getElementById(id); }

  const human = S.human;

  function tooBig(need, free, quota) {
    return "Not enough space: " + (need.count === 1 ? "this file needs " : "these " + need.count + " files need ") +
      human(need.bytes) + ", and " + human(free) + " of your " + human(quota) +
      " is free. Delete files you no longer need and empty the trash, or upload fewer at a time.";
  }

  /* What went wrong, in words, from a tus error (and the server's problem document). */
  function reason(err) {
    const response = err.originalResponse;
    if (!response) return navigator.onLine ? "the server cannot be reached" : "this device is offline";
    let problem = {};
    try { problem = JSON.parse(response.getBody() || "{}"); } catch (e) { /* not JSON */ }
    if (problem.code === "quota-exceeded") return "FULL:" + (problem.free_bytes || 0);
    if (problem.detail) return problem.detail;
    return "the server answered " + response.getStatus();
  }

  /* ------------------------------------------------------------------ the panel */

  function showPanel() {
    byId("uploads").hidden = false;
  }

  function alertText(text) {
    const box = byId("uploads-alert");
    box.textContent = text || "";
    box.hidden = !text;
    if (text) showPanel();
  }

  function summarise() {
    const live = jobs.filter(function (j) { return j.state !== "cancelled"; });
    const size = live.reduce(function (n, j) { return n + j.file.size; }, 0);
    const sent = live.reduce(function (n, j) { return n + j.sent; }, 0);
    const done = live.filter(function (j) { return j.state === "done"; }).length;
    const failed = live.filter(function (j) { return j.state === "failed"; }).length;
    const busy = live.length - done - failed;
    const total = byId("uploads-total");
    total.value = size ? sent / size : (live.length ? 1 : 0);
    let text;
    if (busy) text = "Uploading " + (done + failed + 1) + " of " + live.length + " · " + Math.floor(100 * total.value) + "%";
    else if (failed) text = done + " uploaded, " + failed + " failed";
    else text = done + " uploaded";
    byId("uploads-sum").textContent = text;
    byId("uploads-h").textContent = busy ? "Uploading" : "Uploads";
    total.setAttribute("aria-valuetext", text);
  }

  function setState(job, state, text) {
    job.state = state;
    job.li.dataset.state = state;
    job.status.textContent = text;
    job.cancel.hidden = state === "done" || state === "failed" || state === "cancelled";
    summarise();
  }

  function row(job) {
    const D = S.dialogs;
    job.bar = D.el("progress", { max: String(Math.max(job.file.size, 1)), value: "0", "aria-label": "Upload of " + job.file.name });
    job.status = D.el("span", { class: "upload-status", text: "Waiting" });
    job.cancel = D.el("button", { type: "button", class: "icon-button small", "aria-label": "Cancel the upload of " + job.file.name, title: "Cancel" }, [D.icon("close")]);
    job.name = D.el("span", { class: "upload-name", text: job.file.name });
    job.li = D.el("li", { class: "upload", "data-state": "waiting" }, [
      D.el("div", { class: "upload-top" }, [job.name, D.el("span", { class: "muted small", text: human(job.file.size) }), job.cancel]),
      job.bar,
      job.status,
    ]);
    job.cancel.addEventListener("click", function () { cancel(job); });
    byId("upload-list").append(job.li);
  }

  /* ------------------------------------------------------------------ uploading */

  function fingerprint(file) {
    /* The same file into the same folder of the same account resumes; anything else is new. */
    return Promise.resolve(["strongroom", locker.dataset.user, locker.dataset.folder || "",
      file.name, file.type, file.size, file.lastModified].join("/"));
  }


  function failed(job, err) {
    const why = reason(err);
    if (why.startsWith("FULL:")) {
      const free = Number(why.slice(5));
      setState(job, "failed", "Not uploaded: it needs " + human(job.file.size) + " and " + human(free) + " is free.");
      alertText("Your storage is full. Delete files you no longer need and empty the trash, then try again.");
    } else if (!navigator.onLine) {
      setState(job, "paused", "Offline: it carries on when the connection is back.");
      return;
    } else {
      setState(job, "failed", "Not uploaded: " + why + ".");
    }
    pump();
  }

  function options(job) {
    const folder = locker.dataset.folder || "";
    const metadata = { filename: job.file.name, mtime: String(Math.floor(job.file.lastModified / 1000)) };
    if (folder) metadata.folder = folder;
    return {
      endpoint: ENDPOINT,
      chunkSize: CHUNK_BYTES,
      retryDelays: RETRY_DELAYS,
      headers: { "X-CSRF-Token": S.csrf() },
      metadata: metadata,
      fingerprint: fingerprint,
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      onProgress: function (sent) {
        job.sent = sent;
        job.bar.value = sent;
        if (job.state !== "uploading") setState(job, "uploading", "");
        job.status.textContent = Math.floor(100 * sent / Math.max(job.file.size, 1)) + "% · " + human(sent) + " of " + human(job.file.size);
        summarise();
      },
      onShouldRetry: function (err) {
        const status = err.originalResponse ? err.originalResponse.getStatus() : 0;
        const retry = status === 0 || status >= 500 || status === 409 || status === 423;
        if (retry) {
          job.drops = (job.drops || 0) + 1;
          setState(job, "retrying", "Connection lost: resuming…");
        }
        return retry;
      },
      onAfterResponse: function (request, response) {
        const id = response.getHeader("Strongroom-File-Id");
        if (id) job.fileId = id;
      },
      onSuccess: function () {
        job.sent = job.file.size;
        job.bar.value = job.bar.max;
        setState(job, "done", job.drops ? "Uploaded (resumed after a dropped connection)" : "Uploaded");
        if (job.fileId) {
          const link = S.dialogs.el("a", { href: "/locker/f/" + job.fileId, class: "small", text: "Open" });
          link.setAttribute("aria-label", "Open " + job.file.name);
          job.status.append(" · ", link);
        }
        refreshSoon();
        pump();
      },
      onError: function (err) { failed(job, err); },
    };
  }

  async function run(job) {
    setState(job, "uploading", "Starting…");
    job.upload = new window.tus.Upload(job.file, options(job));
    try {
      const previous = await job.upload.findPreviousUploads();
      if (previous.length) {
        job.upload.resumeFromPreviousUpload(previous[0]);
        job.status.textContent = "Resuming an earlier upload…";
      }
    } catch (err) { /* nothing remembered: a new upload */ }
    job.upload.start();
  }

  function pump() {
    const running = jobs.filter(function (j) { return j.state === "uploading" || j.state === "retrying"; }).length;
    jobs.filter(function (j) { return j.state === "waiting"; }).slice(0, Math.max(0, AT_ONCE - running)).forEach(run);
    summarise();
  }

  function cancel(job) {
    if (job.upload && job.state !== "waiting") job.upload.abort(true).catch(function () { /* gone anyway */ });
    setState(job, "cancelled", "Cancelled");
    job.li.remove();
    pump();
  }

  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () {
      if (S.locker && S.locker.refresh) S.locker.refresh().catch(function () { /* shown on the next visit */ });
    }, 400);
  }

  /* Checks the space, then queues the files. */
  async function start(files) {
    if (!files.length) return;
    if (!window.tus || !window.tus.isSupported) {
      alertText("This browser cannot upload here. Use a current Firefox, Chrome, Edge or Safari.");
      return;
    }
    showPanel();
    alertText("");
    const need = { count: files.length, bytes: files.reduce(function (n, f) { return n + f.size; }, 0) };
    try {
      const usage = await S.api("GET", "/api/v1/usage");
      if (need.bytes > usage.free_bytes) {
        alertText(tooBig(need, usage.free_bytes, usage.quota_bytes));
        return;
      }
    } catch (err) { /* the server still refuses what will not fit */ }
    files.forEach(function (file) {
      const job = { file: file, sent: 0, state: "waiting" };
      jobs.push(job);
      row(job);
    });
    pump();
  }

  /* ------------------------------------------------------------------ picker and drop zone */

  function overlay(show) { byId("drop-overlay").hidden = !show; }

  /* Listening from the moment the script runs (not from DOMContentLoaded) keeps the gap in
     which a click on Upload does nothing as short as it can be. */
  document.addEventListener("click", function (event) {
    const input = byId("upload-input");
    if (input && event.target.closest('[data-action="pick-files"]')) input.click();
  });

  document.addEventListener("DOMContentLoaded", function () {
    const input = byId("upload-input");
    input.addEventListener("change", function () {
      start(Array.from(input.files));
      input.value = "";
    });
    S.onFileDrop(overlay, function (files, folders) {
      start(files);
      if (folders) {
        alertText("Folders cannot be dropped here yet: open a folder (or make one with New folder) in All files and drop its files there.");
      }
    });
    byId("uploads-close").addEventListener("click", function () {
      const busy = jobs.some(function (j) { return ["waiting", "uploading", "retrying", "paused"].indexOf(j.state) >= 0; });
      if (busy) {
        S.toast("Uploads carry on in the background while this page is open.");
      } else {
        jobs.length = 0;
        byId("upload-list").replaceChildren();
        alertText("");
      }
      byId("uploads").hidden = true;
    });
  });

  window.addEventListener("online", function () {
    jobs.filter(function (j) { return j.state === "paused"; }).forEach(function (job) {
      setState(job, "retrying", "Back online: resuming…");
      job.upload.start();
    });
  });

  window.addEventListener("beforeunload", function (event) {
    if (jobs.some(function (j) { return ["uploading", "retrying", "paused"].indexOf(j.state) >= 0; })) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
