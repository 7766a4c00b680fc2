"""The planner's page, served at ``/``: plain HTML and a little JavaScript, no build step.

It uses the service's own API only: ``POST /v1/jobs`` (an uploaded file, or the bundled demo from
``GET /v1/demo``), ``GET /v1/jobs/{id}`` until the job is done, then the plan's HTML rendering
(headline, charts, transfers, lines) shown in a frame, and the plan's downloads. Every word on the
page exists in English and Vietnamese.
"""

from __future__ import annotations

__all__ = ["PAGE"]

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>reallocate</title>
<style>
body { margin: 0 auto; max-width: 1220px; padding: 16px 24px; color: #1d2430;
  font: 15px/1.5 "Segoe UI", "Noto Sans", Roboto, Arial, "DejaVu Sans", sans-serif; }
h1 { font-size: 22px; margin: 0 0 4px; }
.bar { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; margin: 12px 0; }
button, select, input[type=file], input[type=password] { font: inherit; padding: 4px 10px; }
button.primary { background: #1f5fa8; color: #fff; border: 0; border-radius: 4px; padding: 6px 16px; }
#status { margin: 8px 0; min-height: 1.5em; }
#status.bad { color: #9b2118; }
#problems li { color: #9b2118; }
#downloads a { margin-right: 14px; }
iframe { width: 100%; height: 78vh; border: 1px solid #d9dee5; margin-top: 8px; }
.muted { color: #5b6473; font-size: 13px; }
</style>
</head>
<body>
<h1 data-t="title"></h1>
<p class="muted" data-t="intro"></p>
<div class="bar">
  <label><span data-t="language"></span>
    <select id="lang"><option value="en">English</option><option value="vi">Tiếng Việt</option></select></label>
  <a id="template" href="/v1/template" data-t="template"></a>
  <label><span data-t="key"></span> <input id="key" type="password" autocomplete="off" size="14"></label>
</div>
<div class="bar">
  <input id="file" type="file" accept=".xlsx,.xlsm,.csv,.json,.parquet">
  <button id="solve" class="primary" data-t="solve"></button>
  <button id="demo" data-t="demo"></button>
</div>
<div id="status" role="status"></div>
<ul id="problems"></ul>
<div id="downloads" hidden>
  <span data-t="download"></span>
  <a id="get-excel" href="#" data-fmt="excel" data-ext="xlsx">Excel</a>
  <a id="get-html" href="#" data-fmt="html" data-ext="html">HTML</a>
  <a id="get-json" href="#" data-fmt="json" data-ext="json">JSON</a>
</div>
<iframe id="plan" title="plan" hidden></iframe>
<script>
const WORDS = {
  en: {title: "Reallocate capital between localities", language: "Language",
       intro: "Pick a scenario (the Excel template, a lines.csv, or JSON), or try the bundled " +
              "Quảng Nam 2023 demo, then solve.",
       template: "Download an empty template", key: "API key (if the service needs one)", solve: "Solve",
       demo: "Solve the demo", download: "Download the plan:", queued: "Queued…", running: "Solving…",
       validating: "Checking the scenario…", solving: "Solving…", writing: "Writing the plan…", starting: "Starting…",
       done: "Done.", failed: "The scenario was refused or the solve failed:", cancelled: "Cancelled.",
       pick: "Pick a file first.", sending: "Sending…", error: "Error"},
  vi: {title: "Điều chuyển vốn giữa các địa phương", language: "Ngôn ngữ",
       intro: "Chọn một kịch bản (mẫu Excel, tệp lines.csv hoặc JSON), hoặc thử dữ liệu mẫu " +
              "Quảng Nam 2023, rồi bấm giải.",
       template: "Tải mẫu trống", key: "Khóa API (nếu dịch vụ yêu cầu)", solve: "Giải",
       demo: "Giải dữ liệu mẫu", download: "Tải phương án:", queued: "Đang chờ…", running: "Đang giải…",
       validating: "Đang kiểm tra kịch bản…", solving: "Đang giải…", writing: "Đang ghi phương án…",
       starting: "Đang bắt đầu…", done: "Xong.", failed: "Kịch bản bị từ chối hoặc giải không thành công:",
       cancelled: "Đã hủy.", pick: "Hãy chọn một tệp trước.", sending: "Đang gửi…", error: "Lỗi"}
};
let job = null;
const $ = (id) => document.getElementById(id);
const lang = () => $("lang").value;
const word = (k) => WORDS[lang()][k] || k;
function headers() {
  const key = $("key").value.trim();
  return key ? {"Authorization": "Bearer " + key} : {};
}
function label() {
  document.documentElement.lang = lang();
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = word(el.dataset.t);
  $("template").href = "/v1/template?lang=" + lang();
}
function say(text, bad) { $("status").textContent = text; $("status").className = bad ? "bad" : ""; }
async function problem(response) {
  let body = {};
  try { body = await response.json(); } catch (e) { body = {title: response.statusText}; }
  say(word("failed") + " " + (body.title || "") + (body.detail ? " — " + body.detail : ""), true);
  $("problems").replaceChildren(...(body.problems || []).map((p) => {
    const li = document.createElement("li"); li.textContent = p.path + ": " + p.message; return li; }));
}
async function submit(body, contentType) {
  $("problems").replaceChildren(); $("downloads").hidden = true; $("plan").hidden = true; say(word("sending"));
  const init = {method: "POST", body: body, headers: headers()};
  if (contentType) init.headers["Content-Type"] = contentType;
  const response = await fetch("/v1/jobs?lang=" + lang(), init);
  if (response.status !== 202) return problem(response);
  job = (await response.json()).id;
  let delay = 100;
  while (true) {
    const state = await (await fetch("/v1/jobs/" + job, {headers: headers()})).json();
    if (state.status === "done") break;
    if (state.status === "failed" || state.status === "cancelled") {
      return problem(await fetch("/v1/jobs/" + job + "/plan?lang=" + lang(), {headers: headers()}));
    }
    say(word(state.progress.stage) + (state.progress.seconds ? " " + state.progress.seconds.toFixed(1) + " s" : ""));
    await new Promise((r) => setTimeout(r, delay)); delay = Math.min(delay * 1.5, 1500);
  }
  say(word("done"));
  await show();
}
async function show() {
  const response = await fetch("/v1/jobs/" + job + "/plan?format=html&lang=" + lang(), {headers: headers()});
  if (!response.ok) return problem(response);
  $("plan").srcdoc = await response.text();
  $("plan").hidden = false; $("downloads").hidden = false;
}
async function download(event) {
  event.preventDefault();
  const a = event.currentTarget;
  const address = "/v1/jobs/" + job + "/plan?format=" + a.dataset.fmt + "&lang=" + lang();
  const response = await fetch(address, {headers: headers()});
  if (!response.ok) return problem(response);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url; link.download = "plan-" + job.slice(0, 8) + "." + a.dataset.ext;
  document.body.appendChild(link); link.click(); link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
$("solve").addEventListener("click", () => {
  const file = $("file").files[0];
  if (!file) return say(word("pick"), true);
  const form = new FormData(); form.append("file", file, file.name);
  submit(form, null);
});
$("demo").addEventListener("click", async () => {
  const demo = await fetch("/v1/demo", {headers: headers()});
  if (!demo.ok) return problem(demo);
  submit(await demo.text(), "application/json");
});
$("lang").addEventListener("change", () => { label(); if (job && !$("plan").hidden) show(); });
for (const a of document.querySelectorAll("#downloads a")) a.addEventListener("click", download);
label();
</script>
</body>
</html>
"""
