/* Strongroom locker: what the buttons do — to the selected files (download as a zip, move, add
   to an album, delete with Undo, restore), to one file (share, rename, versions), to folders,
   albums (their order and cover) and the trash (a deleted folder is one row: restore it or delete
   it forever, like a file) — and the music player.  Every change goes through the JSON API;
   locker.js calls S.locker.act for each button pressed. */
"use strict";

(function () {
  const S = window.Strongroom;
  const D = S.dialogs;
  const L = S.locker;
  const locker = document.getElementById("locker");
  if (!locker || !L) return;
  const view = L.view;
  const itemOf = L.itemOf;
  const items = L.items;
  const selected = L.selected;
  const selectionChanged = L.selectionChanged;
  const clearSelection = L.clearSelection;
  const reshow = L.reshow;

  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  /* Runs fn on each id, a few at a time; resolves the ids that failed, with their errors. */
  async function each(ids, fn) {
    const failed = [];
    const queue = ids.slice();
    async function worker() {
      while (queue.length) {
        const id = queue.shift();
        try { await fn(id); } catch (err) { failed.push({ id: id, error: err }); }
      }
    }
    await Promise.all([worker(), worker(), worker()]);
    return failed;
  }

  /* ------------------------------------------------------------------ actions on files */

  /* A selection holds file ids and, in a folder's listing, "folder:<id>" for its subfolders. */
  const FOLDER = "folder:";
  function isFolder(value) { return value.startsWith(FOLDER); }
  function rowOf(value) {
    return isFolder(value)
      ? document.querySelector('#listing li.folder[data-folder-id="' + value.slice(FOLDER.length) + '"]')
      : itemOf(value);
  }
  function apiOf(value) {
    return isFolder(value) ? "/api/v1/folders/" + value.slice(FOLDER.length) : "/api/v1/files/" + value;
  }

  /* "3 files", "1 folder", "2 files and 1 folder" */
  function counted(values) {
    const folders = values.filter(isFolder).length;
    const files = values.length - folders;
    return [files ? plural(files, "file") : "", folders ? plural(folders, "folder") : ""].filter(Boolean).join(" and ");
  }

  async function trashFiles(ids) {
    const gone = ids.map(rowOf).filter(Boolean);
    const failed = await each(ids, function (id) { return S.api("DELETE", apiOf(id)); });
    const done = ids.filter(function (id) { return !failed.some(function (f) { return f.id === id; }); });
    gone.forEach(function (li, i) { if (done.includes(ids[i])) li.remove(); });
    selectionChanged();
    if (failed.length) S.error(counted(failed.map(function (f) { return f.id; })) + " could not be deleted: " + failed[0].error.message + ".");
    if (!done.length) return;
    const how = await S.toast(counted(done) + " moved to the trash.", { undo: true, seconds: 8 });
    if (how !== "undo") return;
    const stuck = await each(done, function (id) { return S.api("POST", apiOf(id) + "/restore"); });
    if (stuck.length) S.error(counted(stuck.map(function (f) { return f.id; })) + " could not be brought back: " + stuck[0].error.message + ".");
    S.locker.refresh();
  }

  async function moveFiles(ids) {
    const to = await D.move("Move " + counted(ids), locker.dataset.folder || "");
    if (to === null) return;
    const failed = await each(ids, function (id) {
      if (!isFolder(id)) return S.api("PATCH", apiOf(id), { folder: to });
      const name = rowOf(id).dataset.name;
      return S.api("PATCH", apiOf(id), { path: to ? to + "/" + name : name });
    });
    const moved = ids.filter(function (id) { return !failed.some(function (f) { return f.id === id; }); });
    if (moved.length) S.toast(counted(moved) + " moved to “" + (to || "All files") + "”.");
    if (failed.length) S.error(counted(failed.map(function (f) { return f.id; })) + " could not be moved: " + failed[0].error.message + ".");
    clearSelection();
    if (view === "files" && (to !== (locker.dataset.folder || "") || moved.some(isFolder))) S.locker.refresh();
    return moved.length;
  }

  async function addToAlbum(ids, categories) {
    const media = ids.filter(function (id, i) { return categories[i] === "photos" || categories[i] === "videos"; });
    if (!media.length) {
      S.error("Albums hold photos and videos; none of these is one.");
      return;
    }
    const album = await D.album("Add " + plural(media.length, "item") + " to an album");
    if (!album) return;
    try {
      await S.api("POST", "/api/v1/albums/" + album.id + "/items", { file_ids: media });
      const left = ids.filter(function (id) { return !media.includes(id); });
      S.toast("Added " + plural(media.length, "item") + " to “" + album.name + "”" +
        (left.length ? " (" + counted(left) + " left out: albums hold photos and videos)." : "."));
      clearSelection();
    } catch (err) {
      S.error("Nothing was added: " + err.message + ".");
    }
  }

  function zip(fields) {
    const form = document.getElementById("zip-form");
    form.querySelectorAll("input[data-zip]").forEach(function (input) { input.remove(); });
    fields.forEach(function ([name, value]) {
      const input = D.el("input", { type: "hidden", name: name, value: value });
      input.dataset.zip = "1";
      form.append(input);
    });
    form.submit();
  }

  async function restoreFiles(ids) {
    const failed = await each(ids, function (id) { return S.api("POST", "/api/v1/files/" + id + "/restore"); });
    const back = ids.length - failed.length;
    if (back) S.toast(plural(back, "file") + " restored to " + (back === 1 ? "its folder" : "their folders") + ".");
    if (failed.length) S.error(plural(failed.length, "file") + " could not be restored: " + failed[0].error.message + ".");
    S.locker.refresh();
  }

  async function onSelectionAction(action) {
    const ids = selected();
    const categories = ids.map(function (id) { return isFolder(id) ? "folder" : itemOf(id).dataset.category; });
    if (action === "clear") clearSelection();
    else if (action === "zip") zip(ids.map(function (id) { return isFolder(id) ? ["folder", rowOf(id).dataset.path] : ["id", id]; }));
    else if (action === "trash") trashFiles(ids);
    else if (action === "move") moveFiles(ids);
    else if (action === "album") addToAlbum(ids, categories);
    else if (action === "restore") restoreFiles(ids);
    else if (action === "cover") setCover(ids);
    else if (action === "unalbum") removeFromAlbum(ids);
  }

  /* ------------------------------------------------------------------ albums */

  const albumId = locker.dataset.album;

  async function setCover(ids) {
    if (ids.length !== 1) {
      S.error("Select one photo to be the cover.");
      return;
    }
    try {
      await S.api("PATCH", "/api/v1/albums/" + albumId, { cover_file_id: ids[0] });
      items().forEach(function (li) { L.markCover(li, li.dataset.id === ids[0]); });
      S.toast("That is the album's cover now.");
      clearSelection();
    } catch (err) {
      S.error("The cover did not change: " + err.message + ".");
    }
  }

  /* The album's order is saved after each move, one request after another (the last one sent
     holds the order on the page). */
  let saving = Promise.resolve();

  function saveOrder() {
    const ids = items().map(function (li) { return li.dataset.id; });
    saving = saving.then(function () {
      return S.api("PUT", "/api/v1/albums/" + albumId + "/items", { file_ids: ids });
    }).catch(function (err) {
      S.error("The new order was not saved: " + err.message + ".");
      return S.locker.refresh();
    });
  }

  function moveItem(li, step, button) {
    const all = items();
    const to = all.indexOf(li) + step;
    if (to < 0 || to >= all.length) {
      S.toast("“" + li.dataset.name + "” is already " + (step < 0 ? "first" : "last") + ".");
      return;
    }
    if (step < 0) all[to].before(li);
    else all[to].after(li);
    button.focus({ preventScroll: false }); /* moving the tile took the focus away */
    S.toast("“" + li.dataset.name + "” is now " + (to + 1) + " of " + all.length + ".");
    saveOrder();
  }

  async function albumItemAction(action, li, button) {
    if (action === "earlier-item") moveItem(li, -1, button);
    else if (action === "later-item") moveItem(li, 1, button);
    else if (action === "cover-item") {
      try {
        await S.api("PATCH", "/api/v1/albums/" + albumId, { cover_file_id: li.dataset.id });
      } catch (err) {
        S.error("The cover did not change: " + err.message + ".");
        return;
      }
      items().forEach(function (other) { L.markCover(other, other === li); });
      li.querySelector("[data-open]").focus(); /* the button is gone now */
      S.toast("“" + li.dataset.name + "” is the album's cover now.");
    }
  }

  async function removeFromAlbum(ids) {
    const failed = await each(ids, function (id) { return S.api("DELETE", "/api/v1/albums/" + albumId + "/items/" + id); });
    const out = ids.length - failed.length;
    if (out) S.toast(plural(out, "item") + " taken out of the album (still in your locker).");
    if (failed.length) S.error("Some were not taken out: " + failed[0].error.message + ".");
    S.locker.refresh();
  }

  function albumName() { return locker.querySelector(".locker-title h1").firstChild.textContent.trim(); }

  async function albumAction(action) {
    if (action === "new-album") {
      const name = await D.ask({ title: "New album", label: "Name", ok: "Create" });
      if (!name) return;
      try {
        const made = await S.api("POST", "/api/v1/albums", { name: name });
        window.location.assign("/locker/albums/" + made.id);
      } catch (err) { S.error("The album was not made: " + err.message + "."); }
    } else if (action === "share-album") {
      D.share("album", albumId, "the album “" + albumName() + "”");
    } else if (action === "zip-album") {
      zip(items().map(function (li) { return ["id", li.dataset.id]; }));
    } else if (action === "rename-album") {
      const name = await D.ask({ title: "Rename the album", label: "Name", value: albumName(), ok: "Rename" });
      if (!name) return;
      try {
        await S.api("PATCH", "/api/v1/albums/" + albumId, { name: name });
        window.location.reload();
      } catch (err) { S.error("The album was not renamed: " + err.message + "."); }
    } else if (action === "delete-album") {
      const sure = await D.ask({ title: "Delete the album “" + albumName() + "”?", text: "Its photos and videos stay in your locker; links to the album stop working.", ok: "Delete album", danger: true });
      if (!sure) return;
      try {
        await S.api("DELETE", "/api/v1/albums/" + albumId);
        window.location.assign("/locker/albums");
      } catch (err) { S.error("The album was not deleted: " + err.message + "."); }
    }
  }

  /* ------------------------------------------------------------------ folders and the trash */

  async function folderAction(action, row) {
    const id = row.dataset.folderId;
    const name = row.dataset.name;
    if (action === "share-folder") {
      D.share("folder", id, "the folder “" + name + "”");
    } else if (action === "zip-folder") {
      zip([["folder", row.dataset.path]]);
    } else if (action === "rename-folder") {
      const parent = row.dataset.path.split("/").slice(0, -1).join("/");
      const renamed = await D.ask({
        title: "Rename the folder “" + name + "”", label: "New name", value: name, ok: "Rename",
        check: D.nameProblem,
        apply: function (value) {
          if (value === name) return null;
          return S.api("PATCH", "/api/v1/folders/" + id, { path: parent ? parent + "/" + value : value });
        },
      });
      if (!renamed || renamed === name) return;
      S.toast("The folder is called “" + renamed + "” now.");
      await S.locker.refresh();
      const link = document.querySelector('li.folder[data-folder-id="' + id + '"] .row-name');
      if (link) link.focus();
    } else if (action === "restore-folder") {
      restoreFolder(row);
    } else if (action === "purge-folder") {
      purgeFolder(row);
    } else if (action === "trash-folder") {
      try {
        await S.api("DELETE", "/api/v1/folders/" + id);
      } catch (err) {
        S.error("The folder was not deleted: " + err.message + ".");
        return;
      }
      row.remove();
      const how = await S.toast("“" + name + "” and everything in it moved to the trash.", { undo: true, seconds: 8 });
      if (how !== "undo") return;
      try {
        await S.api("POST", "/api/v1/folders/" + id + "/restore");
      } catch (err) { S.error("The folder could not be brought back: " + err.message + "."); }
      S.locker.refresh();
    }
  }

  /* After a row of the trash went: the keyboard carries on from the row now in its place. */
  function rowIndex(row) { return Array.from(row.parentNode.children).indexOf(row); }

  function focusRow(at) {
    const rows = Array.from(document.querySelectorAll("#listing > li.item"));
    const row = rows[Math.min(at, rows.length - 1)];
    const button = row && row.querySelector(".row-actions button");
    if (button) button.focus();
  }

  async function restoreFolder(row) {
    const at = rowIndex(row);
    const files = Number(row.dataset.files);
    try {
      await S.api("POST", "/api/v1/folders/" + row.dataset.folderId + "/restore");
    } catch (err) {
      S.error("“" + row.dataset.name + "” was not restored: " + err.message + ".");
      return;
    }
    S.toast("“" + row.dataset.path + "” is back" + (files ? ", with " + plural(files, "file") : "") + ".");
    if (leaveOpenedFolder(row)) return;
    await S.locker.refresh();
    focusRow(at);
  }

  async function purge(row, what, path, done) {
    const at = rowIndex(row);
    const sure = await D.ask({ title: "Delete " + what + " forever?", text: "It is deleted for good and its space is freed. This cannot be undone.", ok: "Delete forever", danger: true });
    if (!sure) return;
    try {
      await S.api("DELETE", path);
    } catch (err) {
      S.error("It was not deleted: " + err.message + ".");
      return;
    }
    S.toast(done);
    if (leaveOpenedFolder(row)) return;
    await S.locker.refresh();
    focusRow(at);
  }

  /* On an opened deleted folder's page, restoring or purging the folder itself leaves nothing to
     show here: back to the trash, where it is no longer listed.  (A file of it stays here.) */
  function leaveOpenedFolder(row) {
    if (locker.dataset.view !== "trash-folder" || !row.classList.contains("folder")) return false;
    window.location.assign("/locker/trash");
    return true;
  }

  async function purgeFolder(row) {
    const files = Number(row.dataset.files);
    await purge(row, "the folder “" + row.dataset.name + "”" + (files ? " and " + plural(files, "file") + " in it" : ""),
      "/api/v1/trash/folders/" + row.dataset.folderId,
      "“" + row.dataset.name + "” deleted for good.");
  }

  async function newFolder() {
    const here = locker.dataset.folder || "";
    const name = await D.ask({ title: "New folder", text: here ? "Inside “" + here + "”." : "", label: "Name", ok: "Create" });
    if (!name) return;
    try {
      await S.api("POST", "/api/v1/folders", { path: here ? here + "/" + name : name });
      S.toast("Folder “" + name + "” made.");
      S.locker.refresh();
    } catch (err) { S.error("The folder was not made: " + err.message + "."); }
  }

  async function emptyTrash() {
    const sure = await D.ask({ title: "Empty the trash?", text: "Everything in it is deleted for good and its space is freed. This cannot be undone.", ok: "Empty trash", danger: true });
    if (!sure) return;
    try {
      const done = await S.api("DELETE", "/api/v1/trash");
      S.toast(plural(done.emptied, "file") + " deleted for good.");
      S.locker.refresh();
    } catch (err) { S.error("The trash was not emptied: " + err.message + "."); }
  }

  /* ------------------------------------------------------------------ one file (viewer or page) */

  /* Where the name ends and its extension starts: "IMG_0042.jpg" -> 8; ".bashrc" -> 7. */
  function stemLength(name) {
    const dot = name.lastIndexOf(".");
    return dot > 0 ? dot : name.length;
  }

  async function renameFile(id, name) {
    const renamed = await D.ask({
      title: "Rename “" + name + "”", label: "New name", value: name, ok: "Rename",
      select: [0, stemLength(name)], check: D.nameProblem,
      apply: function (value) {
        return value === name ? null : S.api("PATCH", "/api/v1/files/" + id, { name: value });
      },
    });
    if (!renamed || renamed === name) return;
    S.toast("Renamed to “" + renamed + "”.");
    if (itemOf(id)) S.locker.refresh();
    await reshow(id);
    const again = document.querySelector('.panel[data-id="' + id + '"] [data-action="rename-file"]');
    if (again) again.focus();
  }

  async function panelAction(action, panel, button) {
    const id = panel.dataset.id;
    const name = panel.dataset.name;
    if (action === "share-file") {
      D.share("file", id, "“" + name + "”");
    } else if (action === "album-file") {
      addToAlbum([id], [panel.dataset.category]);
    } else if (action === "rename-file") {
      renameFile(id, name);
    } else if (action === "move-file") {
      const moved = await moveFiles([id]);
      if (moved) reshow(id);
    } else if (action === "trash-file") {
      L.closeViewer();
      if (itemOf(id)) trashFiles([id]);
      else {
        try {
          await S.api("DELETE", "/api/v1/files/" + id);
          reshow(id);
        } catch (err) { S.error("It was not deleted: " + err.message + "."); }
      }
    } else if (action === "restore-file") {
      try {
        await S.api("POST", "/api/v1/files/" + id + "/restore");
        const li = itemOf(id);
        if (li && view === "trash") li.remove();
        S.toast("“" + name + "” is back in “" + (panel.dataset.folder || "All files") + "”.");
        reshow(id);
      } catch (err) { S.error("It was not restored: " + err.message + "."); }
    } else if (action === "restore-version") {
      const version = button.closest("[data-version]").dataset.version;
      try {
        await S.api("POST", "/api/v1/files/" + id + "/versions/" + version + "/restore");
        S.toast("That version is the current one again; the one it replaced is kept as a version.");
        reshow(id);
      } catch (err) { S.error("The version was not restored: " + err.message + "."); }
    }
  }

  /* ------------------------------------------------------------------ music */

  let playing = null;

  function showPlaying(li, on) {
    const button = li && li.querySelector('[data-action="play"]');
    if (!button) return;
    li.classList.toggle("playing", on);
    button.setAttribute("aria-label", (on ? "Pause " : "Play ") + li.dataset.name);
    button.title = on ? "Pause" : "Play";
    button.querySelector("use").setAttribute("href", button.querySelector("use").getAttribute("href").replace(/#.*$/, on ? "#pause" : "#play"));
  }

  function play(li) {
    const player = document.getElementById("player");
    const audio = document.getElementById("player-audio");
    if (playing === li.dataset.id && !audio.paused) {
      audio.pause();
      return;
    }
    if (playing !== li.dataset.id) {
      document.getElementById("player-name").textContent = li.dataset.name;
      audio.src = "/api/v1/files/" + li.dataset.id + "/content";
      showPlaying(itemOf(playing), false);
      playing = li.dataset.id;
    }
    player.hidden = false;
    audio.play().catch(function () { /* the reader presses play on the player */ });
  }

  function watchPlayer() {
    const audio = document.getElementById("player-audio");
    if (!audio) return;
    audio.addEventListener("play", function () { showPlaying(itemOf(playing), true); });
    audio.addEventListener("pause", function () { showPlaying(itemOf(playing), false); });
  }

  /* ------------------------------------------------------------------ wiring */

  L.act = function (button, li) {
    if (button.dataset.sel) { onSelectionAction(button.dataset.sel); return; }
    const action = button.dataset.action;
    const panel = button.closest(".panel");
    const row = button.closest("li.folder");
    if (panel) panelAction(action, panel, button);
    else if (row) folderAction(action, row);
    else if (action === "new-folder") newFolder();
    else if (action === "empty-trash") emptyTrash();
    else if (action === "restore-one" && li) restoreFiles([li.dataset.id]);
    else if (action === "purge-one" && li) purge(li, "“" + li.dataset.name + "”", "/api/v1/trash/files/" + li.dataset.id, "“" + li.dataset.name + "” deleted for good.");
    else if (action === "play" && li) play(li);
    else if (action.endsWith("-item") && li && view === "album") albumItemAction(action, li, button);
    else if (action.endsWith("-album")) albumAction(action);
  };

  document.addEventListener("DOMContentLoaded", function () {
    watchPlayer();
    const close = document.getElementById("player-close");
    if (!close) return;
    close.addEventListener("click", function () {
      const audio = document.getElementById("player-audio");
      audio.pause();
      audio.removeAttribute("src");
      document.getElementById("player").hidden = true;
    });
  });
})();
