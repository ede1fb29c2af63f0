/*
 * The 好差评 rating pad of one window (/rate/<n>?token=...), a small screen at the counter.
 *
 * Authenticates with a rating_pad token bound to window n (hallops token --role rating_pad
 * --window n; given once as ?token=, then kept in localStorage) and subscribes to its
 * window. After each service_finished of that window it asks the server which service it may
 * rate (get_rateable_service: the window's last finished service, within the hall's
 * rating_pad_minutes) and shows its number, matter and staff name with the five levels.
 * A 差评 (1-2) asks for a reason (pick list and/or text) before it is sent. The server
 * enforces one rating per service; the pad only ever rates its own window's last service.
 */
(function () {
  'use strict';

  var U = HallClient.util;
  var $ = function (id) { return document.getElementById(id); };
  var m = location.pathname.match(/\/rate\/(\d+)/);
  var windowNo = m ? Number(m[1]) : null;
  var token = HallClient.deviceToken('hallops.rate.token.' + windowNo);
  var THANKS_MS = 6000;

  var service = null; // what get_rateable_service returned
  var reasons = [];
  var chosen = null;
  var view = 'idle';
  var untilTimer = null;
  var thanksTimer = null;
  var refreshing = null;

  function show(name) {
    view = name;
    document.body.className = 'rate rate-' + name;
    $('idle').hidden = name !== 'idle';
    $('ask').hidden = name !== 'ask';
    $('thanks').hidden = name !== 'thanks';
  }

  function error(text) {
    $('error').textContent = text || '';
    $('error').hidden = !text;
  }

  function errText(err) {
    return U.errorText(err, 'pad');
  }

  function tz() { return (client.state.hall && client.state.hall.timezone) || 'Asia/Shanghai'; }

  function renderIdle() {
    var w = client.state.windows.get(windowNo);
    $('window-name').textContent = w ? w.name : U.windowLabel(windowNo);
    $('idle-staff').textContent = w && w.staff_name ? '本窗口工作人员:' + w.staff_name : '';
    if (client.state.hall && client.state.hall.name) $('hall-name').textContent = client.state.hall.name;
  }

  function renderAsk() {
    $('svc-number').textContent = service.ticket_number;
    $('svc-matter').textContent = service.matter_name || service.queue_name || '';
    $('svc-staff').textContent = service.staff_name || '—';
    $('until').textContent = '请在 ' + U.fmtTime(new Date(service.rateable_until), tz()) + ' 前完成评价';
    $('reasons').hidden = true;
    chosen = null;
    Array.prototype.forEach.call(document.querySelectorAll('.rt-score'), function (b) {
      b.classList.remove('chosen');
      b.disabled = false;
    });
    $('picks').innerHTML = reasons.map(function (r, i) {
      return '<label><input type="checkbox" name="reason" value="' + U.escapeHtml(r) + '" id="pick-' + i + '">' +
        '<span>' + U.escapeHtml(r) + '</span></label>';
    }).join('');
    $('reason-text').value = '';
    show('ask');
  }

  function scheduleExpiry() {
    clearTimeout(untilTimer);
    if (!service) return;
    var ms = Date.parse(service.rateable_until) - client.state.now().getTime();
    untilTimer = setTimeout(function () { if (view === 'ask') refresh(); }, Math.max(1000, ms + 500));
  }

  /** Ask the server what may be rated now and show it. */
  function refresh() {
    if (refreshing) return refreshing;
    refreshing = client.request('get_rateable_service', {}).then(function (reply) {
      if (reply.reasons) reasons = reply.reasons.map(function (r) { return r.text; });  // the catalogue: {text, party}
      var s = reply.service;
      renderIdle();
      if (view === 'thanks' && s && service && s.ticket === service.ticket) return; // keep the thanks
      if (s && !s.rated) {
        if (!(view === 'ask' && service && service.ticket === s.ticket)) {
          service = s;
          error('');
          renderAsk();
        }
        service = s;
        scheduleExpiry();
      } else if (view !== 'thanks') {
        service = null;
        show('idle');
      }
    }).catch(function (err) {
      error(errText(err));
    }).then(function () { refreshing = null; });
    return refreshing;
  }

  function send(score) {
    if (!service) return;
    var fields = { ticket: service.ticket, score: score };
    if (score <= 2) {
      fields.reasons = Array.prototype.map.call(document.querySelectorAll('#picks input:checked'),
        function (i) { return i.value; });
      var text = $('reason-text').value.trim();
      if (text) fields.text = text;
      if (!fields.reasons.length && !text) { error(U.errorText('reason_required', 'pad')); return; }
    }
    Array.prototype.forEach.call(document.querySelectorAll('.rt-score'), function (b) { b.disabled = true; });
    $('reason-submit').disabled = true;
    client.request('rate_service', fields).then(function (reply) {
      error('');
      var r = reply.rating || {};
      $('thanks-text').textContent = r.bad
        ? '我们已记录您的意见,将在 1 个工作日内与您沟通并整改。'
        : '您的意见是我们改进服务的动力。';
      show('thanks');
      clearTimeout(thanksTimer);
      thanksTimer = setTimeout(function () { service = null; show('idle'); refresh(); }, THANKS_MS);
    }).catch(function (err) {
      error(errText(err));
      if (err && (err.code === 'already_rated' || err.code === 'rating_expired' || err.code === 'not_rateable')) {
        service = null;
        show('idle');
      }
    }).then(function () {
      $('reason-submit').disabled = false;
      Array.prototype.forEach.call(document.querySelectorAll('.rt-score'), function (b) { b.disabled = false; });
    });
  }

  $('scores').addEventListener('click', function (e) {
    var b = e.target.closest('.rt-score');
    if (!b || b.disabled) return;
    var score = Number(b.getAttribute('data-score'));
    chosen = score;
    Array.prototype.forEach.call(document.querySelectorAll('.rt-score'), function (x) {
      x.classList.toggle('chosen', x === b);
    });
    if (score <= 2) {
      $('reasons').hidden = false;
      error('');
    } else {
      $('reasons').hidden = true;
      send(score);
    }
  });
  $('reasons').addEventListener('submit', function (e) { e.preventDefault(); if (chosen) send(chosen); });
  $('reason-back').addEventListener('click', function () {
    $('reasons').hidden = true;
    chosen = null;
    Array.prototype.forEach.call(document.querySelectorAll('.rt-score'), function (x) { x.classList.remove('chosen'); });
  });

  var client = new HallClient({
    setup: function (c) {
      if (windowNo == null) throw { code: 'unknown_window', message: '地址应为 /rate/<窗口号>' };
      if (!token) throw { code: 'no_token', message: '' };
      return c.request('auth', { token: token }).then(function (reply) {
        if (reply.role !== 'rating_pad' || reply.window !== windowNo) {
          throw { code: 'wrong_token', message: '该令牌属于 ' + (reply.window || '?') + ' 号窗口的' + reply.role };
        }
      });
    },
    subscription: function () { return { windows: [windowNo] }; },
    onSnapshot: function () { HallClient.notice(null); renderIdle(); refresh(); },
    onEvent: function (ev) {
      if (ev.window === windowNo) { renderIdle(); refresh(); }
    },
    onSetupError: function (err) {
      if (err.code === 'no_token' || err.code === 'unauthenticated' || err.code === 'wrong_token') {
        HallClient.notice('需要评价器令牌',
          '请管理员运行 hallops token --role rating_pad --window ' + windowNo +
          ',并用 /rate/' + windowNo + '?token=<令牌> 打开本页。' + (err.code === 'wrong_token' ? '\n' + err.message : ''));
      } else {
        HallClient.notice('无法启动评价器', U.errorText(err));
      }
    }
  });
  show('idle');
  client.start();
  window.__ratePad = client; // for tests and debugging
})();
