// t2i-server web page logic: load styles, submit a job, follow its progress
// over Server-Sent Events, show the images and post feedback events.
'use strict';

const $ = (id) => document.getElementById(id);
let currentJob = null;
let events = null;

async function api(path, body) {
  const opts = body === undefined ? {} :
    { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
  const r = await fetch(path, opts);
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error((data.error && data.error.message) || data.detail || r.statusText);
  return data;
}

async function loadHealth() {
  try { await api('/health'); $('health').textContent = 'ready'; }
  catch (e) { $('health').textContent = 'not ready: ' + e.message; }
}

async function loadStyles() {
  const list = $('styles');
  let styles = [];
  try { styles = await api('/sdapi/v1/prompt-styles'); } catch (e) { return; }
  for (const s of styles) {
    const li = document.createElement('li');
    const id = 'style-' + list.children.length;
    li.dataset.search = [s.name, s.name_zh, s.id, s.category].join(' ').toLowerCase();
    li.title = s.category || '';
    const box = document.createElement('input');
    box.type = 'checkbox'; box.id = id; box.value = s.name;
    box.addEventListener('change', showChosen);
    const label = document.createElement('label');
    label.htmlFor = id;
    label.textContent = s.name_zh ? `${s.name} · ${s.name_zh}` : s.name;
    li.append(box, ' ', label);
    list.append(li);
  }
}

function chosenStyles() {
  return [...document.querySelectorAll('#styles input:checked')].map((b) => b.value);
}

function showChosen() { $('styles-chosen').textContent = chosenStyles().join(', '); }

function filterStyles() {
  const q = $('style-search').value.trim().toLowerCase();
  for (const li of $('styles').children) li.hidden = q !== '' && !li.dataset.search.includes(q);
}

function setBusy(busy) {
  $('generate').disabled = busy;
  $('cancel').disabled = !busy;
}

function status(text, isError) {
  $('status').textContent = text;
  $('status').className = isError ? 'error' : 'muted';
}

async function feedback(imageId, event, button) {
  try {
    await api('/v1/feedback', { image_id: imageId, event });
    if (button) button.classList.add('done');
  } catch (e) { status('feedback: ' + e.message, true); }
}

function showImages(job) {
  const results = $('results');
  const drawn = job.final_prompt || '';
  for (const im of job.images) {
    const card = document.createElement('div');
    card.className = 'card';
    card.dataset.imageId = im.id;
    const img = document.createElement('img');
    img.src = 'data:image/png;base64,' + im.b64_json;
    img.alt = $('prompt').value;
    img.addEventListener('click', () => {
      img.classList.toggle('zoomed');
      feedback(im.id, img.classList.contains('zoomed') ? 'zoom' : 'click');
    });
    const actions = document.createElement('div');
    actions.className = 'actions';
    const like = document.createElement('button');
    like.type = 'button'; like.className = 'like'; like.textContent = 'Like 赞';
    like.addEventListener('click', () => feedback(im.id, 'like', like));
    const dislike = document.createElement('button');
    dislike.type = 'button'; dislike.className = 'dislike'; dislike.textContent = 'Dislike 踩';
    dislike.addEventListener('click', () => feedback(im.id, 'dislike', dislike));
    const dl = document.createElement('a');
    dl.className = 'download'; dl.textContent = 'Download 下载';
    dl.href = img.src; dl.download = `t2i-${im.seed}.png`;
    dl.addEventListener('click', () => feedback(im.id, 'download'));
    actions.append(like, dislike, dl);
    const meta = document.createElement('div');
    meta.className = 'meta';
    meta.textContent = `seed ${im.seed} · ${drawn}`;
    meta.title = im.infotext;
    card.append(img, actions, meta);
    results.prepend(card);
  }
}

function follow(id) {
  if (events) events.close();
  events = new EventSource(`/v1/jobs/${id}/events`);
  events.addEventListener('progress', (ev) => {
    const j = JSON.parse(ev.data);
    $('progress').value = j.steps ? j.step / j.steps : 0;
    status(j.state === 'queued' ? 'queued…' : `step ${j.step} / ${j.steps}`);
  });
  const end = (ev) => {
    events.close(); events = null; currentJob = null; setBusy(false);
    const j = JSON.parse(ev.data);
    if (j.state === 'done') {
      $('progress').value = 1;
      const warn = j.warnings && j.warnings.length ? ` — ${j.warnings[0]}` : '';
      status(`done in ${(j.generation_s || 0).toFixed(2)} s${warn}`);
      showImages(j);
    } else {
      status(`${j.state}: ${j.error || ''}`, j.state === 'failed');
    }
  };
  for (const name of ['done', 'failed', 'cancelled']) events.addEventListener(name, end);
  events.onerror = () => {
    if (!currentJob) return;
    // The stream broke: fall back to one poll of the job.
    api(`/v1/jobs/${id}`).then((j) => { if (j.state === 'done') end({ data: JSON.stringify(j) }); })
      .catch((e) => status(e.message, true));
  };
}

async function submit(ev) {
  ev.preventDefault();
  const size = Number($('size').value);
  const body = {
    prompt: $('prompt').value,
    negative_prompt: $('negative').value,
    styles: chosenStyles(),
    steps: Number($('steps').value),
    seed: Number($('seed').value),
    batch_size: Number($('count').value),
    expand: $('expand').checked,
  };
  if (size > 0) { body.width = size; body.height = size; }
  setBusy(true);
  $('progress').value = 0;
  status('submitting…');
  try {
    const job = await api('/v1/jobs', body);
    currentJob = job.id;
    follow(job.id);
  } catch (e) {
    setBusy(false);
    status(e.message, true);
  }
}

async function cancel() {
  if (!currentJob) return;
  try { await api(`/v1/jobs/${currentJob}/cancel`, {}); } catch (e) { status(e.message, true); }
}

document.addEventListener('DOMContentLoaded', () => {
  $('form').addEventListener('submit', submit);
  $('cancel').addEventListener('click', cancel);
  $('style-search').addEventListener('input', filterStyles);
  loadHealth();
  loadStyles();
});
