/* Strongroom messages: the conversation list (infinite scroll, arrow keys), a conversation
   (older and newer messages on scroll, read state, deletion with Undo), and live updates
   through Server-Sent Events.  HTML comes from the server as fragments; changes go through the
   JSON API.

   Undo: a deletion is only sent once its Undo toast has gone (six seconds), or at once when
   the page is closed.  The server keeps no undo of its own, because a deletion syncs to the
   account's phones and its tombstone keeps the message from ever coming back. */
"use strict";

(function () {
  const S = window.Strongroom;
  const UNDO_SECONDS = 6;

  const list = document.getElementById("conversations");
  const thread = document.getElementById("thread");
  const bubbles = document.getElementById("bubbles");
  const cid = thread ? thread.dataset.conversation : "";
  let conversationGone = false;

  /* ---------------------------------------------------------------- conversation list */

  const listObserver = list && "IntersectionObserver" in window
    ? new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) { if (entry.isIntersecting) moreConversations(entry.target); });
    }, { root: list, rootMargin: "300px" })
    : null;

  function watchListEnd() {
    const more = list && list.querySelector("li.more");
    if (more && listObserver) listObserver.observe(more);
  }

  function dropDuplicates(fragment) {
    fragment.querySelectorAll("li[data-id]").forEach(function (li) {
      if (list.querySelector('li[data-id="' + li.dataset.id + '"]')) li.remove();
    });
  }

  async function moreConversations(more) {
    if (more.classList.contains("loading")) return;
    if (listObserver) listObserver.unobserve(more);
    more.classList.add("loading");
    try {
      const url = "/messages/list?cursor=" + encodeURIComponent(more.dataset.next) + "&current=" + cid;
      const fragment = await S.fragment(url);
      dropDuplicates(fragment);
      S.localise(fragment);
      more.replaceWith(fragment);
      watchListEnd();
    } catch (err) {
      more.classList.remove("loading");
      S.error("Could not load more conversations: " + err.message + ".");
    }
  }

  /* Live update of the list: items that changed are replaced and put in their new place;
     unchanged ones stay put (so the focus stays where it is); ones that vanished from the
     first page's range were deleted elsewhere. */
  async function refreshList() {
    if (!list) return;
    const fragment = await S.fragment("/messages/list?current=" + cid);
    const fresh = Array.from(fragment.querySelectorAll("li[data-id]"));
    if (!fresh.length) { /* everything was deleted, or the service turned off, elsewhere */
      window.location.assign("/messages");
      return;
    }
    const wanted = new Set(fresh.map(function (li) { return li.dataset.id; }));
    let previous = null;
    fresh.forEach(function (li) {
      const old = list.querySelector('li[data-id="' + li.dataset.id + '"]');
      let node = old;
      if (!old || old.dataset.version !== li.dataset.version) {
        const hadFocus = Boolean(old && old.contains(document.activeElement));
        if (old) old.remove();
        if (li.dataset.id === cid && conversationGone) li.hidden = true;
        S.localise(li);
        node = li;
        if (previous) previous.after(li);
        else list.prepend(li);
        if (hadFocus) li.querySelector("a").focus({ preventScroll: true });
      }
      previous = node;
    });
    const stale = [];
    for (let li = list.firstElementChild; previous && li && li !== previous; li = li.nextElementSibling) {
      if (li.dataset.id && !wanted.has(li.dataset.id)) stale.push(li);
    }
    stale.forEach(function (li) { li.remove(); });
  }

  function onListKey(event) {
    const link = event.target.closest("a.convo");
    if (!link) return;
    const links = Array.from(list.querySelectorAll("li:not([hidden]) a.convo"));
    const at = links.indexOf(link);
    let next = null;
    if (event.key === "ArrowDown") next = links[at + 1];
    else if (event.key === "ArrowUp") next = links[at - 1];
    else if (event.key === "Home") next = links[0];
    else if (event.key === "End") next = links[links.length - 1];
    else return;
    event.preventDefault();
    if (next) {
      next.focus();
      next.scrollIntoView({ block: "nearest" });
    }
  }

  function setBadge(read) {
    const link = list && list.querySelector('li[data-id="' + cid + '"] a.convo');
    if (!link) return;
    const unread = bubbles.querySelectorAll(".msg.in.unread").length;
    let badge = link.querySelector(".badge");
    link.classList.toggle("unread", unread > 0);
    if (unread === 0 && badge) badge.remove();
    if (unread > 0 && !read) {
      if (!badge) {
        badge = document.createElement("span");
        badge.className = "badge";
        link.querySelector(".convo-bottom").append(badge);
      }
      badge.textContent = String(unread);
      const hint = document.createElement("span");
      hint.className = "sr-only";
      hint.textContent = " unread";
      badge.append(hint);
    }
  }

  /* ---------------------------------------------------------------- one conversation */

  let anchor = null; /* what to keep in view while pictures load: a message, or the end */
  let userMoved = false;

  function keepAnchor() {
    if (userMoved) return;
    if (anchor) anchor.scrollIntoView({ block: "center" });
    else thread.scrollTop = thread.scrollHeight;
  }

  function dedupeDays() {
    const seen = new Set();
    bubbles.querySelectorAll(".day").forEach(function (day) {
      if (seen.has(day.dataset.day)) day.remove();
      else seen.add(day.dataset.day);
    });
  }

  function takeInfo(fragment) {
    const info = fragment.querySelector(".window-info");
    if (info) info.remove();
    return info ? info.dataset : {};
  }

  let loadingOlder = false;
  async function loadOlder() {
    const link = thread.querySelector(".load.older");
    if (loadingOlder || !link || thread.dataset.hasOlder !== "1") return;
    loadingOlder = true;
    link.classList.add("loading");
    try {
      const fragment = await S.fragment("/messages/c/" + cid + "/more?before=" + thread.dataset.oldest);
      const info = takeInfo(fragment);
      S.localise(fragment);
      const before = thread.scrollHeight;
      bubbles.prepend(fragment);
      dedupeDays();
      thread.scrollTop += thread.scrollHeight - before;
      if (info.oldest) thread.dataset.oldest = info.oldest;
      thread.dataset.hasOlder = info.hasOlder === "1" ? "1" : "0";
      if (thread.dataset.hasOlder !== "1") link.remove();
    } catch (err) {
      S.error("Could not load older messages: " + err.message + ".");
    } finally {
      link.classList.remove("loading");
      loadingOlder = false;
    }
  }

  let loadingNewer = false;
  async function loadNewer(live) {
    if (loadingNewer || conversationGone) return;
    if (live && thread.dataset.hasNewer === "1") return; /* reading history: new ones wait */
    loadingNewer = true;
    const atEnd = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 80;
    try {
      const fragment = await S.fragment("/messages/c/" + cid + "/more?after=" + (thread.dataset.newest || "0"));
      const info = takeInfo(fragment);
      fragment.querySelectorAll(".msg").forEach(function (msg) {
        if (document.getElementById(msg.id)) msg.remove();
      });
      S.localise(fragment);
      const arrived = Array.from(fragment.querySelectorAll(".msg.in.unread"));
      bubbles.append(fragment);
      dedupeDays();
      if (info.newest) thread.dataset.newest = info.newest;
      thread.dataset.hasNewer = info.hasNewer === "1" ? "1" : "0";
      const newerLink = thread.querySelector(".load.newer");
      if (newerLink && thread.dataset.hasNewer !== "1") newerLink.remove();
      if (live && atEnd) {
        anchor = null;
        thread.scrollTop = thread.scrollHeight;
      }
      if (live && arrived.length && document.visibilityState === "visible") markRead(arrived);
    } catch (err) {
      if (!live) S.error("Could not load newer messages: " + err.message + ".");
    } finally {
      loadingNewer = false;
    }
  }

  function showRead(msg, read) {
    msg.dataset.read = read ? "true" : "false";
    msg.classList.toggle("unread", !read);
    const button = msg.querySelector('[data-action="toggle-read"]');
    if (button) {
      const label = read ? "Mark as unread" : "Mark as read";
      button.setAttribute("aria-label", label);
      button.title = label;
    }
  }

  async function setRead(msgs, read) {
    const update = {};
    msgs.forEach(function (msg) { update[msg.dataset.id] = { read: read }; });
    await S.api("POST", "/api/v1/messages/set", { update: update, destroy: [] });
    msgs.forEach(function (msg) { showRead(msg, read); });
    setBadge(read);
  }

  function markRead(msgs) {
    setRead(msgs, true).catch(function (err) {
      S.error("Could not mark messages as read: " + err.message + ".");
    });
  }

  async function deleteMessage(msg) {
    msg.hidden = true;
    const how = await S.toast("Message deleted.", { undo: true, seconds: UNDO_SECONDS, focusUndo: true, returnFocus: thread });
    if (how === "undo") {
      msg.hidden = false;
      msg.focus({ preventScroll: true });
      return;
    }
    try {
      await S.api("POST", "/api/v1/messages/set", { update: {}, destroy: [msg.dataset.id] }, { keepalive: how === "leave" });
      msg.remove();
      setBadge(true);
    } catch (err) {
      msg.hidden = false;
      S.error("The message was not deleted: " + err.message + ".");
    }
  }

  async function deleteConversation() {
    const item = list && list.querySelector('li[data-id="' + cid + '"]');
    const note = document.getElementById("thread-gone");
    conversationGone = true;
    thread.hidden = true;
    if (note) note.hidden = false;
    if (item) item.hidden = true;
    const how = await S.toast("Conversation deleted.", { undo: true, seconds: UNDO_SECONDS, focusUndo: true });
    if (how === "undo") {
      conversationGone = false;
      thread.hidden = false;
      if (note) note.hidden = true;
      if (item) item.hidden = false;
      thread.focus({ preventScroll: true });
      return;
    }
    try {
      await S.api("DELETE", "/api/v1/conversations/" + cid, undefined, { keepalive: how === "leave" });
      if (how !== "leave") window.location.assign("/messages");
    } catch (err) {
      conversationGone = false;
      thread.hidden = false;
      if (note) note.hidden = true;
      if (item) item.hidden = false;
      S.error("The conversation was not deleted: " + err.message + ".");
    }
  }

  function conversationUnread() {
    const incoming = bubbles.querySelectorAll(".msg.in:not([hidden])");
    const newest = incoming[incoming.length - 1];
    if (!newest) {
      S.toast("There is no received message to mark as unread.");
      return;
    }
    setRead([newest], false).then(function () {
      S.toast("Marked as unread.");
    }, function (err) {
      S.error("Could not mark as unread: " + err.message + ".");
    });
  }

  function onAction(event) {
    const button = event.target.closest("[data-action]");
    if (!button) return;
    const msg = button.closest(".msg");
    const action = button.dataset.action;
    if (action === "toggle-read" && msg) {
      setRead([msg], msg.dataset.read !== "true").catch(function (err) {
        S.error("Could not change the read state: " + err.message + ".");
      });
    } else if (action === "delete" && msg) {
      deleteMessage(msg);
    } else if (action === "delete-conversation") {
      deleteConversation();
    } else if (action === "conversation-unread") {
      conversationUnread();
    }
  }

  function onLoadClick(event) {
    const link = event.target.closest("[data-load]");
    if (!link) return;
    event.preventDefault();
    if (link.dataset.load === "older") loadOlder();
    else loadNewer(false);
  }

  function startThread() {
    const hit = /^#m\d+$/.test(window.location.hash) ? document.getElementById(window.location.hash.slice(1)) : null;
    anchor = hit;
    keepAnchor();
    if (hit) hit.focus({ preventScroll: true });
    ["wheel", "touchstart", "keydown", "mousedown"].forEach(function (kind) {
      thread.addEventListener(kind, function () { userMoved = true; }, { passive: true });
    });
    thread.addEventListener("load", keepAnchor, true);
    thread.addEventListener("loadedmetadata", keepAnchor, true);
    thread.addEventListener("click", onLoadClick);
    document.addEventListener("click", onAction);
    thread.addEventListener("scroll", function () {
      if (thread.scrollTop < 400 && userMoved) loadOlder();
      if (thread.dataset.hasNewer === "1" && userMoved &&
          thread.scrollHeight - thread.scrollTop - thread.clientHeight < 400) loadNewer(false);
    }, { passive: true });
    const unread = Array.from(bubbles.querySelectorAll(".msg.in.unread"));
    if (unread.length) markRead(unread);
  }

  /* ---------------------------------------------------------------- live updates */

  function startLive() {
    if (!("EventSource" in window)) return;
    let timer = null;
    /* The state the page was rendered at: the stream starts with the current state, which is
       news only if something changed since (reacting to it anyway reloaded an empty list page
       over and over, as each load's first event asked for the next load). */
    const messenger = document.getElementById("messenger");
    let known = messenger.dataset.state + "/" + messenger.dataset.messages;
    const source = new EventSource("/api/v1/events");
    source.addEventListener("state", function (event) {
      let data = null;
      try { data = JSON.parse(event.data); } catch (err) { data = null; }
      const now = data ? data.state + "/" + data.messages : null;
      if (now !== null && now === known) return;
      known = now;
      clearTimeout(timer);
      timer = setTimeout(function () {
        if (!list && document.querySelector(".list-empty")) {
          window.location.reload(); /* the first conversation arrived */
          return;
        }
        refreshList().catch(function () { /* the next event tries again */ });
        if (thread) loadNewer(true);
      }, 250);
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (list) {
      list.addEventListener("keydown", onListKey);
      watchListEnd();
    }
    if (thread) startThread();
    if (document.getElementById("messenger")) startLive();
  });
})();
