// t2i-server web page, editing: an image (uploaded, or a generated one via
// its card's "Edit" button) on a canvas, a mask painted over it with a brush
// (size, eraser, clear, invert), outpainting buttons that grow the canvas,
// a strength slider, and a submit that posts /sdapi/v1/img2img with the
// form's prompt, steps, seed and styles (app.js) and shows the result as a
// card. Progress comes from /sdapi/v1/progress; Cancel interrupts.
//
// The image canvas holds the picture at its own pixel size; the mask canvas
// above it (same size) holds the painted strokes in opaque red, shown half
// transparent. The mask sent is white where a stroke covers more than half
// a pixel, black elsewhere (the engine binarises at 128 anyway).
'use strict';

const edit = { painting: false, last: null, polling: null, busy: false };

function editCanvases() { return [$('edit-image'), $('edit-mask')]; }

function editLoadImage(src) {
  const img = new Image();
  img.onload = () => {
    const [ic, mc] = editCanvases();
    ic.width = mc.width = img.naturalWidth;
    ic.height = mc.height = img.naturalHeight;
    ic.getContext('2d').drawImage(img, 0, 0);
    mc.getContext('2d').clearRect(0, 0, mc.width, mc.height);
    $('edit-box').classList.add('loaded');
    editShowSize();
  };
  img.onerror = () => editStatus('that file is not an image the browser can read', true);
  img.src = src;
}

function editShowSize() {
  const [ic] = editCanvases();
  $('edit-size').textContent = `${ic.width} × ${ic.height}`;
}

function editStatus(text, isError) {
  $('edit-status').textContent = text;
  $('edit-status').className = isError ? 'error' : 'muted';
}

function editFile(ev) {
  const f = ev.target.files && ev.target.files[0];
  if (!f) return;
  const r = new FileReader();
  r.onload = () => editLoadImage(r.result);
  r.readAsDataURL(f);
}

// Pointer position in canvas pixels (the canvas is shown scaled by CSS).
function editPoint(ev) {
  const mc = $('edit-mask');
  const b = mc.getBoundingClientRect();
  return { x: (ev.clientX - b.left) * mc.width / b.width, y: (ev.clientY - b.top) * mc.height / b.height };
}

function editStroke(from, to) {
  const ctx = $('edit-mask').getContext('2d');
  const size = Number($('brush-size').value);
  ctx.globalCompositeOperation = $('brush-erase').checked ? 'destination-out' : 'source-over';
  ctx.strokeStyle = ctx.fillStyle = 'rgb(255, 0, 0)';
  ctx.lineWidth = size;
  ctx.lineCap = 'round';
  ctx.beginPath();
  ctx.moveTo(from.x, from.y);
  ctx.lineTo(to.x, to.y);
  ctx.stroke();
  ctx.beginPath();
  ctx.arc(to.x, to.y, size / 2, 0, 2 * Math.PI);
  ctx.fill();
  ctx.globalCompositeOperation = 'source-over';
}

function editPointerDown(ev) {
  if (!$('edit-box').classList.contains('loaded')) return;
  ev.preventDefault();
  $('edit-mask').setPointerCapture(ev.pointerId);
  edit.painting = true;
  edit.last = editPoint(ev);
  editStroke(edit.last, edit.last);
}

function editPointerMove(ev) {
  if (!edit.painting) return;
  const p = editPoint(ev);
  editStroke(edit.last, p);
  edit.last = p;
}

function editPointerUp() { edit.painting = false; }

function editClear() {
  const mc = $('edit-mask');
  mc.getContext('2d').clearRect(0, 0, mc.width, mc.height);
}

// Grow the canvas by px on one side: the new band repeats the nearest edge
// row or column (as the engine's outpainting fills it) and is marked in the
// mask, so it is painted at strength 1.
function editOutpaint(side) {
  const [ic, mc] = editCanvases();
  if (!$('edit-box').classList.contains('loaded')) return;
  const px = Number($('outpaint-px').value);
  const w = ic.width, h = ic.height;
  const nw = side === 'left' || side === 'right' ? w + px : w;
  const nh = side === 'top' || side === 'bottom' ? h + px : h;
  const ox = side === 'left' ? px : 0, oy = side === 'top' ? px : 0;
  const oldImg = document.createElement('canvas'), oldMask = document.createElement('canvas');
  oldImg.width = oldMask.width = w; oldImg.height = oldMask.height = h;
  oldImg.getContext('2d').drawImage(ic, 0, 0);
  oldMask.getContext('2d').drawImage(mc, 0, 0);
  ic.width = mc.width = nw; ic.height = mc.height = nh;
  const c = ic.getContext('2d');
  c.imageSmoothingEnabled = false;
  if (side === 'left') c.drawImage(oldImg, 0, 0, 1, h, 0, 0, px, h);
  if (side === 'right') c.drawImage(oldImg, w - 1, 0, 1, h, w, 0, px, h);
  if (side === 'top') c.drawImage(oldImg, 0, 0, w, 1, 0, 0, w, px);
  if (side === 'bottom') c.drawImage(oldImg, 0, h - 1, w, 1, 0, h, w, px);
  c.drawImage(oldImg, ox, oy);
  const m = mc.getContext('2d');
  m.drawImage(oldMask, ox, oy);
  m.fillStyle = 'rgb(255, 0, 0)';
  if (side === 'left') m.fillRect(0, 0, px, nh);
  if (side === 'right') m.fillRect(w, 0, px, nh);
  if (side === 'top') m.fillRect(0, 0, nw, px);
  if (side === 'bottom') m.fillRect(0, h, nw, px);
  $('strength').value = '1';
  editShowStrength();
  editShowSize();
}

// The painted strokes as a black/white PNG data URL, or null if nothing is painted.
function editMaskPng() {
  const mc = $('edit-mask');
  const src = mc.getContext('2d').getImageData(0, 0, mc.width, mc.height);
  const out = document.createElement('canvas');
  out.width = mc.width; out.height = mc.height;
  const ctx = out.getContext('2d');
  const dst = ctx.createImageData(mc.width, mc.height);
  let any = false;
  for (let i = 0; i < src.data.length; i += 4) {
    const on = src.data[i + 3] > 127;
    any = any || on;
    dst.data[i] = dst.data[i + 1] = dst.data[i + 2] = on ? 255 : 0;
    dst.data[i + 3] = 255;
  }
  if (!any) return null;
  ctx.putImageData(dst, 0, 0);
  return out.toDataURL('image/png');
}

function editShowStrength() { $('strength-value').textContent = Number($('strength').value).toFixed(2); }

async function editPollProgress() {
  try {
    const p = await api('/sdapi/v1/progress');
    if (edit.busy && p.state && p.state.sampling_steps) {
      $('edit-progress').value = p.progress;
      editStatus(`step ${p.state.sampling_step} / ${p.state.sampling_steps}`);
    }
  } catch (e) { /* the next poll will tell */ }
}

async function editSubmit() {
  const [ic] = editCanvases();
  if (!$('edit-box').classList.contains('loaded')) { editStatus('upload an image first', true); return; }
  const body = {
    init_images: [ic.toDataURL('image/png')],
    prompt: $('prompt').value,
    negative_prompt: $('negative').value,
    styles: chosenStyles(),
    steps: Number($('steps').value),
    seed: Number($('seed').value),
    batch_size: 1,
    width: ic.width,
    height: ic.height,
    denoising_strength: Number($('strength').value),
    mask_blur: 4,
    inpainting_fill: 1,
    inpaint_full_res: false,
    inpainting_mask_invert: $('mask-invert').checked ? 1 : 0,
  };
  const mask = editMaskPng();
  if (mask) body.mask = mask;
  else if (body.inpainting_mask_invert) { editStatus('paint a mask to invert', true); return; }
  edit.busy = true;
  $('edit-submit').disabled = true;
  $('edit-cancel').disabled = false;
  $('edit-progress').value = 0;
  editStatus('editing…');
  edit.polling = setInterval(editPollProgress, 250);
  try {
    const r = await api('/sdapi/v1/img2img', body);
    const info = JSON.parse(r.info);
    if (info.interrupted) editStatus('cancelled');
    else {
      $('edit-progress').value = 1;
      editStatus('done');
      showImages({
        final_prompt: info.prompt,
        images: r.images.map((b64, i) => ({ id: info.image_ids[i], seed: info.all_seeds[i], b64_json: b64,
                                            infotext: info.infotexts[i] })),
      });
    }
  } catch (e) {
    editStatus(e.message, true);
  } finally {
    clearInterval(edit.polling);
    edit.busy = false;
    $('edit-submit').disabled = false;
    $('edit-cancel').disabled = true;
  }
}

async function editCancel() {
  try { await api('/sdapi/v1/interrupt', {}); } catch (e) { editStatus(e.message, true); }
}

// "Edit" on a result card loads that image into the editor.
function editFromCard(ev) {
  const b = ev.target.closest('.edit-this');
  if (!b) return;
  editLoadImage(b.closest('.card').querySelector('img').src);
  $('edit-box').scrollIntoView();
}

function editAddButtons() {
  for (const actions of document.querySelectorAll('#results .card .actions')) {
    if (actions.querySelector('.edit-this')) continue;
    const b = document.createElement('button');
    b.type = 'button'; b.className = 'edit-this'; b.textContent = 'Edit 编辑';
    actions.append(b);
  }
}

document.addEventListener('DOMContentLoaded', () => {
  $('edit-file').addEventListener('change', editFile);
  const mc = $('edit-mask');
  mc.addEventListener('pointerdown', editPointerDown);
  mc.addEventListener('pointermove', editPointerMove);
  mc.addEventListener('pointerup', editPointerUp);
  mc.addEventListener('pointercancel', editPointerUp);
  $('brush-size').addEventListener('input', () => { $('brush-value').textContent = $('brush-size').value; });
  $('mask-clear').addEventListener('click', editClear);
  $('strength').addEventListener('input', editShowStrength);
  for (const side of ['left', 'right', 'top', 'bottom'])
    $('outpaint-' + side).addEventListener('click', () => editOutpaint(side));
  $('edit-submit').addEventListener('click', editSubmit);
  $('edit-cancel').addEventListener('click', editCancel);
  $('results').addEventListener('click', editFromCard);
  new MutationObserver(editAddButtons).observe($('results'), { childList: true });
  editShowStrength();
});
