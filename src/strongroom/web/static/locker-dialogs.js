/* Strongroom locker: the dialogs — a question (a name, or "are you sure?"), sharing by link,
   choosing a folder to move to, and choosing an album.  Each returns a Promise; locker.js does
   the rest.  The markup is in templates/locker/_chrome.html. */
"use strict";

(function () {
  const S = window.Strongroom;
  const D = {};
  S.dialogs = D;

  function byId(id) { return document.getElementById(id); }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(function ([key, value]) {
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else node.setAttribute(key, value);
    });
    (children || []).forEach(function (child) { node.append(child); });
    return node;
  }
  D.el = el;

  function iconSvg(name) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", "icon");
    svg.setAttribute("aria-hidden", "true");
    const use = document.createElementNS(ns, "use");
    const known = document.querySelector("svg.icon use");
    const sprite = known ? known.getAttribute("href").split("#")[0] : "/static/icons.svg";
    use.setAttribute("href", sprite + "#" + name);
    svg.append(use);
    return svg;
  }
  D.icon = iconSvg;

  function joinPath(base, name) { return base ? base + "/" + name : name; }

  /* Close buttons, and a click on the backdrop, close any of the dialogs. */
  document.addEventListener("click", function (event) {
    const dialog = event.target.closest("dialog");
    if (!dialog) return;
    if (event.target === dialog || event.target.closest("[data-close]")) dialog.close();
  });

  /* ---- a question: a name ({label}) or a confirmation; resolves the text, true, or null.
     With {check}, a name is first checked here (check(name) returns what is wrong, or "");
     with {apply}, the dialog stays open until apply(name) resolves, and shows why it failed.
     {select}: [start, end] of the name to select at first (the whole name by default). ---- */
  /* A dialog's close event comes a moment after it closed.  Opened again before that (a key
     pressed at once), the dialog must not take that event for the close of its new opening: each
     opening first settles the one before it, then waits for a close seen while the dialog is
     shut. */
  const settling = new Map();

  function settlePrevious(dialog) {
    const settle = settling.get(dialog);
    if (settle) settle();
  }

  function untilClosed(dialog, settle) {
    function closed() { if (!dialog.open) done(); }
    function done() {
      settling.delete(dialog);
      dialog.removeEventListener("close", closed);
      settle();
    }
    settling.set(dialog, done);
    dialog.addEventListener("close", closed);
  }

  D.ask = function (o) {
    const dialog = byId("ask-dialog");
    settlePrevious(dialog);
    const form = byId("ask-form");
    const input = byId("ask-input");
    const label = byId("ask-label");
    const text = byId("ask-text");
    const ok = byId("ask-ok");
    const problem = byId("ask-problem");
    function say(what) {
      problem.textContent = what;
      problem.hidden = !what;
      if (what) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
    byId("ask-h").textContent = o.title;
    text.textContent = o.text || "";
    text.hidden = !o.text;
    label.textContent = o.label || "";
    label.hidden = input.hidden = !o.label;
    input.required = Boolean(o.label) && !o.check; /* with a check, its message says what is missing */
    input.value = o.value || "";
    ok.textContent = o.ok || "OK";
    ok.className = o.danger ? "danger" : "primary";
    ok.disabled = false;
    say("");
    if (dialog.open) dialog.close();
    dialog.returnValue = "";
    dialog.showModal();
    if (o.label) {
      input.focus();
      if (o.select) input.setSelectionRange(o.select[0], o.select[1]);
      else input.select();
    } else ok.focus();
    return new Promise(function (resolve) {
      async function submit(event) {
        event.preventDefault();
        if (ok.disabled) return;
        const value = input.value.trim();
        const wrong = o.check ? o.check(value) : "";
        if (wrong) { say(wrong); input.focus(); return; }
        if (o.label && !value) return;
        if (o.apply) {
          ok.disabled = true;
          try {
            await o.apply(value);
          } catch (err) {
            say(err.message.charAt(0).toUpperCase() + err.message.slice(1) + ".");
            input.focus();
            return;
          } finally {
            ok.disabled = false;
          }
        }
        dialog.close("ok");
      }
      function typed() { say(""); }
      function cancel(event) { if (ok.disabled) event.preventDefault(); } /* not while it is saving */
      form.addEventListener("submit", submit);
      input.addEventListener("input", typed);
      dialog.addEventListener("cancel", cancel);
      untilClosed(dialog, function () {
        form.removeEventListener("submit", submit);
        input.removeEventListener("input", typed);
        dialog.removeEventListener("cancel", cancel);
        if (dialog.returnValue !== "ok") resolve(null);
        else resolve(o.label ? input.value.trim() : true);
      });
    });
  };

  /* What is wrong with a file or folder name typed in, or "" (the server checks the rest). */
  D.nameProblem = function (name) {
    if (!name) return "Type a name.";
    if (name.includes("/")) return "A name cannot contain “/”.";
    return "";
  };

  /* ---- sharing: create links (password, expiry, download limit), copy, revoke ---- */
  let sharing = null;

  function when(ms) {
    return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" }).format(new Date(ms));
  }

  function linkFacts(s) {
    const facts = [s.has_password ? "password needed" : "no password"];
    facts.push(s.expires_at ? "expires " + when(s.expires_at) : "never expires");
    if (s.max_downloads) facts.push(s.downloads + " of " + s.max_downloads + " downloads used");
    else facts.push(s.downloads + " download" + (s.downloads === 1 ? "" : "s"));
    return facts.join(" · ");
  }

  async function copy(url, field) {
    try {
      await navigator.clipboard.writeText(url);
      S.toast("Link copied. Paste it in a message or an email.");
    } catch (err) {
      field.focus();
      field.select();
      S.toast("Press Ctrl+C (or ⌘C) to copy the selected link.");
    }
  }

  function linkItem(s) {
    const field = el("input", { class: "link-url", readonly: "", value: s.url, "aria-label": "Share link" });
    const copyButton = el("button", { type: "button", class: "small primary" }, [iconSvg("copy"), el("span", { text: "Copy" })]);
    const revoke = el("button", { type: "button", class: "small danger-outline" }, [el("span", { text: "Revoke" })]);
    copyButton.setAttribute("aria-label", "Copy the link");
    revoke.setAttribute("aria-label", "Revoke the link");
    const item = el("li", { class: "link", "data-share": s.id }, [
      el("div", { class: "link-row" }, [field, copyButton, revoke]),
      el("p", { class: "muted small link-facts", text: linkFacts(s) }),
    ]);
    copyButton.addEventListener("click", function () { copy(s.url, field); });
    field.addEventListener("focus", function () { field.select(); });
    revoke.addEventListener("click", async function () {
      revoke.disabled = true;
      try {
        await S.api("DELETE", "/api/v1/shares/" + s.id);
        item.remove();
        byId("share-none").hidden = byId("share-links").children.length > 0;
        S.toast("Link revoked: it no longer opens anything.");
        byId("share-form").querySelector("button[type=submit]").focus();
      } catch (err) {
        revoke.disabled = false;
        S.error("The link was not revoked: " + err.message + ".");
      }
    });
    return item;
  }

  async function loadLinks() {
    const list = byId("share-links");
    list.replaceChildren(el("li", { class: "muted small", text: "Loading links…" }));
    try {
      const found = (await S.api("GET", "/api/v1/shares")).shares.filter(function (s) {
        return s.kind === sharing.kind && s.target_id === String(sharing.id);
      });
      list.replaceChildren.apply(list, found.map(linkItem));
    } catch (err) {
      list.replaceChildren(el("li", { class: "alert", text: "Could not load the links: " + err.message + "." }));
    }
    byId("share-none").hidden = list.children.length > 0;
  }

  /* A day as <input type="date"> writes it (YYYY-MM-DD), in the reader's time zone. */
  function isoDay(day) {
    return day.getFullYear() + "-" + String(day.getMonth() + 1).padStart(2, "0") + "-" + String(day.getDate()).padStart(2, "0");
  }

  /* The last millisecond of that day in the reader's time zone, in epoch milliseconds. */
  function endOfDay(text) {
    const [year, month, day] = text.split("-").map(Number);
    return new Date(year, month - 1, day, 23, 59, 59, 999).getTime();
  }

  /* "On a date…" shows the date field (from tomorrow on); the other choices hide it. */
  function showExpiryDate() {
    const on = byId("share-expiry").value === "date";
    const date = byId("share-date");
    const tomorrow = new Date();
    tomorrow.setDate(tomorrow.getDate() + 1);
    date.min = isoDay(tomorrow);
    date.required = on;
    byId("share-date-box").hidden = !on;
  }

  D.share = function (kind, id, label) {
    sharing = { kind: kind, id: id };
    byId("share-title").textContent = "Share " + label;
    byId("share-form").reset();
    showExpiryDate();
    byId("share-dialog").showModal();
    byId("share-password").focus();
    loadLinks();
  };

  function shareRequest() {
    const body = { kind: sharing.kind, target_id: String(sharing.id) };
    const password = byId("share-password").value;
    const days = byId("share-expiry").value;
    const limit = byId("share-limit").value;
    if (password) body.password = password;
    if (days === "date") body.expires_at = endOfDay(byId("share-date").value);
    else if (days) body.expires_at = Date.now() + Number(days) * 86400000;
    if (limit) body.max_downloads = Number(limit);
    return body;
  }

  document.addEventListener("DOMContentLoaded", function () {
    const form = byId("share-form");
    if (!form) return;
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const made = await S.api("POST", "/api/v1/shares", shareRequest());
        const item = linkItem(made);
        item.classList.add("new");
        byId("share-links").prepend(item);
        byId("share-none").hidden = true;
        form.reset();
        showExpiryDate();
        item.querySelector("button").focus();
        S.toast(made.has_password ? "Link made. Send the password separately." : "Link made.");
      } catch (err) {
        S.error("No link was made: " + err.message + ".");
      } finally {
        button.disabled = false;
      }
    });
    byId("share-expiry").addEventListener("change", showExpiryDate); /* the date comes next */
    byId("move-new").addEventListener("submit", newFolderHere);
    byId("album-new").addEventListener("submit", newAlbum);
    byId("move-here").addEventListener("click", function () { byId("move-dialog").close("ok"); });
  });

  /* ---- moving: browse to a folder (or make one) and pick it; resolves the path or null ---- */
  let browsing = "";

  async function browse(path) {
    browsing = path;
    const crumbs = byId("move-crumbs");
    const parts = path ? path.split("/") : [];
    const steps = [{ name: "All files", path: "" }].concat(parts.map(function (name, i) {
      return { name: name, path: parts.slice(0, i + 1).join("/") };
    }));
    crumbs.replaceChildren.apply(crumbs, steps.map(function (step, i) {
      if (i === steps.length - 1) return el("li", {}, [el("span", { "aria-current": "location", text: step.name })]);
      const button = el("button", { type: "button", class: "link-button", text: step.name });
      button.addEventListener("click", function () { browse(step.path); });
      return el("li", {}, [button]);
    }));
    const list = byId("move-folders");
    list.replaceChildren(el("li", { class: "muted small", text: "Loading folders…" }));
    try {
      const found = (await S.api("GET", "/api/v1/folders?parent=" + encodeURIComponent(path))).folders;
      list.replaceChildren.apply(list, found.map(function (f) {
        const button = el("button", { type: "button", class: "pick-item" }, [iconSvg("folder"), el("span", { text: f.name })]);
        button.addEventListener("click", function () { browse(f.path); });
        return el("li", {}, [button]);
      }));
      if (!found.length) list.replaceChildren(el("li", { class: "muted small", text: "No folders inside. Move here, or make one below." }));
    } catch (err) {
      list.replaceChildren(el("li", { class: "alert", text: "Could not list the folders: " + err.message + "." }));
    }
    byId("move-here").textContent = "Move to “" + (path || "All files") + "”";
  }

  async function newFolderHere(event) {
    event.preventDefault();
    const input = byId("move-new-name");
    try {
      const made = await S.api("POST", "/api/v1/folders", { path: joinPath(browsing, input.value.trim()) });
      input.value = "";
      browse(made.path);
    } catch (err) {
      S.error("The folder was not made: " + err.message + ".");
    }
  }

  D.move = function (title, from) {
    const dialog = byId("move-dialog");
    settlePrevious(dialog);
    byId("move-title").textContent = title;
    if (dialog.open) dialog.close();
    dialog.returnValue = "";
    browse(from || "");
    dialog.showModal();
    return new Promise(function (resolve) {
      untilClosed(dialog, function () { resolve(dialog.returnValue === "ok" ? browsing : null); });
    });
  };

  /* ---- albums: pick one, or make one; resolves {id, name} or null ---- */
  let picked = null;

  async function newAlbum(event) {
    event.preventDefault();
    const input = byId("album-new-name");
    try {
      picked = await S.api("POST", "/api/v1/albums", { name: input.value.trim() });
      input.value = "";
      byId("album-dialog").close("ok");
    } catch (err) {
      S.error("The album was not made: " + err.message + ".");
    }
  }

  D.album = async function (title) {
    const dialog = byId("album-dialog");
    settlePrevious(dialog);
    const list = byId("album-choices");
    byId("album-title").textContent = title;
    picked = null;
    if (dialog.open) dialog.close();
    dialog.returnValue = "";
    list.replaceChildren(el("li", { class: "muted small", text: "Loading albums…" }));
    dialog.showModal();
    const closed = new Promise(function (resolve) {
      untilClosed(dialog, function () { resolve(dialog.returnValue === "ok" ? picked : null); });
    });
    try {
      const found = (await S.api("GET", "/api/v1/albums")).albums;
      list.replaceChildren.apply(list, found.map(function (a) {
        const button = el("button", { type: "button", class: "pick-item" }, [
          iconSvg("album"), el("span", { text: a.name }),
          el("span", { class: "muted small", text: a.count + " item" + (a.count === 1 ? "" : "s") }),
        ]);
        button.addEventListener("click", function () { picked = a; dialog.close("ok"); });
        return el("li", {}, [button]);
      }));
      if (!found.length) list.replaceChildren(el("li", { class: "muted small", text: "No albums yet: name a new one below." }));
      if (found.length) list.querySelector("button").focus();
      else byId("album-new-name").focus();
    } catch (err) {
      list.replaceChildren(el("li", { class: "alert", text: "Could not list the albums: " + err.message + "." }));
    }
    return closed;
  };
})();
