/*
 * Window display (/display/window/<n>): the number now at this window and the window's
 * state (暂停服务 with its reason, 未开放 when closed), with the window's name.
 */
(function () {
  'use strict';

  var U = HallClient.util;
  var $ = function (id) { return document.getElementById(id); };
  var match = location.pathname.match(/\/display\/window\/(\d+)/);
  var number = match ? Number(match[1]) : Number(new URLSearchParams(location.search).get('window'));
  var displayToken = HallClient.deviceToken('hallops.display.token');
  var lastCallKey = null;
  var failed = null;

  function render() {
    var body = document.body;
    if (failed) {
      body.className = 'windisp state-closed';
      $('wd-name').textContent = number + '号窗口';
      $('wd-status').textContent = failed;
      return;
    }
    var w = client.state.windows.get(number);
    if (!w) return;
    $('wd-name').textContent = w.name || U.windowLabel(number);
    document.title = (w.name || U.windowLabel(number)) + ' · 窗口屏';
    $('wd-kind').textContent = [w.zone, w.kind].filter(Boolean).join(' · ');
    $('wd-staff').textContent = w.staff_name ? '工作人员:' + w.staff_name : '';
    var state = w.state;
    var reason = '';
    var status;
    var cls = state;
    if (state === 'closed') {
      status = '未开放';
    } else if (state === 'paused') {
      status = '暂停服务';
      reason = w.pause_reason || '';
    } else if (w.ticket && w.ticket_state === 'called') {
      cls = 'called';
      status = '请 ' + w.ticket + ' 号到本窗口办理';
    } else if (w.ticket && w.ticket_state === 'serving') {
      cls = 'serving';
      status = '正在办理';
    } else {
      cls = 'idle';
      status = '等待叫号';
    }
    body.className = 'windisp state-' + cls;
    $('wd-ticket').textContent = w.ticket || '—';
    $('wd-status').textContent = status;
    $('wd-reason').hidden = !reason;
    $('wd-reason').textContent = reason ? '原因:' + reason : '';
  }

  function flash(key) {
    if (key === lastCallKey) return;
    lastCallKey = key;
    var el = document.querySelector('.wd-main');
    el.classList.remove('flash');
    void el.offsetWidth;
    el.classList.add('flash');
  }

  var client = new HallClient({
    setup: function (c) { return displayToken ? c.request('auth', { token: displayToken }) : null; },
    subscription: function () { return number ? { windows: [number] } : null; },
    onSnapshot: function () { failed = null; HallClient.notice(null); render(); },
    onEvent: function (ev) {
      if (ev.window === number && (ev.type === 'ticket_called' || ev.type === 'ticket_recalled')) {
        flash(ev.type + ev.ticket + ev.at);
      }
      render();
    },
    onSetupError: function (err) {
      var code = err && err.code;
      if (code === 'display_token_required' || code === 'unauthenticated') {
        HallClient.notice(code === 'unauthenticated' ? '显示屏令牌无效或已被吊销' : '本大厅要求显示屏令牌',
          '请管理员运行 hallops token --role display 生成令牌,\n然后打开 ' + location.origin + location.pathname + '?token=令牌');
        return;
      }
      failed = code === 'unknown_window' ? '没有 ' + number + ' 号窗口' : U.errorText(err);
      render();
    }
  });
  window.hallClient = client;
  if (!number) {
    failed = '地址应为 /display/window/<窗口号>';
    render();
  }
  client.start();

  function tick() {
    var st = client.state;
    $('wd-clock').textContent = U.fmtTime(st.now(), st.hall && st.hall.timezone, false);
  }
  setInterval(tick, 1000);
  tick();
})();
