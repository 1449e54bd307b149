/* Strongroom locker: listings (more on scroll, thumbnails that arrive while you look), selecting
   (checkboxes; a long press on touch screens) and the viewer with a file's details.  Pages and
   fragments come from the server.  What the buttons do is in locker-actions.js, the dialogs in
   locker-dialogs.js, uploads in uploads.js. */
"use strict";

(function () {
  const S = window.Strongroom;
  const D = S.dialogs;
  const locker = document.getElementById("locker");
  if (!locker) return;
  const view = locker.dataset.view;
  const listing = document.getElementById("listing");
  const LONG_PRESS_MS = 500;
  S.locker = {};

  function items() { return listing ? Array.from(listing.querySelectorAll("li.item[data-id]")) : []; }
  function itemOf(id) { return listing && listing.querySelector('li.item[data-id="' + id + '"]'); }

  /* ------------------------------------------------------------------ listing */

  const moreObserver = "IntersectionObserver" in window
    ? new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) { if (entry.isIntersecting) loadMore(entry.target); });
    }, { rootMargin: "600px" })
    : null;

  function watchMore() {
    const more = listing && listing.querySelector("li.more");
    if (more && moreObserver) moreObserver.observe(more);
  }

  /* A fragment's month headings and items that the listing already has are dropped. */
  function dropSeen(fragment) {
    fragment.querySelectorAll("li.month").forEach(function (li) {
      if (listing.querySelector('li.month[data-month="' + li.dataset.month + '"]')) li.remove();
    });
    fragment.querySelectorAll("li.item[data-id]").forEach(function (li) {
      if (itemOf(li.dataset.id)) li.remove();
    });
  }

  async function loadMore(more) {
    if (more.classList.contains("loading")) return;
    if (moreObserver) moreObserver.unobserve(more);
    more.classList.add("loading");
    try {
      const fragment = await S.fragment(more.dataset.next + "&partial=1");
      dropSeen(fragment);
      S.localise(fragment);
      more.replaceWith(fragment);
      watchMore();
      pollSoon();
    } catch (err) {
      more.classList.remove("loading");
      S.error("Could not load more: " + err.message + ".");
    }
  }

  /* The first page again, and the storage figures (after uploads and other changes). */
  S.locker.refresh = async function () {
    if (!listing) return;
    const picked = new Set(selected());
    const page = await S.fragment(window.location.pathname);
    const fresh = page.querySelector("#listing");
    if (!fresh) return;
    S.localise(fresh);
    listing.replaceChildren.apply(listing, Array.from(fresh.childNodes));
    listing.querySelectorAll(".pick").forEach(function (box) { box.checked = picked.has(box.value); });
    const empty = document.getElementById("empty");
    if (empty) empty.hidden = listing.children.length > 0;
    [".locker-usage", ".locker-actions", ".crumbs"].forEach(function (what) { /* figures, buttons */
      const now = document.querySelector(".locker-head " + what);
      const next = page.querySelector(".locker-head " + what);
      if (now && next && now.innerHTML !== next.innerHTML) now.replaceWith(next);
    });
    watchMore();
    pollSoon();
    selectionChanged();
  };

  /* ---- thumbnails are made in the background: ask again for tiles still waiting ---- */
  let pollTimer = null;
  let pollDelay = 1500;
  let pollUntil = 0;

  function pollSoon() {
    pollDelay = 1500;
    pollUntil = Date.now() + 10 * 60 * 1000;
    clearTimeout(pollTimer);
    pollTimer = setTimeout(poll, pollDelay);
  }

  async function poll() {
    const waiting = listing ? Array.from(listing.querySelectorAll("li.item[data-pending]")) : [];
    if (!waiting.length || Date.now() > pollUntil) return;
    const ids = waiting.slice(0, 60).map(function (li) { return li.dataset.id; });
    try {
      const fragment = await S.fragment("/locker/tiles?layout=" + (listing.dataset.layout || "grid") + "&view=" + view + "&ids=" + ids.join(","));
      const ready = Array.from(fragment.querySelectorAll("li.item[data-id]:not([data-pending])"));
      if (ready.length && view === "photos") {
        /* The date taken comes with the thumbnail: it can move photos to another month. */
        await S.locker.refresh();
        return;
      }
      ready.forEach(function (fresh) {
        const old = itemOf(fresh.dataset.id);
        if (!old) return;
        fresh.querySelector(".pick").checked = old.querySelector(".pick").checked;
        const cover = old.querySelector(".cover-badge");
        if (cover) markCover(fresh, !cover.hidden);
        S.localise(fresh);
        old.replaceWith(fresh);
      });
    } catch (err) { /* the next round tries again */ }
    pollDelay = Math.min(pollDelay * 1.5, 10000);
    pollTimer = setTimeout(poll, pollDelay);
  }

  /* ------------------------------------------------------------------ selection */

  const selbar = document.getElementById("selbar");

  function selected() {
    return listing ? Array.from(listing.querySelectorAll(".pick:checked")).map(function (box) { return box.value; }) : [];
  }

  function selectionChanged() {
    const ids = selected();
    document.body.classList.toggle("selecting", ids.length > 0);
    if (!selbar) return;
    selbar.hidden = ids.length === 0;
    const count = document.getElementById("selcount");
    count.replaceChildren(D.el("strong", { text: String(ids.length) }), D.el("span", { class: "sel-word", text: " selected" }));
    listing.querySelectorAll("li.item").forEach(function (li) {
      const box = li.querySelector(".pick");
      li.classList.toggle("picked", Boolean(box && box.checked));
    });
  }

  function clearSelection() {
    if (!listing) return;
    listing.querySelectorAll(".pick:checked").forEach(function (box) { box.checked = false; });
    selectionChanged();
  }

  function toggle(li) {
    const box = li.querySelector(".pick");
    if (!box) return;
    box.checked = !box.checked;
    selectionChanged();
  }

  /* Touch: a long press selects (as in phone galleries); afterwards a tap toggles. */
  let pressTimer = null;
  let pressed = null;
  let pressAt = null;

  function startPress(event) {
    const li = event.target.closest("li.item[data-id], li.folder[data-folder-id]");
    if (!li || event.pointerType === "mouse") return;
    pressed = null;
    pressAt = [event.clientX, event.clientY];
    pressTimer = setTimeout(function () {
      pressed = li;
      toggle(li);
      if (navigator.vibrate) navigator.vibrate(15);
    }, LONG_PRESS_MS);
  }

  function endPress() { clearTimeout(pressTimer); }

  function movePress(event) { /* a finger that moves is scrolling, not pressing */
    if (pressAt && Math.hypot(event.clientX - pressAt[0], event.clientY - pressAt[1]) > 10) endPress();
  }

  /* ------------------------------------------------------------------ the viewer */

  const viewer = document.getElementById("viewer");
  const viewerBody = document.getElementById("viewer-body");
  let showing = null;

  function neighbour(step) {
    const all = items();
    const at = all.findIndex(function (li) { return li.dataset.id === showing; });
    return at < 0 ? null : all[at + step] || null;
  }

  async function show(id) {
    showing = id;
    document.getElementById("viewer-open").href = "/locker/f/" + id;
    viewerBody.replaceChildren(D.el("p", { class: "muted viewer-loading", text: "Loading…" }));
    viewer.querySelector('[data-viewer="prev"]').disabled = !neighbour(-1);
    viewer.querySelector('[data-viewer="next"]').disabled = !neighbour(1);
    try {
      const fragment = await S.fragment("/locker/f/" + id + "?partial=1");
      if (showing !== id) return;
      S.localise(fragment);
      viewerBody.replaceChildren(fragment);
    } catch (err) {
      viewerBody.replaceChildren(D.el("p", { class: "alert", text: "Could not open it: " + err.message + "." }));
    }
  }

  function openViewer(id) {
    if (!viewer.open) viewer.showModal();
    show(id);
    viewer.querySelector('[data-viewer="close"]').focus({ preventScroll: true });
  }

  function step(by) {
    const li = neighbour(by);
    if (li) show(li.dataset.id);
  }

  function viewerKey(event) {
    if (event.target.closest("input, select, textarea, video, audio")) return;
    if (event.key === "ArrowLeft") { event.preventDefault(); step(-1); }
    if (event.key === "ArrowRight") { event.preventDefault(); step(1); }
  }

  function closedViewer() {
    viewerBody.querySelectorAll("video, audio").forEach(function (media) { media.pause(); });
    viewerBody.replaceChildren();
    const li = showing && itemOf(showing);
    showing = null;
    const link = li && li.querySelector("[data-open]");
    if (link) link.focus({ preventScroll: false });
  }

  /* Reload what shows a file after it changed: the viewer, or the file's own page. */
  function reshow(id) {
    if (viewer && viewer.open) return show(id);
    window.location.reload();
    return Promise.resolve();
  }

  /* An album's tile shows whether it is the album's cover (and then offers no "Set as cover"). */
  function markCover(li, on) {
    const badge = li.querySelector(".cover-badge");
    const button = li.querySelector('[data-action="cover-item"]');
    if (badge) badge.hidden = !on;
    if (button) button.hidden = on;
  }

  /* What locker-actions.js uses. */
  Object.assign(S.locker, {
    view: view,
    items: items,
    itemOf: itemOf,
    selected: selected,
    selectionChanged: selectionChanged,
    clearSelection: clearSelection,
    reshow: reshow,
    markCover: markCover,
    viewerOpen: function () { return Boolean(viewer && viewer.open); },
    closeViewer: function () { if (viewer && viewer.open) viewer.close(); },
  });

  /* ------------------------------------------------------------------ wiring */

  function onClick(event) {
    const target = event.target;
    const open = target.closest("[data-open]");
    const li = target.closest("li.item[data-id]");
    if (open && li && listing && listing.contains(li)) {
      event.preventDefault();
      if (pressed === li) pressed = null; /* the long press that selected it */
      else if (document.body.classList.contains("selecting") || event.shiftKey) toggle(li);
      else openViewer(li.dataset.id);
      return;
    }
    const folder = target.closest("li.folder a.row-name");
    const row = folder && folder.parentNode;
    if (row && listing && listing.contains(row) && row.querySelector(".pick")) {
      if (pressed === row) { /* the long press that picked it */
        event.preventDefault();
        pressed = null;
        return;
      }
      if (document.body.classList.contains("selecting") || event.shiftKey) {
        event.preventDefault(); /* while picking, a folder's name picks it too */
        toggle(row);
        return;
      }
    }
    const button = target.closest("[data-action], [data-sel], [data-viewer]");
    if (!button) return;
    if (button.dataset.viewer) {
      if (button.dataset.viewer === "close") viewer.close();
      else step(button.dataset.viewer === "next" ? 1 : -1);
      return;
    }
    if (S.locker.act) S.locker.act(button, li);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.addEventListener("click", onClick);
    if (listing) {
      listing.addEventListener("change", function (event) {
        if (event.target.classList.contains("pick")) selectionChanged();
      });
      listing.addEventListener("pointerdown", startPress);
      ["pointerup", "pointercancel", "pointerleave"].forEach(function (kind) {
        listing.addEventListener(kind, endPress);
      });
      listing.addEventListener("pointermove", movePress);
      listing.addEventListener("contextmenu", function (event) {
        if (pressed || document.body.classList.contains("selecting")) event.preventDefault();
      });
      watchMore();
      pollSoon();
      selectionChanged();
    }
    const tab = document.querySelector(".locker-tabs [aria-current]");
    if (tab && tab.offsetParent) tab.scrollIntoView({ block: "nearest", inline: "center" });
    if (viewer) {
      viewer.addEventListener("keydown", viewerKey);
      viewer.addEventListener("close", closedViewer);
    }
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && !document.querySelector("dialog[open]") && selected().length) clearSelection();
    });
  });
})();
