/*
 * Kiosk (/kiosk): choose a business (grouped by kind), normal or 绿色通道, get a ticket with
 * the number, queue, people ahead, estimated wait, time and a QR code of the citizen status
 * page; print it on 80 mm thermal paper through the browser's print dialog.
 *
 * Set up once with a device token: open /kiosk?token=... ; the token is kept in
 * localStorage. Optional: ?status_base=https://public.host (the address phones use for the
 * status page, when it differs from the kiosk's own), ?autoprint=1 (print each ticket
 * without a button press; run Chromium with --kiosk-printing for no dialog).
 */
(function () {
  'use strict';

  var U = HallClient.util;
  var $ = function (id) { return document.getElementById(id); };
  var TOKEN_KEY = 'hallops.kiosk.token';
  var LARGE_KEY = 'hallops.kiosk.large';
  var BASE_KEY = 'hallops.kiosk.statusBase';
  var AUTOPRINT_KEY = 'hallops.kiosk.autoprint';
  var TICKET_SECONDS = 40; // the ticket stays this long, then back to the start
  var IDLE_SECONDS = 45; // an unfinished choice goes back to the start

  // ---------------------------------------------------------------- settings from the address

  var params = new URLSearchParams(location.search);
  function store(key, value) { try { localStorage.setItem(key, value); } catch (e) { /* private mode */ } }
  function load(key) { try { return localStorage.getItem(key); } catch (e) { return null; } }
  if (params.get('token')) store(TOKEN_KEY, params.get('token').trim());
  if (params.get('status_base')) store(BASE_KEY, params.get('status_base').replace(/\/+$/, ''));
  if (params.get('autoprint') !== null) store(AUTOPRINT_KEY, params.get('autoprint') === '1' ? '1' : '0');
  if (params.has('token') || params.has('status_base') || params.has('autoprint')) {
    history.replaceState(null, '', location.pathname); // keep the token out of the address bar
  }
  var token = load(TOKEN_KEY);
  // where phones reach the hall: the kiosk's own setting, else the hall's public_url, else here
  var statusBase = load(BASE_KEY) || location.origin;
  if (!load(BASE_KEY)) {
    fetch('/config.json', { cache: 'no-store' }).then(function (r) { return r.json(); }).then(function (cfg) {
      if (cfg && cfg.hall && cfg.hall.public_url) statusBase = cfg.hall.public_url.replace(/\/+$/, '');
    }).catch(function () { /* keep the kiosk's own address */ });
  }
  var autoprint = load(AUTOPRINT_KEY) === '1';

  // ---------------------------------------------------------------- screens

  var screen = 'home';
  var chosen = null; // queue code
  var busy = false;
  var timer = null;
  var setupReason = '';

  function show(name) {
    screen = name;
    ['setup', 'home', 'choose', 'done'].forEach(function (id) { $(id).hidden = id !== name; });
    fitHome();
    clearInterval(timer);
    if (name === 'choose') startCountdown(IDLE_SECONDS, null);
    if (name === 'done') startCountdown(TICKET_SECONDS, $('countdown'));
    window.scrollTo(0, 0);
  }

  function startCountdown(seconds, el) {
    var left = seconds;
    if (el) el.textContent = '(' + left + ')';
    timer = setInterval(function () {
      left -= 1;
      if (el) el.textContent = '(' + left + ')';
      if (left <= 0) { clearInterval(timer); goHome(); }
    }, 1000);
  }

  function goHome() {
    chosen = null;
    hideError();
    show(token && !setupReason ? 'home' : 'setup');
    render();
  }

  function showSetup(reason) {
    setupReason = reason || '';
    $('setup-reason').textContent = reason || '取号机需要一个设备令牌才能出号。';
    $('setup-url').textContent = location.origin + '/kiosk?token=令牌';
    show('setup');
  }

  // The citizen reads plain Chinese from the table of codes (messages-zh.js), never the
  // server's English message.
  function showError(err) {
    $('error-msg').textContent = U.errorText(err, 'kiosk');
    $('error').hidden = false;
    $('error-ok').focus();
  }
  function hideError() { $('error').hidden = true; }

  // ---------------------------------------------------------------- queues

  var KIND_GROUPS = [
    { title: '无差别综合受理', kinds: ['无差别综合'], wide: true },
    { title: '分领域受理', kinds: ['分领域'] },
    { title: '专窗服务', kinds: ['专窗'] },
    { title: '出件 · 咨询导办', kinds: ['出件', '咨询'] }
  ];

  function queueState(q) {
    if (!q.open) return { off: true, text: '当前暂停取号' };
    if (q.remaining_today === 0) return { off: true, text: '今日号源已发完' };
    return { off: false };
  }

  function queueButton(q) {
    var s = queueState(q);
    var meta = s.off ? U.escapeHtml(s.text)
      : '等候 <b class="num">' + q.waiting + '</b> 人 · ' + U.escapeHtml(U.fmtWait(q.estimated_wait_s));
    return '<button type="button" class="k-queue' + (s.off ? ' off' : '') + '" data-queue="' + U.escapeHtml(q.code) + '">' +
      '<span class="code">' + U.escapeHtml(q.code) + '</span>' +
      '<span class="name zh-words">' + U.phraseHtml(q.name) + '</span>' +
      '<span class="meta">' + meta + '</span></button>';
  }

  function render() {
    var st = client.state;
    if (st.hall) {
      $('hall-name').textContent = st.hall.name || '政务服务中心';
      document.title = (st.hall.name || '') + ' · 自助取号';
    }
    if (!st.loaded) return;
    var queues = Array.from(st.queues.values());
    var known = {};
    var html = KIND_GROUPS.map(function (g) {
      var qs = queues.filter(function (q) { return g.kinds.indexOf(q.kind) >= 0; });
      qs.forEach(function (q) { known[q.code] = true; });
      if (!qs.length) return '';
      return '<section class="k-group' + (g.wide && qs.length === 1 ? ' wide' : '') + '"><h2>' + U.escapeHtml(g.title) +
        '</h2><div class="k-grid">' + qs.map(queueButton).join('') + '</div></section>';
    }).join('');
    var rest = queues.filter(function (q) { return !known[q.code]; });
    if (rest.length) {
      html += '<section class="k-group"><h2>其他业务</h2><div class="k-grid">' + rest.map(queueButton).join('') + '</div></section>';
    }
    var groups = $('groups');
    if (groups.dataset.html !== html) { groups.dataset.html = html; groups.innerHTML = html; fitHome(); }
    if (screen === 'choose' && chosen) renderChoose();
  }

  function renderChoose() {
    var q = client.state.queues.get(chosen);
    if (!q) return;
    $('choose-name').innerHTML = U.phraseHtml(q.name);
    $('choose-wait').textContent = '当前等候 ' + q.waiting + ' 人,预计等待 ' + U.fmtWait(q.estimated_wait_s);
  }

  $('groups').addEventListener('click', function (e) {
    var btn = e.target.closest('.k-queue');
    if (!btn || busy) return;
    var code = btn.dataset.queue;
    var q = client.state.queues.get(code);
    if (q && queueState(q).off) {
      // Greyed out from the snapshot; ask anyway so the server's own answer is shown.
      issue(code, 'normal');
      return;
    }
    chosen = code;
    renderChoose();
    show('choose');
  });

  $('opt-normal').addEventListener('click', function () { if (chosen) issue(chosen, 'normal'); });
  $('opt-green').addEventListener('click', function () { if (chosen) issue(chosen, 'green'); });
  $('opt-back').addEventListener('click', goHome);
  $('finish').addEventListener('click', goHome);
  $('print').addEventListener('click', function () { window.print(); });
  $('error-ok').addEventListener('click', function () { hideError(); if (screen === 'choose') goHome(); });

  function issue(code, priority) {
    if (busy) return;
    busy = true;
    $('busy').hidden = false;
    client.request('issue_ticket', { queue: code, priority: priority, channel: 'kiosk' })
      .then(function (reply) { showTicket(reply.ticket, priority); })
      .catch(function (err) {
        if (err && err.code === 'unauthenticated' || err && err.code === 'forbidden') {
          showSetup('本机的取号令牌无效或已被吊销,请重新设置。');
          return;
        }
        showError(err);
      })
      .then(function () { busy = false; $('busy').hidden = true; });
  }

  function statusUrl(t) { return statusBase + '/t/' + encodeURIComponent(t.status_token); }

  function showTicket(t, priority) {
    var st = client.state;
    var tz = st.hall && st.hall.timezone;
    $('t-hall').textContent = (st.hall && st.hall.name) || '';
    $('t-queue').textContent = t.queue_name || (st.queues.get(t.queue) || {}).name || t.queue;
    $('t-number').textContent = t.number;
    $('t-green').hidden = (t.priority || priority) !== 'green';
    $('t-ahead').textContent = Math.max(0, (t.position || 1) - 1);
    $('t-wait').textContent = U.fmtWait(t.estimated_wait_s);
    $('t-time').textContent = U.fmtDateTime(t.issued_at, tz).slice(5, 16);
    var url = statusUrl(t);
    var img = $('t-qr');
    img.dataset.url = url;
    img.onload = function () { if (autoprint) window.print(); };
    img.src = '/qr.svg?text=' + encodeURIComponent(url);
    show('done');
  }

  // ---------------------------------------------------------------- fitting every queue

  // The queue buttons flow into columns (kiosk.css); a hall with very many queues would
  // still need scrolling, so the home screen shrinks its root size a little until it fits.
  var MIN_FIT = 0.6;
  function fitHome() {
    var root = document.documentElement;
    root.style.setProperty('--k-fit', '1');
    if (screen !== 'home' || root.classList.contains('large')) return;
    var fit = 1;
    while (fit > MIN_FIT && root.scrollHeight > window.innerHeight + 1) {
      fit = Math.round((fit - 0.04) * 100) / 100;
      root.style.setProperty('--k-fit', String(fit));
    }
  }
  window.addEventListener('resize', fitHome);

  // ---------------------------------------------------------------- large text (适老化)

  function setLarge(on) {
    document.documentElement.classList.toggle('large', on);
    $('big-toggle').setAttribute('aria-pressed', on ? 'true' : 'false');
    $('big-toggle').textContent = on ? '标准字号' : '大字模式';
    store(LARGE_KEY, on ? '1' : '0');
    fitHome();
  }
  $('big-toggle').addEventListener('click', function () {
    setLarge(!document.documentElement.classList.contains('large'));
  });
  setLarge(load(LARGE_KEY) === '1');

  // ---------------------------------------------------------------- connection

  var client = new HallClient({
    setup: function (c) {
      if (!token) return null;
      return c.request('auth', { token: token }).then(function (r) {
        if (r.role !== 'kiosk' && r.role !== 'manager' && r.role !== 'window') {
          throw { code: 'forbidden', message: 'role ' + r.role };
        }
        if (setupReason) { setupReason = ''; goHome(); }
      });
    },
    subscription: function () { return {}; },
    onSnapshot: function () { render(); },
    onEvent: function () { render(); },
    onSetupError: function (err) {
      if (err && (err.code === 'unauthenticated' || err.code === 'forbidden')) {
        showSetup('本机保存的取号令牌无效或已被吊销,请重新设置。');
      } else {
        showError(err);
      }
    }
  });
  window.hallClient = client;

  if (!token) showSetup('');
  else show('home');
  client.start();

  function tick() {
    var st = client.state;
    $('clock').textContent = U.fmtTime(st.now(), st.hall && st.hall.timezone, false);
  }
  setInterval(tick, 1000);
  tick();
})();
