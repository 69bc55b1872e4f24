// The upload (a raw-body POST, so the progress bar sees every byte) and the session page's
// live stage progress. No library: the pages must work offline.
"use strict";

function csrf() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

function setupUpload(form) {
  const bar = document.getElementById("upload-progress");
  const message = document.getElementById("upload-message");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const file = form.elements.video.files[0];
    if (!file) return;
    const params = new URLSearchParams({ filename: file.name });
    for (const name of ["dyad_id", "child_age_months", "recorded_on", "condition", "consent"]) {
      const value = form.elements[name].value.trim();
      if (value) params.set(name, value);
    }
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/v1/studies/${form.dataset.study}/sessions?${params}`);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("X-CSRF-Token", form.elements.csrf.value || csrf());
    bar.hidden = false;
    bar.value = 0;
    message.textContent = "Uploading…";
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
    };
    xhr.onload = () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
      if (xhr.status === 201) {
        bar.value = 100;
        message.textContent = "Uploaded. Opening the session…";
        window.location.href = `/sessions/${body.id}`;
      } else {
        const detail = Array.isArray(body.detail)
          ? body.detail.map((d) => `${d.loc ? d.loc.slice(-1)[0] : ""}: ${d.msg}`).join("; ")
          : body.detail;
        message.textContent = `Refused (${xhr.status}): ${detail || xhr.statusText}`;
      }
    };
    xhr.onerror = () => { message.textContent = "The upload was interrupted; try again."; };
    xhr.send(file);
  });
}

function setupProgress(section) {
  const id = section.dataset.session;
  const list = document.getElementById("stages");
  const status = document.getElementById("status");
  const poll = async () => {
    const response = await fetch(`/v1/sessions/${id}`, { credentials: "same-origin" });
    if (!response.ok) { status.textContent = `Cannot read the session (${response.status}).`; return; }
    const session = await response.json();
    list.replaceChildren(...session.stages.map((s) => {
      const item = document.createElement("li");
      item.className = `stage-${s.state}`;
      item.dataset.stage = s.stage;
      const pct = s.total ? ` ${Math.round((100 * s.done) / s.total)}%` : "";
      item.textContent = `${s.stage}: ${s.state}${s.state === "running" ? pct : ""}` +
        (s.error ? ` (${s.error})` : "");
      return item;
    }));
    status.textContent = session.status;
    status.className = `status-${session.status}`;
    if (session.status === "done") {
      document.getElementById("downloads").hidden = false;
      const frame = document.getElementById("report-frame");
      if (frame && section.dataset.report === "yes") {
        frame.src = `/v1/sessions/${id}/report`;
        document.getElementById("report").hidden = false;
      }
    } else if (session.status !== "failed") {
      setTimeout(poll, 1000);
    }
  };
  poll();
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("upload");
  if (form) setupUpload(form);
  const section = document.getElementById("progress");
  if (section) setupProgress(section);
});
