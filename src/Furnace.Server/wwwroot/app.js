// furnace serve's page: reads the chosen image as a data: URL, sends one user message (image + question, or the
// caption instruction for the chosen language) to /v1/chat/completions with stream: true, and appends each SSE
// chunk's delta.content to the answer as it arrives (fetch + ReadableStream; no libraries).
"use strict";
const CAPTION = { en: "__CAPTION_EN__", zh: "__CAPTION_ZH__" };
const acceptsImages = document.body.dataset.images === "true";
const $ = (id) => document.getElementById(id);
let imageUrl = null;
let controller = null;

function showImage(file) {
  if (!file) return;
  if (!file.type.startsWith("image/")) { setStatus("that file is not an image", true); return; }
  const reader = new FileReader();
  reader.onload = () => { imageUrl = reader.result; $("preview").src = imageUrl; $("preview").hidden = false; setStatus(""); };
  reader.readAsDataURL(file);
}

function setStatus(text, error = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", error);
}

$("file").addEventListener("change", (e) => showImage(e.target.files[0]));
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); showImage(e.dataTransfer.files[0]); });
if (!acceptsImages) { drop.hidden = true; }

$("stop").addEventListener("click", () => controller && controller.abort());
$("ask").addEventListener("click", ask);

async function ask() {
  const question = $("question").value.trim();
  const lang = $("lang").value;
  if (!question && !imageUrl) { setStatus("choose an image or type a question", true); return; }
  const content = [];
  if (imageUrl && acceptsImages) content.push({ type: "image_url", image_url: { url: imageUrl } });
  content.push({ type: "text", text: question || CAPTION[lang] });
  const body = {
    messages: [{ role: "user", content }],
    max_tokens: Number($("max-tokens").value) || 128,
    temperature: 0,
    stream: true,
  };
  const headers = { "Content-Type": "application/json" };
  const key = $("api-key").value.trim();
  if (key) headers.Authorization = "Bearer " + key;
  $("answer").textContent = "";
  $("answer").classList.remove("error");
  $("ask").disabled = true; $("stop").disabled = false;
  setStatus("waiting…");
  controller = new AbortController();
  try {
    const response = await fetch("/v1/chat/completions", { method: "POST", headers, body: JSON.stringify(body), signal: controller.signal });
    if (!response.ok) {
      let message = response.status + " " + response.statusText;
      try { message = (await response.json()).error.message; } catch { /* not JSON */ }
      throw new Error(message);
    }
    await readEvents(response.body, (event) => {
      if (event.error) throw new Error(event.error.message);
      for (const choice of event.choices || []) {
        if (choice.delta && choice.delta.content) { $("answer").textContent += choice.delta.content; setStatus("streaming…"); }
        if (choice.finish_reason) setStatus("done (" + choice.finish_reason + ")");
      }
    });
  } catch (e) {
    if (e.name === "AbortError") setStatus("stopped");
    else { setStatus(e.message, true); }
  } finally {
    $("ask").disabled = false; $("stop").disabled = true; controller = null;
  }
}

// Server-sent events: blocks separated by a blank line; "data: " lines carry JSON, "data: [DONE]" ends the stream.
async function readEvents(stream, onEvent) {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of block.split("\n")) {
        if (!line.startsWith("data: ")) continue;
        const data = line.slice(6);
        if (data === "[DONE]") return;
        onEvent(JSON.parse(data));
      }
    }
  }
}
