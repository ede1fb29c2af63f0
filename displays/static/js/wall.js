/*
 * Wall display (/display/wall, optional ?zone=A区 or ?queues=A,B).
 * Shows the newest call large (at once: the voice never holds the display back), the recent
 * calls, waiting counts and estimated waits per queue, the hall name, date, clock and the
 * scrolling notice. Every call is announced (chime + Mandarin) through the Announcer queue.
 *
 * Voice options (URL parameters, defaults in brackets):
 *   ?voice=auto|speech|clips   [auto: the browser's zh-CN voice, else the recorded clips]
 *   ?voice_max_pending=N       [4: more calls waiting to be announced -> skip to the newest per window]
 *   ?voice_max_age_s=S         [30: a call waiting longer -> skip to the newest per window]
 */
(function () {
  'use strict';

  var U = HallClient.util;
  var $ = function (id) { return document.getElementById(id); };
  var params = new URLSearchParams(location.search);
  var FLASH_MS = 8000;
  var MISSED_CALL_MS = 60000; // calls made while disconnected: announced if this recent

  var displayToken = HallClient.deviceToken('hallops.display.token');
  var subscription = {};
  if (params.get('zone')) subscription.zone = params.get('zone');
  if (params.get('queues')) {
    subscription.queues = params.get('queues').split(',').map(function (s) { return s.trim(); }).filter(Boolean);
  }

  var heroId = null; // ticket id of the newest call or recall: shown large
  var flashUntil = new Map(); // ticket_id -> time until which its tile flashes
  var queuePage = 0;
  var lastNotice = null;
  var client;

  function callKey(ticketId, at) { return 'call:' + ticketId + '@' + Date.parse(at); }

  function numParam(name) {
    var v = parseFloat(params.get(name));
    return isFinite(v) && v > 0 ? v : null;
  }
  var voiceOpts = { onStatus: renderVoiceStatus };
  if (/^(auto|speech|clips)$/.test(params.get('voice') || '')) voiceOpts.prefer = params.get('voice');
  if (numParam('voice_max_pending')) voiceOpts.maxPending = Math.round(numParam('voice_max_pending'));
  if (numParam('voice_max_age_s')) voiceOpts.maxAgeMs = numParam('voice_max_age_s') * 1000;
  var announcer = new Announcer(voiceOpts);
  window.hallAnnouncer = announcer; // for diagnostics on site

  function announce(number, windowNumber, ticketId, key, recall) {
    var queued = announcer.announceCall({ key: key, number: number, window: windowNumber, ticket_id: ticketId, recall: !!recall });
    if (queued) flashUntil.set(ticketId, Date.now() + FLASH_MS);
    return queued;
  }

  /** A new call or recall goes on the large panel at once. */
  function showNewest(ticketId) {
    heroId = ticketId;
    flashHero();
    scheduleRender();
  }

  // ---------------------------------------------------------------- protocol

  function onSnapshot(state, info) {
    if (state.hall && state.hall.announce_repeat) announcer.repeat = state.hall.announce_repeat;
    heroId = state.recentCalls.length ? state.recentCalls[0].ticket_id : null;
    var now = state.now().getTime();
    // Oldest first, so missed calls are announced in the order they were made.
    state.recentCalls.slice().reverse().forEach(function (c) {
      var key = callKey(c.ticket_id, c.called_at);
      if (info.first) { announcer.markSeen(key); return; } // on screen already when the page opened
      if (c.state === 'called' && now - Date.parse(c.called_at) < MISSED_CALL_MS) {
        announce(c.ticket, c.window, c.ticket_id, key);
      } else {
        announcer.markSeen(key);
      }
    });
    render();
  }

  function onEvent(ev) {
    if (ev.type === 'ticket_called') {
      if (announce(ev.data.number, ev.window, ev.ticket, callKey(ev.ticket, ev.at))) showNewest(ev.ticket);
    } else if (ev.type === 'ticket_recalled') {
      var d = ev.data || {};
      if (announce(d.number, ev.window, ev.ticket, 'recall:' + ev.ticket + '#' + d.recall + '@' + Date.parse(ev.at), true)) {
        showNewest(ev.ticket);
      }
    }
    scheduleRender();
  }

  // ---------------------------------------------------------------- rendering

  var renderPending = false;
  function scheduleRender() {
    if (renderPending) return;
    renderPending = true;
    requestAnimationFrame(function () { renderPending = false; render(); });
  }

  function render() {
    var st = client.state;
    if (!st.loaded) return;
    var hall = st.hall || {};
    $('hall-name').textContent = hall.name || '政务服务中心';
    document.title = (hall.name || '叫号大屏') + ' · 叫号';
    if (subscription.zone) { $('zone').hidden = false; $('zone').textContent = subscription.zone; }
    renderNotice(hall.notice || '');
    renderNow(st);
    renderRecent(st);
    renderQueues(st);
    renderVoiceStatus();
  }

  // The newest call (or the ticket recalled since): never the one the voice is still at.
  function currentHero(st) {
    var c = null;
    for (var i = 0; heroId && i < st.recentCalls.length; i++) {
      if (st.recentCalls[i].ticket_id === heroId) { c = st.recentCalls[i]; break; }
    }
    c = c || st.recentCalls[0];
    return c ? { ticket: c.ticket, ticket_id: c.ticket_id, window: c.window } : null;
  }

  function renderNow(st) {
    var h = currentHero(st);
    $('now-ticket').textContent = h ? h.ticket : '—';
    $('now-window').textContent = h ? '请到 ' + h.window + ' 号窗口' : '请留意叫号';
    $('now').dataset.ticket = h ? h.ticket : '';
  }

  function flashHero() {
    var el = $('now');
    el.classList.remove('flash');
    void el.offsetWidth; // restart the animation
    el.classList.add('flash');
  }

  function renderRecent(st) {
    var h = currentHero(st);
    var now = Date.now();
    flashUntil.forEach(function (until, id) { if (until < now) flashUntil.delete(id); });
    var list = st.recentCalls.filter(function (c) { return !h || c.ticket_id !== h.ticket_id; });
    var html = list.map(function (c) {
      var flash = (flashUntil.get(c.ticket_id) || 0) > now ? ' flash' : '';
      return '<li class="state-' + U.escapeHtml(c.state) + flash + '" data-ticket="' + U.escapeHtml(c.ticket) + '">' +
        '<span class="t num">' + U.escapeHtml(c.ticket) + '</span>' +
        '<span class="w">' + U.escapeHtml(U.windowLabel(c.window)) + '</span></li>';
    }).join('');
    var ol = $('recent-list');
    if (ol.dataset.html !== html) {
      ol.dataset.html = html;
      ol.innerHTML = html || '<li class="recent-empty">暂无更多叫号</li>';
      // A tile that does not fit whole is left out rather than shown cut.
      var limit = ol.clientHeight;
      Array.prototype.forEach.call(ol.children, function (li) {
        if (li.offsetTop - ol.offsetTop + li.offsetHeight > limit + 1) li.hidden = true;
      });
    }
  }

  function queueRowHtml(q) {
    var closed = !q.open;
    var waitCell = closed ? '<span class="tag">暂停取号</span>'
      : (q.waiting === 0 ? '<span class="none">无需等待</span>'
        : '<span class="wait num">' + U.fmtMinutes(q.estimated_wait_s) + '</span><span class="unit">分钟</span>');
    return '<div class="qrow' + (closed ? ' closed' : '') + '" role="row" data-queue="' + U.escapeHtml(q.code) + '">' +
      '<span class="name zh-words' + nameClass(q.name) + '" role="cell"><span class="code">' + U.escapeHtml(q.code) + '</span>' + U.phraseHtml(q.name) + '</span>' +
      '<span class="n" role="cell"><span class="cnt num">' + q.waiting + '</span><span class="unit">人</span></span>' +
      '<span class="n" role="cell">' + waitCell + '</span></div>';
  }

  // Long names (e.g. 公安(出入境·治安·交警)) get a smaller size instead of being cut.
  function nameClass(name) {
    var n = String(name || '').length;
    return n > 11 ? ' longer' : n > 8 ? ' long' : '';
  }

  function renderQueues(st) {
    var queues = Array.from(st.queues.values());
    var body = $('queue-body');
    // How many rows fit: measure one row, then page through the queues when they do not fit.
    if (!body.firstChild) body.innerHTML = queues.length ? queueRowHtml(queues[0]) : '';
    var rowH = body.firstChild ? body.firstChild.getBoundingClientRect().height : 60;
    var perPage = Math.max(1, Math.floor(body.clientHeight / Math.max(rowH, 1)));
    var pages = Math.max(1, Math.ceil(queues.length / perPage));
    if (queuePage >= pages) queuePage = 0;
    var slice = queues.slice(queuePage * perPage, (queuePage + 1) * perPage);
    var html = slice.map(queueRowHtml).join('');
    if (body.dataset.html !== html) { body.dataset.html = html; body.innerHTML = html; }
    $('queue-page').textContent = pages > 1 ? (queuePage + 1) + '/' + pages : '';
    renderQueues.pages = pages;
  }

  function renderNotice(text) {
    if (text === lastNotice) return;
    lastNotice = text;
    var span = $('notice');
    span.textContent = text;
    requestAnimationFrame(function () {
      var px = span.getBoundingClientRect().width;
      span.style.setProperty('--marquee-s', Math.max(12, px / 140) + 's'); // about 140 px a second
    });
  }

  function renderVoiceStatus() {
    var el = $('voice-status');
    if (announcer.voiceAvailable === false) {
      el.hidden = false;
      el.textContent = announcer.voiceReason === 'blocked' || announcer.audioBlocked()
        ? '语音不可用 · 点击屏幕启用' : '语音不可用';
    } else if (announcer.audioBlocked()) {
      el.hidden = false;
      el.textContent = '声音未启用 · 点击屏幕启用';
    } else {
      el.hidden = true;
    }
  }

  function tickClock() {
    var st = client.state;
    var tz = st.hall && st.hall.timezone;
    var now = st.now();
    $('clock').textContent = U.fmtTime(now, tz, true);
    $('date').textContent = U.fmtDate(now, tz);
  }

  function displaySetupError(err) {
    var code = err && err.code;
    if (code === 'display_token_required' || code === 'unauthenticated') {
      HallClient.notice(code === 'unauthenticated' ? '显示屏令牌无效或已被吊销' : '本大厅要求显示屏令牌',
        '请管理员运行 hallops token --role display 生成令牌,\n然后在本机打开 ' + location.origin + location.pathname +
        '?token=令牌(只需一次,令牌保存在本机浏览器中)。');
    } else {
      HallClient.notice('无法显示叫号', HallClient.util.errorText(err));
    }
  }

  // ---------------------------------------------------------------- start

  client = new HallClient({
    setup: function (c) { return displayToken ? c.request('auth', { token: displayToken }) : null; },
    subscription: function () { return subscription; },
    onSnapshot: function (state, info) { HallClient.notice(null); onSnapshot(state, info); },
    onEvent: onEvent,
    onSetupError: displaySetupError
  });
  window.hallClient = client;
  client.start();

  document.addEventListener('pointerdown', function () { announcer.unlock(); renderVoiceStatus(); });
  document.addEventListener('keydown', function () { announcer.unlock(); renderVoiceStatus(); });
  setInterval(tickClock, 1000);
  tickClock();
  setInterval(function () { if ((renderQueues.pages || 1) > 1) { queuePage += 1; render(); } }, 8000);
  setInterval(render, 1000); // ends the tile flashes
  window.addEventListener('resize', function () { $('queue-body').innerHTML = ''; render(); });
})();
