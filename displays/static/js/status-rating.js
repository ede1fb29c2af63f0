/*
 * 好差评 on the citizen's status page (/t/<status_token>), added to status.html by one
 * <script> line and kept apart from status.js.
 *
 * Asks the server about the rating of this page's own ticket (get_rating with the token)
 * every 15 s and when the page becomes visible. Once the service finished and is not rated,
 * it offers the five levels (a 差评, 1-2, needs a reason: pick list and/or text) and sends
 * rate_service with the token; after a 差评 was dealt with it offers the one 追评
 * (follow_up_rating). It uses its own small websocket connection (requests only, no
 * subscription), so status.js's client and its connection mark are left alone.
 */
(function () {
  'use strict';

  var m = location.pathname.match(/\/t\/([A-Za-z0-9_-]+)/);
  if (!m) return;
  var token = m[1];
  var POLL_MS = 15000;
  var LEVELS = { 5: '非常满意', 4: '满意', 3: '基本满意', 2: '不满意', 1: '非常不满意' };

  var css = document.createElement('link');
  css.rel = 'stylesheet';
  css.href = '/static/css/status-rating.css';
  document.head.appendChild(css);

  var box = document.createElement('section');
  box.className = 'sr-card';
  box.id = 'st-rating';
  box.hidden = true;
  box.innerHTML =
    '<h2 id="sr-title">请您对本次服务作出评价</h2>' +
    '<p class="sr-who" id="sr-who"></p>' +
    '<div class="sr-scores" id="sr-scores">' + [5, 4, 3, 2, 1].map(function (s) {
      return '<button type="button" class="sr-score s' + s + '" data-score="' + s + '"><b>' + s + '</b>' + LEVELS[s] + '</button>';
    }).join('') + '</div>' +
    '<form class="sr-reasons" id="sr-reasons" hidden><p>请告诉我们哪里做得不好(至少选一项或填写):</p>' +
    '<div class="sr-picks" id="sr-picks"></div>' +
    '<textarea id="sr-text" rows="2" maxlength="500" placeholder="其他意见(选填)"></textarea>' +
    '<button type="submit" class="btn red" id="sr-submit">提交评价</button></form>' +
    '<p class="sr-done" id="sr-done" hidden></p>' +
    '<p class="sr-error" id="sr-error" hidden></p>';
  (document.querySelector('main') || document.body).appendChild(box);
  var $ = function (id) { return document.getElementById(id); };

  var ws = null;
  var nextId = 1;
  var waiting = new Map();
  var status = null;
  var reasons = [];
  var chosen = null;
  var retry = 1000;

  function connect() {
    var proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    ws = new WebSocket(proto + '//' + location.host + '/ws');
    ws.onopen = function () { retry = 1000; check(); };
    ws.onmessage = function (e) {
      var msg;
      try { msg = JSON.parse(e.data); } catch (err) { return; }
      var p = waiting.get(msg.re);
      if (!p) return;
      waiting.delete(msg.re);
      if (msg.type === 'ok') p.resolve(msg); else p.reject(msg);
    };
    ws.onclose = function () {
      waiting.forEach(function (p) { p.reject({ code: 'disconnected' }); });
      waiting.clear();
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 15000);
    };
  }

  function request(type, fields) {
    if (!ws || ws.readyState !== 1) return Promise.reject({ code: 'disconnected' });
    var id = nextId++;
    return new Promise(function (resolve, reject) {
      waiting.set(id, { resolve: resolve, reject: reject });
      ws.send(JSON.stringify(Object.assign({ id: id, type: type }, fields)));
    });
  }

  function escapeHtml(s) {
    return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  function error(text) { $('sr-error').textContent = text || ''; $('sr-error').hidden = !text; }

  function render() {
    var s = status;
    var offer = s && s.finished && !s.rated;
    var followUp = s && s.rated && s.follow_up_allowed;
    box.hidden = !s || !(offer || followUp || s.rated);
    if (box.hidden) return;
    $('sr-title').textContent = followUp ? '追加评价(追评)' : (offer ? '请您对本次服务作出评价' : '服务评价');
    $('sr-who').textContent = offer && (s.staff_name || s.matter_name)
      ? [s.window_name, s.matter_name, s.staff_name ? '工作人员 ' + s.staff_name : ''].filter(Boolean).join(' · ') : '';
    var asking = offer || followUp;
    $('sr-scores').hidden = !asking;
    if (!asking) $('sr-reasons').hidden = true;
    var done = [];
    if (s.rated) done.push('您的评价:' + LEVELS[s.score]);
    if (s.follow_up_score) done.push('追评:' + LEVELS[s.follow_up_score]);
    if (s.rated && s.rectification_state && s.rectification_state !== 'closed') done.push('我们正在处理您的意见');
    $('sr-done').textContent = done.join(' · ');
    $('sr-done').hidden = !done.length;
    $('sr-picks').innerHTML = reasons.map(function (r) {
      return '<label><input type="checkbox" value="' + escapeHtml(r) + '"> ' + escapeHtml(r) + '</label>';
    }).join('');
  }

  function check() {
    request('get_rating', { ticket_token: token }).then(function (reply) {
      if (reply.reasons) reasons = reply.reasons.map(function (r) { return r.text; });  // the catalogue: {text, party}
      var before = JSON.stringify(status);
      status = reply.rating;
      if (JSON.stringify(status) !== before) render();
    }).catch(function (err) {
      if (err && err.code === 'unknown_ticket') { status = null; render(); }
    });
  }

  function send(score) {
    var fields = { ticket_token: token, score: score };
    if (score <= 2) {
      fields.reasons = Array.prototype.map.call($('sr-picks').querySelectorAll('input:checked'), function (i) { return i.value; });
      var text = $('sr-text').value.trim();
      if (text) fields.text = text;
      if (!fields.reasons.length && !text) { error(HallMessages.text('reason_required', 'status')); return; }
    }
    var type = status && status.rated ? 'follow_up_rating' : 'rate_service';
    request(type, fields).then(function () {
      error('');
      $('sr-reasons').hidden = true;
      $('sr-text').value = '';
      check();
    }).catch(function (err) {
      error(HallMessages.text(err, 'status'));
      check();
    });
  }

  $('sr-scores').addEventListener('click', function (e) {
    var b = e.target.closest('.sr-score');
    if (!b) return;
    chosen = Number(b.getAttribute('data-score'));
    Array.prototype.forEach.call(document.querySelectorAll('.sr-score'), function (x) { x.classList.toggle('chosen', x === b); });
    if (chosen <= 2) { $('sr-reasons').hidden = false; error(''); } else { $('sr-reasons').hidden = true; send(chosen); }
  });
  $('sr-reasons').addEventListener('submit', function (e) { e.preventDefault(); if (chosen) send(chosen); });
  document.addEventListener('visibilitychange', function () { if (!document.hidden) check(); });
  setInterval(check, POLL_MS);
  connect();
})();
