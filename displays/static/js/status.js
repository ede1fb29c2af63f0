/*
 * Citizen status page (/t/<status_token>), opened from the QR code on the ticket.
 * Subscribes with ticket_token: the server sends this one ticket only. Shows position,
 * estimated wait and "请到 5 号窗口" when called, live. Nothing about other people.
 */
(function () {
  'use strict';

  var U = HallClient.util;
  var $ = function (id) { return document.getElementById(id); };
  var m = location.pathname.match(/\/t\/([A-Za-z0-9_-]+)/);
  var token = m ? m[1] : '';
  var REFRESH_MS = 20000; // positions move when others are called: refresh the snapshot
  var last = null; // the last ticket view seen
  var missing = false;
  var vibratedFor = null;
  var lastUpdate = null;

  function myTicket(st) {
    var t = null;
    st.tickets.forEach(function (v) { t = v; });
    if (t) return t;
    // Finished tickets are not in a snapshot; the recent calls may still say how it ended.
    var c = st.recentCalls[0];
    if (!c) return null;
    var base = last && last.id === c.ticket_id ? last : { id: c.ticket_id, number: c.ticket, queue: c.queue };
    return Object.assign({}, base, { state: c.state, window: c.window });
  }

  function setState(cls) { document.body.className = 'status st-' + cls; }

  function render() {
    var st = client.state;
    if (st.hall && st.hall.name) $('hall-name').textContent = st.hall.name;
    if (missing) {
      setState('missing');
      $('number').textContent = '—';
      $('state').textContent = '未找到该号码';
      $('hint').textContent = '号码仅当日有效。如有疑问,请咨询大厅导办人员。';
      $('facts').hidden = true;
      $('window').hidden = true;
      return;
    }
    if (!st.loaded) return;
    var t = myTicket(st);
    if (!t) {
      setState('done');
      $('state').textContent = '该号码今日已结束';
      $('facts').hidden = true;
      $('window').hidden = true;
      $('hint').textContent = '';
      return;
    }
    last = t;
    var q = st.queues.get(t.queue);
    $('queue').textContent = q ? q.name : (t.queue_name || '');
    $('number').textContent = t.number;
    $('green').hidden = t.priority !== 'green';
    document.title = t.number + ' · 排队进度';
    var win = t.window != null ? st.windows.get(t.window) : null;
    var winText = t.window != null ? '请到 ' + t.window + ' 号窗口' : '';
    $('facts').hidden = t.state !== 'waiting';
    $('window').hidden = true;
    var hint = '';
    setState(t.state);
    if (t.state === 'waiting') {
      $('state').textContent = t.target_window ? '等候中(已转至 ' + t.target_window + ' 号窗口)' : '等候中';
      $('ahead').textContent = t.position != null ? Math.max(0, t.position - 1) : '—';
      $('wait').textContent = U.fmtWait(t.estimated_wait_s);
      hint = t.position === 1 ? '即将轮到您,请回到叫号屏附近留意叫号。' : '请留意叫号屏,轮到您时本页会提示。';
    } else if (t.state === 'called') {
      $('state').textContent = '轮到您了!';
      $('window').hidden = false;
      $('window').textContent = winText;
      hint = (win && win.name ? win.name + '。' : '') + '请尽快前往办理,过号需联系工作人员。';
      var key = t.id + '@' + t.called_at + '#' + (t.recalls || 0);
      if (vibratedFor !== key) {
        vibratedFor = key;
        if (navigator.vibrate) { try { navigator.vibrate([300, 120, 300]); } catch (e) { /* not allowed */ } }
      }
    } else if (t.state === 'serving') {
      $('state').textContent = '正在办理';
      $('window').hidden = t.window == null;
      $('window').textContent = t.window != null ? t.window + ' 号窗口' : '';
    } else if (t.state === 'done') {
      $('state').textContent = '已办结,感谢您的耐心等待';
    } else if (t.state === 'no_show') {
      $('state').textContent = '已过号';
      hint = '如需继续办理,请联系大厅工作人员。';
    } else if (t.state === 'cancelled') {
      $('state').textContent = '该号码已取消';
    }
    $('hint').textContent = hint;
    lastUpdate = st.now();
    $('updated').textContent = '更新于 ' + U.fmtTime(lastUpdate, st.hall && st.hall.timezone, true);
  }

  var client = new HallClient({
    subscription: function () { return token ? { ticket_token: token } : null; },
    onSnapshot: function () { missing = false; render(); },
    onEvent: function () { render(); },
    onSetupError: function (err) {
      if (err && err.code === 'unknown_ticket') { missing = true; render(); }
      else HallClient.notice('暂时无法显示排队进度', U.errorText(err, 'status'));
    }
  });
  window.hallClient = client;
  if (!token) { missing = true; render(); }
  client.start();

  // Events only concern this ticket; other calls move it up, so refresh now and then.
  setInterval(function () {
    if (!document.hidden && last && last.state === 'waiting') client.resync().catch(function () {});
  }, REFRESH_MS);
  document.addEventListener('visibilitychange', function () {
    if (!document.hidden) {
      if (!client.isOpen()) client.reconnectNow();
      else client.resync().catch(function () {});
    }
  });
})();
