/* Strongroom: importing backup files from the browser (messages/import.html).

   Files are chosen with the picker or dropped on the page; several go together (an SMS
   Backup & Restore sms-….xml with its calls-….xml, or backups from two phones).  Each goes up
   with tus (static/vendor/tus-js-client-*.min.js) as an import upload (metadata
   purpose=import), resuming after a dropped connection like the locker's uploads, one file at
   a time.  As soon as a file is up, POST /api/v1/imports starts its import as a job, and
   GET /api/v1/imports/{id} is asked every second for its progress (a fraction, when the server
   can tell), its counts and its problems, until it is done or failed; the next file uploads
   meanwhile.  A file that fails does not stop the others.  The password of an encrypted iPhone
   backup goes only in the POST; the server keeps it wrapped while the job waits and forgets it
   after. */
"use strict";

(function () {
  const S = window.Strongroom;
  const form = document.getElementById("import-form");
  if (!form || !window.tus) return;

  const CHUNK_BYTES = 8 * 1000 * 1000;
  const RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 20000, 30000];
  const POLL_MS = 1000;
  const PROBLEMS_SHOWN = 20;
  const OVER = ["done", "failed"];

  function byId(id) { return document.getElementById(id); }
  const input = byId("import-file");
  const chosen = byId("import-chosen");
  const run = byId("import-run");
  const bar = byId("import-bar");
  const step = byId("import-step");
  const detail = byId("import-detail");
  const fileList = byId("import-files");
  const result = byId("import-result");
  const problemList = byId("import-problems");
  const start = byId("import-start");

  const human = S.human;

  function count(n, one, many) { return n.toLocaleString() + " " + (n === 1 ? one : many); }

  function counts(c) {
    return (c.imported || 0).toLocaleString() + " new, " + (c.duplicates || 0).toLocaleString() +
      " already here" + (c.skipped ? ", " + c.skipped.toLocaleString() + " skipped" : "");
  }

  /* ------------------------------------------------------------------ one file */

  /* What one chosen file has got to: state is waiting, uploading, starting, queued, retrying,
     importing, done or failed; done is how far (0 to 1) where that can be told. */
  function Item(file) {
    this.file = file;
    this.state = "waiting";
    this.text = "Waiting for the files before it";
    this.done = 0;
    this.status = null; // the import's last GET
    this.error = "";
    this.row = document.createElement("li");
    this.row.innerHTML = '<span class="name"></span> <span class="muted small state"></span><progress max="1" value="0"></progress>';
    this.row.querySelector(".name").textContent = file.name;
    this.row.querySelector("progress").setAttribute("aria-label", file.name);
  }

  Item.prototype.set = function (state, text, done) {
    this.state = state;
    this.text = text || "";
    if (done !== undefined) this.done = done;
    this.row.dataset.state = state;
    this.row.querySelector(".state").textContent = this.text;
    const meter = this.row.querySelector("progress");
    if (this.done === null) meter.removeAttribute("value");
    else meter.value = this.done;
    overview();
  };

  Item.prototype.fail = function (text, error) {
    this.error = error;
    this.set("failed", text, 1);
  };

  function reason(err) {
    const response = err.originalResponse;
    if (!response) return navigator.onLine ? "the server cannot be reached" : "this device is offline";
    try {
      const problem = JSON.parse(response.getBody() || "{}");
      if (problem.detail) return problem.detail;
    } catch (e) { /* not JSON */ }
    return "the server answered " + response.getStatus();
  }

  /* Resolves with the upload's id, or null when it failed (the item says why). */
  function upload(item) {
    const file = item.file;
    item.set("uploading", "Uploading: 0 of " + human(file.size), 0);
    return new Promise(function (resolve) {
      const up = new window.tus.Upload(file, {
        endpoint: "/api/v1/uploads",
        chunkSize: CHUNK_BYTES,
        retryDelays: RETRY_DELAYS,
        headers: { "X-CSRF-Token": S.csrf() },
        metadata: { filename: file.name, purpose: "import" },
        storeFingerprintForResuming: true,
        removeFingerprintOnSuccess: true,
        onProgress: function (sent) {
          item.set("uploading", "Uploading: " + human(sent) + " of " + human(file.size), 0.5 * sent / Math.max(file.size, 1));
        },
        onSuccess: function () { resolve(up.url.split("/").pop()); },
        onError: function (err) {
          item.fail("Not uploaded", "the file could not be uploaded: " + reason(err));
          resolve(null);
        },
      });
      up.findPreviousUploads().then(function (previous) {
        if (previous.length) up.resumeFromPreviousUpload(previous[0]);
        up.start();
      }, function () { up.start(); });
    });
  }

  async function begin(item, uploadId, password) {
    item.set("starting", "Starting the import…", 0.5);
    const body = { upload: uploadId, format: "auto" };
    if (password) body.password = password;
    try {
      const started = await S.api("POST", "/api/v1/imports", body);
      item.id = started.id;
      item.set("queued", "Waiting to start…", null);
    } catch (err) {
      item.fail("Not imported", "the import could not start: " + err.message);
    }
  }

  /* Asks after the item's import once; true while it is not over. */
  async function follow(item) {
    let status;
    try {
      status = await S.api("GET", "/api/v1/imports/" + encodeURIComponent(item.id));
    } catch (err) {
      item.set(item.state, "Reconnecting: " + err.message, item.done);
      return true;
    }
    item.status = status;
    const c = status.counts;
    if (status.state === "done") {
      item.set("done", counts(c) + (c.problems ? ", " + count(c.problems, "problem", "problems") : ""), 1);
    } else if (status.state === "failed") {
      item.fail("Not imported", status.error || "unknown error");
    } else if (status.state === "queued") {
      item.set("queued", "Waiting to start…", null);
    } else if (status.state === "retrying") {
      item.set("retrying", "Trying again shortly… " + (status.error || ""), null);
    } else {
      const fraction = typeof (status.progress || {}).fraction === "number" ? status.progress.fraction : null;
      const where = fraction === null ? "" : Math.floor(100 * fraction) + "% · ";
      item.set("importing", "Importing… " + where + counts(c), fraction === null ? null : 0.5 + 0.5 * fraction);
    }
    return OVER.indexOf(item.state) < 0;
  }

  /* ------------------------------------------------------------------ all of them */

  let items = [];

  /* The run's headline and bar: for one file, that file; for several, where they stand. */
  function overview() {
    if (!items.length) return;
    run.hidden = false;
    fileList.hidden = items.length < 2;
    const over = items.filter(function (i) { return OVER.indexOf(i.state) >= 0; });
    const failed = items.filter(function (i) { return i.state === "failed"; });
    const busy = items.find(function (i) { return OVER.indexOf(i.state) < 0 && i.state !== "waiting"; });
    let state = busy ? (busy.state === "uploading" ? "uploading" : "importing") : "waiting";
    let title;
    if (over.length === items.length) {
      state = failed.length === items.length ? "failed" : "done";
      title = items.length === 1
        ? (failed.length ? "Not imported" : "Imported " + items[0].file.name)
        : "Imported " + (items.length - failed.length) + " of " + count(items.length, "file", "files");
    } else if (!busy) {
      title = "Getting ready…";
    } else if (items.length === 1) {
      title = { uploading: "Uploading " + busy.file.name + "…", starting: "Starting the import…",
        queued: "Waiting to start…", retrying: "Trying again shortly…" }[busy.state] ||
        "Importing " + ((busy.status && busy.status.progress.file) || busy.file.name) + "…";
    } else {
      title = (busy && busy.state === "uploading" ? "Uploading " : "Importing ") + count(items.length, "file", "files") + "…";
    }
    run.dataset.state = state;
    step.textContent = title;
    const only = items[0];
    detail.textContent = items.length > 1 ? over.length + " of " + items.length + " finished"
      : only.text === title ? only.file.name : only.text;
    const unknown = items.length === 1 && items[0].done === null;
    if (unknown) bar.removeAttribute("value");
    else bar.value = items.reduce(function (sum, i) { return sum + (i.done || 0); }, 0) / items.length;
  }

  function listProblems() {
    problemList.replaceChildren();
    let total = 0;
    const shown = [];
    items.forEach(function (item) {
      if (!item.status) return;
      total += item.status.counts.problems || 0;
      (item.status.problems || []).forEach(function (pr) { shown.push(pr); });
    });
    shown.slice(0, PROBLEMS_SHOWN).forEach(function (pr) {
      const li = document.createElement("li");
      li.textContent = pr.where + ": " + pr.message;
      problemList.append(li);
    });
    if (total > Math.min(shown.length, PROBLEMS_SHOWN)) {
      const li = document.createElement("li");
      li.textContent = "… and " + (total - Math.min(shown.length, PROBLEMS_SHOWN)) + " more";
      problemList.append(li);
    }
    problemList.hidden = !problemList.children.length;
  }

  function say(text, isError, withLink) {
    const p = document.createElement("p");
    p.className = isError ? "alert" : "notice";
    p.textContent = text;
    if (withLink) {
      p.append(" ");
      const link = document.createElement("a");
      link.href = "/messages";
      link.textContent = "Open your messages";
      p.append(link);
    }
    result.append(p);
  }

  function finish() {
    result.replaceChildren();
    const done = items.filter(function (i) { return i.state === "done"; });
    const failed = items.filter(function (i) { return i.state === "failed"; });
    if (items.length === 1 && failed.length) {
      say("The import failed: " + failed[0].error + ". What was read before the failure is kept.", true, false);
    } else {
      failed.forEach(function (i) {
        const prefix = i.file.name + ": "; // the server's reason often starts with the name
        const why = i.error.indexOf(prefix) === 0 ? i.error.slice(prefix.length) : i.error;
        say(i.file.name + " was not imported: " + why + ".", true, false);
      });
    }
    if (done.length) {
      const sum = { imported: 0, duplicates: 0, skipped: 0, problems: 0 };
      done.forEach(function (i) { Object.keys(sum).forEach(function (k) { sum[k] += i.status.counts[k] || 0; }); });
      const head = items.length > 1 ? count(done.length, "file", "files") + " imported: " : "";
      say(head + counts(sum) + (sum.problems ? ", " + count(sum.problems, "problem", "problems") + " (listed below)." : "."), false, true);
    }
    listProblems();
    start.disabled = false;
    refreshEarlier();
  }

  /* The page's list of earlier imports, fetched again now that these are among them. */
  function refreshEarlier() {
    S.fragment(window.location.pathname).then(function (page) {
      const fresh = page.getElementById("earlier-imports");
      const shown = byId("earlier-imports");
      if (fresh && shown) shown.replaceWith(fresh);
    }, function () { /* the list stays as it was until the page is reloaded */ });
  }

  /* Uploads the files one after another, starting each one's import as soon as it is up, and
     follows the imports until every one is over. */
  async function importAll(files, password) {
    items = files.map(function (f) { return new Item(f); });
    fileList.replaceChildren.apply(fileList, items.map(function (i) { return i.row; }));
    result.replaceChildren();
    problemList.replaceChildren();
    problemList.hidden = true;
    start.disabled = true;
    items.forEach(function (i) { i.set("waiting", i.text, 0); });
    let uploading = true;
    const following = (async function () {
      for (;;) {
        const open = items.filter(function (i) { return i.id !== undefined && OVER.indexOf(i.state) < 0; });
        await Promise.all(open.map(follow));
        listProblems();
        if (!uploading && items.every(function (i) { return OVER.indexOf(i.state) >= 0; })) return;
        await new Promise(function (r) { window.setTimeout(r, POLL_MS); });
      }
    })();
    for (const item of items) {
      const uploadId = await upload(item);
      if (uploadId) await begin(item, uploadId, password);
    }
    uploading = false;
    await following;
    finish();
  }

  /* ------------------------------------------------------------------ choosing */

  let picked = [];

  function choose(files) {
    picked = files;
    chosen.textContent = files.length > 1
      ? count(files.length, "file", "files") + ": " + files.map(function (f) { return f.name; }).join(", ")
      : "";
  }

  input.addEventListener("change", function () { choose(Array.from(input.files)); });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!picked.length) {
      items = [];
      run.hidden = false;
      run.dataset.state = "failed";
      step.textContent = "Choose a file first";
      detail.textContent = "";
      return;
    }
    const password = byId("import-password").value;
    byId("import-password").value = "";
    const files = picked;
    input.value = "";
    choose([]);
    importAll(files, password);
  });

  /* Files dropped anywhere on the page are chosen (folders cannot be read: zip them). */
  const zone = byId("import-drop");
  S.onFileDrop(function (on) { zone.classList.toggle("dragging", on); }, function (files, folders) {
    choose(files);
    if (folders) {
      chosen.textContent = (files.length ? chosen.textContent + " · " : "") +
        "A folder cannot be sent as it is: zip it (an iPhone backup, a folder of .eml files) and drop the zip.";
    } else if (files.length === 1) {
      chosen.textContent = "Chosen: " + files[0].name;
    }
  });
})();
