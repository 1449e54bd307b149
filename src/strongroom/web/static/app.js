/* Strongroom: behaviour shared by every page — local times, confirmations, the toast (with Undo),
   and calls to the JSON API with the session's CSRF token.  Plain JavaScript, no build step;
   loaded as a file because the Content-Security-Policy allows no inline script. */
"use strict";

(function () {
  const Strongroom = {};
  window.Strongroom = Strongroom;

  Strongroom.csrf = function () {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  };

  /* A call to the JSON API; rejects with an Error carrying the problem's detail. */
  Strongroom.api = async function (method, url, body, options) {
    const headers = { "X-CSRF-Token": Strongroom.csrf(), Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(url, {
        method: method,
        headers: headers,
        credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
        keepalive: Boolean(options && options.keepalive),
      });
    } catch (err) {
      throw new Error("the server cannot be reached; check your connection");
    }
    if (!response.ok) {
      let detail = "the server answered " + response.status;
      try {
        const problem = await response.json();
        detail = problem.detail || problem.title || detail;
      } catch (err) { /* not a problem document */ }
      throw new Error(detail);
    }
    return response.status === 204 ? null : response.json();
  };

  /* An HTML fragment from one of the pages' routes, as a DocumentFragment. */
  Strongroom.fragment = async function (url) {
    let response;
    try {
      response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
    } catch (err) {
      throw new Error("the server cannot be reached; check your connection");
    }
    if (response.redirected) { /* logged out, or the account was cancelled: go where it says */
      window.location.assign(response.url);
      throw new Error("this page is no longer available");
    }
    if (!response.ok) throw new Error(response.status === 404 ? "it is not there any more" : "the server answered " + response.status);
    const template = document.createElement("template");
    template.innerHTML = await response.text();
    return template.content;
  };

  /* A byte count for people: decimal units, as the server's pages write them. */
  Strongroom.human = function (n) {
    const units = ["B", "kB", "MB", "GB", "TB"];
    let value = n;
    let unit = 0;
    while (Math.abs(value) >= 1000 && unit < units.length - 1) { value /= 1000; unit += 1; }
    return unit === 0 ? value + " B" : value.toFixed(1) + " " + units[unit];
  };

  /* Drag and drop of files onto the page: ``hover(true)`` while a drag that carries files is
     over it and ``hover(false)`` when it leaves or drops; ``dropped(files, folders)`` with the
     dropped files and how many folders were left out (a folder cannot be read as a file). */
  function carriesFiles(event) {
    return Boolean(event.dataTransfer) && Array.from(event.dataTransfer.types || []).indexOf("Files") >= 0;
  }

  function droppedFiles(transfer) {
    const files = [];
    let folders = 0;
    const entries = Array.from(transfer.items || []).map(function (item) {
      return item.kind === "file" && item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
    });
    Array.from(transfer.files).forEach(function (file, i) {
      if (entries[i] && entries[i].isDirectory) folders += 1;
      else files.push(file);
    });
    return { files: files, folders: folders };
  }

  Strongroom.onFileDrop = function (hover, dropped) {
    let depth = 0; /* enter and leave come for every element crossed */
    document.addEventListener("dragenter", function (event) {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth += 1;
      hover(true);
    });
    document.addEventListener("dragover", function (event) {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    });
    document.addEventListener("dragleave", function (event) {
      if (!carriesFiles(event)) return;
      depth = Math.max(0, depth - 1);
      if (!depth) hover(false);
    });
    document.addEventListener("drop", function (event) {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth = 0;
      hover(false);
      const found = droppedFiles(event.dataTransfer);
      dropped(found.files, found.folders);
    });
  };

  /* ---- times: the server writes UTC; show them in the reader's time zone and language ---- */
  const FORMATS = {
    time: { hour: "2-digit", minute: "2-digit" },
    date: { day: "numeric", month: "long", year: "numeric" },
    full: { dateStyle: "medium", timeStyle: "short" },
  };

  function sameDay(a, b) {
    return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
  }

  function shortDate(when) {
    const now = new Date();
    if (sameDay(when, now)) return new Intl.DateTimeFormat(undefined, FORMATS.time).format(when);
    const options = { day: "numeric", month: "short" };
    if (when.getFullYear() !== now.getFullYear()) options.year = "numeric";
    return new Intl.DateTimeFormat(undefined, options).format(when);
  }

  Strongroom.localise = function (root) {
    (root || document).querySelectorAll("time[datetime][data-format]").forEach(function (el) {
      const when = new Date(el.dateTime);
      if (Number.isNaN(when.getTime())) return;
      const format = el.dataset.format;
      el.title = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" }).format(when);
      if (format === "short") el.textContent = shortDate(when);
      else if (FORMATS[format]) el.textContent = new Intl.DateTimeFormat(undefined, FORMATS[format]).format(when);
      /* "relative" and "day" keep the server's text: relative times use the server's clock, and
         day separators group messages by the same (UTC) day the server used. */
    });
  };

  /* ---- the toast: a short message, optionally with Undo ---- */
  let pending = null;

  function finish(how) {
    if (!pending) return;
    const done = pending;
    pending = null;
    clearTimeout(done.timer);
    const box = document.getElementById("toast");
    const hadFocus = box.contains(document.activeElement);
    box.hidden = true;
    if (hadFocus && done.returnFocus) done.returnFocus.focus({ preventScroll: true });
    done.resolve(how);
  }

  /* Shows text for a few seconds; resolves "undo", "timeout", "replaced" (another toast came)
     or "leave" (the page is closing: finish the action now, with keepalive). */
  Strongroom.toast = function (text, options) {
    const opts = options || {};
    finish("replaced");
    const box = document.getElementById("toast");
    box.querySelector(".toast-text").textContent = text;
    const undo = box.querySelector(".toast-undo");
    undo.hidden = !opts.undo;
    box.classList.toggle("error", Boolean(opts.error));
    box.hidden = false;
    if (opts.undo && opts.focusUndo) undo.focus({ preventScroll: true });
    return new Promise(function (resolve) {
      pending = {
        resolve: resolve,
        returnFocus: opts.returnFocus || null,
        timer: setTimeout(function () { finish("timeout"); }, (opts.seconds || 6) * 1000),
      };
    });
  };

  Strongroom.error = function (text) {
    return Strongroom.toast(text, { error: true, seconds: 8 });
  };

  document.addEventListener("DOMContentLoaded", function () {
    Strongroom.localise(document);
    const box = document.getElementById("toast");
    box.querySelector(".toast-undo").addEventListener("click", function () { finish("undo"); });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && pending && !box.hidden) finish("timeout");
    });
  });

  window.addEventListener("pagehide", function () { finish("leave"); });

  /* Menus (<details class="menu">) close on Escape and on a click elsewhere. */
  function closeMenus(except) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (menu !== except) menu.open = false;
    });
  }
  document.addEventListener("click", function (event) {
    closeMenus(event.target.closest("details.menu"));
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    const menu = document.activeElement && document.activeElement.closest("details.menu[open]");
    closeMenus(null);
    if (menu) menu.querySelector("summary").focus();
  });

  /* Forms that need a second thought say so in data-confirm. */
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
})();
