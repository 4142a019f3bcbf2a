// Evidence uploads on the case page: several files at once, dropped or pasted, each with its
// own progress bar and, once stored, its SHA-256. Without this script the form posts normally.
// Server text is only ever set as textContent: file names and messages may hold markup.
"use strict";

(() => {
  const form = document.querySelector("form[data-upload]");
  if (!form || form.dataset.uploadReady) return;
  form.dataset.uploadReady = "1";

  const input = form.querySelector('input[type="file"]');
  const zone = form.querySelector("[data-drop-zone]");
  const queue = form.querySelector("[data-upload-queue]");
  const maxBytes = Number(form.dataset.maxBytes || 0);
  const text = form.dataset;
  let rowCount = 0;
  input.multiple = true;

  function element(tag, className, content) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined) node.textContent = content;
    return node;
  }

  function clearFieldErrors() {
    form.querySelectorAll("[data-js-error]").forEach((node) => node.remove());
    form.querySelectorAll('[aria-invalid="true"][data-js-invalid]').forEach((control) => {
      control.removeAttribute("aria-invalid");
      control.removeAttribute("data-js-invalid");
      control.closest(".field")?.classList.remove("invalid");
    });
  }

  // A metadata error (kind, capture time...) belongs to every file: shown next to its field too.
  function showFieldError(name, message) {
    const control = form.querySelector(`[name="${CSS.escape(name)}"]`);
    const field = control && control.closest(".field");
    if (!field || name === "file") return false;
    const error = element("p", "field-error", message);
    error.dataset.jsError = "1";
    error.id = `${control.id}_js_error`;
    if (!field.querySelector(`#${CSS.escape(error.id)}`)) field.appendChild(error);
    field.classList.add("invalid");
    control.setAttribute("aria-invalid", "true");
    control.dataset.jsInvalid = "1";
    const described = (control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (!described.includes(error.id)) control.setAttribute("aria-describedby", [...described, error.id].join(" "));
    return true;
  }

  function labelOf(name) {
    const control = form.querySelector(`[name="${CSS.escape(name)}"]`);
    const label = control && form.querySelector(`label[for="${CSS.escape(control.id)}"]`);
    return label ? label.childNodes[0].textContent.trim() : name;
  }

  function addRow(file) {
    rowCount += 1;
    const row = element("li", "upload-row");
    row.appendChild(element("span", "upload-name", file ? `${file.name} (${formatBytes(file.size)})` : "—"));
    const progress = element("progress");
    progress.max = 100;
    progress.value = 0;
    progress.setAttribute("aria-label", `${text.msgUploading} ${file ? file.name : ""}`);
    row.appendChild(progress);
    const status = element("span", "upload-status", text.msgUploading);
    row.appendChild(status);
    queue.appendChild(row);
    return { row, progress, status, id: rowCount };
  }

  function fail(row, messages) {
    row.row.classList.add("upload-failed");
    row.progress.remove();
    row.status.textContent = text.msgFailed;
    const list = element("ul", "error");
    messages.forEach((message) => list.appendChild(element("li", "", message)));
    row.row.appendChild(list);
  }

  function stored(row, body) {
    row.row.classList.add("upload-done");
    row.progress.value = 100;
    row.status.textContent = `${text.msgStored} ${body.label}. SHA-256 `;
    const hash = element("code", "mono hash", body.sha256);
    hash.id = `upload-sha-${row.id}`;
    row.status.appendChild(hash);
    const copy = element("button", "secondary small", text.msgCopy);
    copy.type = "button";
    copy.dataset.copy = `#${hash.id}`;
    copy.dataset.copied = text.msgCopied;
    row.status.appendChild(document.createTextNode(" "));
    row.status.appendChild(copy);
  }

  function send(file) {
    const row = addRow(file);
    if (file && maxBytes && file.size > maxBytes) {
      fail(row, [text.msgTooLarge]);
      return Promise.resolve(false);
    }
    const data = new FormData(form);
    data.delete("file");
    if (file) data.append("file", file, file.name);
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-CSRFToken", csrfToken());
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable) row.progress.value = Math.round((event.loaded / event.total) * 100);
      };
      xhr.onload = () => {
        let body = {};
        try {
          body = JSON.parse(xhr.responseText);
        } catch (_) {
          body = {};
        }
        if (xhr.status === 201) {
          stored(row, body);
          resolve(true);
          return;
        }
        const messages = [];
        Object.entries(body.errors || {}).forEach(([name, problems]) => {
          problems.forEach((problem) => {
            showFieldError(name, problem);
            messages.push(name && name !== "file" ? `${labelOf(name)}: ${problem}` : problem);
          });
        });
        fail(row, messages.length ? messages : [text.msgNetwork]);
        resolve(false);
      };
      xhr.onerror = () => {
        fail(row, [text.msgNetwork]);
        resolve(false);
      };
      xhr.send(data);
    });
  }

  // One after another: a batch of large files does not compete for the same connection.
  async function uploadAll(files) {
    clearFieldErrors();
    let any = false;
    for (const file of files) {
      if (await send(file)) any = true;
    }
    input.value = "";
    if (any) document.body.dispatchEvent(new CustomEvent("evidence-changed"));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    uploadAll(input.files.length ? Array.from(input.files) : [null]);
  });

  ["dragenter", "dragover"].forEach((type) => zone.addEventListener(type, (event) => {
    event.preventDefault();
    zone.classList.add("drop-active");
  }));
  ["dragleave", "drop"].forEach((type) => zone.addEventListener(type, () => zone.classList.remove("drop-active")));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    const files = Array.from(event.dataTransfer.files || []);
    if (files.length) uploadAll(files);
  });

  async function asPng(blob) {
    if (blob.type === "image/png") return blob;
    const bitmap = await createImageBitmap(blob);
    const canvas = document.createElement("canvas");
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    canvas.getContext("2d").drawImage(bitmap, 0, 0);
    return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  }

  // A screenshot pasted anywhere on the page becomes a PNG upload; pasted text is left alone.
  document.addEventListener("paste", async (event) => {
    const images = Array.from(event.clipboardData ? event.clipboardData.items : [])
      .filter((item) => item.kind === "file" && item.type.startsWith("image/"))
      .map((item) => item.getAsFile())
      .filter(Boolean);
    if (!images.length) return;
    event.preventDefault();
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    const files = [];
    for (const [index, image] of images.entries()) {
      const suffix = images.length > 1 ? `-${index + 1}` : "";
      files.push(new File([await asPng(image)], `pasted-${stamp}${suffix}.png`, { type: "image/png" }));
    }
    uploadAll(files);
  });
})();
