/*
 * Staff terminal (/terminal): log in at a window, then call next / recall / start / finish /
 * no-show / transfer / pause (with reason) / resume / open / close / call a specific ticket.
 * The session token is kept in sessionStorage; after a reconnect (or a server restart) the
 * terminal authenticates with it instead of the password and subscribes again.
 * Full applicant data of the ticket at the counter comes from command replies (and
 * get_ticket after a reload); the waiting list shows masked names only.
 * The 办件 panel creates cases for the ticket being served (受理 / 容缺受理 / 不予受理 / 补正),
 * resumes a 补正 case by its receipt number (续办) and, at a 出件 window, hands out results (出件).
 */
(function () {
  'use strict';

  var U = HallClient.util;
  var $ = function (id) { return document.getElementById(id); };
  var SESSION_KEY = 'hallops.terminal.session';

  var config = null; // /config.json
  var session = loadSession(); // {token, window, name, role, username}
  var detail = null; // full ticket detail from a reply: {id, ..., applicant: {name, phone, id_number}, note}
  var busy = false;
  var matters = null; // list_matters reply: [{code, name, case_type, queues, ...}]
  var caseMode = 'accept'; // accept | reject | materials
  var bannerTimer = null;

  function loadSession() {
    try { return JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null'); } catch (e) { return null; }
  }
  function saveSession(s) {
    session = s;
    try {
      if (s) sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
      else sessionStorage.removeItem(SESSION_KEY);
    } catch (e) { /* storage unavailable: the session lasts as long as the page */ }
  }

  // ---------------------------------------------------------------- banner

  function banner(text, kind, ms) {
    var el = $('banner');
    el.className = 'tm-banner banner ' + (kind || 'error');
    $('banner-text').textContent = text;
    el.hidden = false;
    clearTimeout(bannerTimer);
    if (ms) bannerTimer = setTimeout(function () { el.hidden = true; }, ms);
  }
  function clearBanner() { $('banner').hidden = true; }
  $('banner-close').addEventListener('click', clearBanner);

  // ---------------------------------------------------------------- config (queues, windows)

  function loadConfig() {
    return fetch('/config.json', { cache: 'no-store' }).then(function (r) { return r.json(); }).then(function (c) {
      config = c;
      $('hall-name').textContent = c.hall && c.hall.name || '政务服务中心';
      var sel = $('login-window');
      var keep = sel.value || (session && session.window) || '';
      sel.innerHTML = '<option value="">请选择窗口</option>' + (c.windows || []).map(function (w) {
        return '<option value="' + w.number + '">' + U.escapeHtml(w.name) + '</option>';
      }).join('');
      var remembered = null;
      try { remembered = localStorage.getItem('hallops.terminal.window'); } catch (e) { /* ignore */ }
      sel.value = String(keep || remembered || '');
      $('tr-queue').innerHTML = '<option value="">(不变)</option>' + (c.queues || []).map(function (q) {
        return '<option value="' + U.escapeHtml(q.code) + '">' + U.escapeHtml(q.code + ' ' + q.name) + '</option>';
      }).join('');
      $('tr-window').innerHTML = '<option value="">(不指定)</option>' + (c.windows || []).map(function (w) {
        return '<option value="' + w.number + '">' + U.escapeHtml(w.name) + '</option>';
      }).join('');
    }).catch(function () { setTimeout(loadConfig, 3000); });
  }

  function windowConfig(n) {
    return config && (config.windows || []).filter(function (w) { return w.number === n; })[0];
  }
  function queueName(code) {
    var q = client.state.queues.get(code) || (config && (config.queues || []).filter(function (x) { return x.code === code; })[0]);
    return q ? q.name : code;
  }

  // ---------------------------------------------------------------- screens

  function showLogin(message) {
    $('login').hidden = false;
    $('desk').hidden = true;
    $('who').hidden = true;
    $('logout').hidden = true;
    $('login-error').hidden = !message;
    $('login-error').textContent = message || '';
    setTimeout(function () { ($('login-user').value ? $('login-pass') : $('login-user')).focus(); }, 0);
  }

  function showDesk() {
    $('login').hidden = true;
    $('desk').hidden = false;
    $('who').hidden = false;
    $('logout').hidden = false;
    render();
  }

  $('login-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var username = $('login-user').value.trim();
    var password = $('login-pass').value;
    var win = Number($('login-window').value);
    if (!username || !password || !win) { showLogin('请填写用户名、密码并选择窗口'); return; }
    $('login-submit').disabled = true;
    client.request('login', { username: username, password: password, window: win })
      .then(function (r) {
        $('login-pass').value = '';
        try { localStorage.setItem('hallops.terminal.window', String(win)); } catch (err) { /* ignore */ }
        saveSession({ token: r.token, window: r.window || win, name: r.name, role: r.role, username: username });
        detail = null;
        matters = null;
        clearBanner();
        showDesk();
        return client.resubscribe();
      })
      .catch(function (err) { showLogin(U.staffErrorText(err)); })
      .then(function () { $('login-submit').disabled = false; });
  });

  $('logout').addEventListener('click', function () {
    if (!confirm('退出登录将关闭本窗口,确定吗?')) return;
    client.request('logout', {})
      .then(function () { saveSession(null); detail = null; clearBanner(); client.resubscribe(); showLogin(''); })
      .catch(function (err) { banner(U.staffErrorText(err)); });
  });

  // ---------------------------------------------------------------- rendering

  function myWindow() {
    return session ? client.state.windows.get(session.window) : null;
  }

  function render() {
    if (!session) return;
    var st = client.state;
    var w = myWindow();
    var n = session.window;
    $('who-window').textContent = (w && w.name) || U.windowLabel(n);
    $('who-staff').textContent = session.name || '';
    var wstate = w ? w.state : 'closed';
    var ws = $('wstate');
    ws.className = 'tm-wstate ' + wstate;
    ws.textContent = U.WINDOW_STATE_TEXT[wstate] + (wstate === 'paused' && w.pause_reason ? '(' + w.pause_reason + ')' : '');

    // Current ticket
    var tid = w && w.ticket_id;
    if (detail && detail.id !== tid) detail = null;
    var tview = tid ? st.tickets.get(tid) : null;
    var tstate = w && w.ticket_state;
    $('cur-number').textContent = (w && w.ticket) || '—';
    var cs = $('cur-state');
    cs.className = 'tm-tstate ' + (tstate || '');
    cs.textContent = tstate ? U.TICKET_STATE_TEXT[tstate] : '';
    var t = detail || tview;
    var meta = '';
    if (t) {
      var pr = U.PRIORITY_TEXT[t.priority] || '';
      meta = (pr ? '<span class="tag">' + U.escapeHtml(pr) + '</span>' : '') +
        U.escapeHtml(queueName(t.queue)) +
        ' · 取号 ' + U.escapeHtml(U.fmtDateTime(t.issued_at, st.hall && st.hall.timezone).slice(11, 16)) +
        (t.recalls ? ' · 已重呼 ' + t.recalls + ' 次' : '');
    } else if (wstate === 'open') {
      meta = '按 F1 或 N 呼叫下一位';
    }
    $('cur-meta').innerHTML = meta;
    var ap = detail && detail.applicant && typeof detail.applicant === 'object' ? detail.applicant : null;
    $('applicant').hidden = !tid;
    $('ap-name').textContent = ap ? (ap.name || '—') : (tview && tview.applicant) || '—';
    $('ap-phone').textContent = ap ? (ap.phone || '—') : '—';
    $('ap-id').textContent = ap ? (ap.id_number || '—') : '—';
    $('ap-note').textContent = (detail && detail.note) || '—';

    // Buttons
    var can = {
      call_next: wstate === 'open' && !tid,
      call_ticket: wstate === 'open' && !tid,
      recall: tstate === 'called',
      start_service: tstate === 'called',
      finish_service: tstate === 'serving',
      no_show: tstate === 'called',
      transfer: !!tid,
      pause_window: wstate === 'open',
      resume_window: wstate === 'paused',
      open_window: wstate === 'closed',
      close_window: wstate !== 'closed' && !tid
    };
    document.querySelectorAll('.tm-act').forEach(function (b) {
      b.disabled = !can[b.dataset.act] || busy;
      // Pause and resume share the P key and the place: show the one that applies.
      if (b.dataset.act === 'pause_window') b.hidden = wstate === 'paused';
      if (b.dataset.act === 'resume_window') b.hidden = wstate !== 'paused';
    });
    render.can = can;

    renderWaiting(n, w);
    renderCases(n, w, tstate);
  }

  function renderWaiting(n, w) {
    var st = client.state;
    var wc = windowConfig(n);
    var queues = (w && w.queues) || (wc && wc.queues) || [];
    var list = st.waiting(queues);
    st.tickets.forEach(function (t) {
      if (t.state === 'waiting' && t.target_window === n && queues.indexOf(t.queue) < 0) list.push(t);
    });
    var now = st.now().getTime();
    var canCall = render.can && render.can.call_ticket;
    var html = list.slice(0, 300).map(function (t) {
      var tags = '';
      if (t.priority === 'green') tags += '<span class="tag green">绿色通道</span> ';
      if (t.priority === 'appointment') tags += '<span class="tag appointment">预约</span> ';
      if (t.target_window === n) tags += '<span class="tag target">转入本窗口</span>';
      var waited = Math.max(0, Math.floor((now - Date.parse(t.issued_at)) / 60000));
      return '<tr data-ticket="' + U.escapeHtml(t.number) + '">' +
        '<td class="num-cell num">' + U.escapeHtml(t.number) + '</td>' +
        '<td>' + U.escapeHtml(queueName(t.queue)) + '</td>' +
        '<td>' + tags + '</td>' +
        '<td>' + U.escapeHtml(t.applicant || '') + '</td>' +
        '<td class="num">' + waited + ' 分钟</td>' +
        '<td><button type="button" class="btn ghost tm-call-row"' + (canCall ? '' : ' disabled') +
        ' data-ticket="' + U.escapeHtml(t.number) + '">呼叫</button></td></tr>';
    }).join('');
    var body = $('wait-body');
    if (body.dataset.html !== html) { body.dataset.html = html; body.innerHTML = html; }
    $('wait-empty').hidden = list.length > 0;
    $('wait-count').textContent = list.length + ' 人';
    $('wait-queues').textContent = queues.map(function (q) { return q + ' ' + queueName(q); }).join(' / ');
  }

  // ---------------------------------------------------------------- actions

  var LABEL = {
    call_next: '呼叫下一位', recall: '重呼', start_service: '开始办理', finish_service: '办结', no_show: '过号',
    transfer: '转移', call_ticket: '指定呼叫', pause_window: '暂停', resume_window: '恢复',
    open_window: '开窗', close_window: '关窗',
    accept_case: '受理', reject_case: '不予受理', request_materials: '补正告知', resume_case: '续办',
    deliver_case: '出件'
  };

  function act(name) {
    if (!session || busy) return;
    if (render.can && !render.can[name]) {
      banner('当前状态不能' + LABEL[name], 'info', 4000);
      return;
    }
    if (name === 'pause_window') { openDialog('dlg-pause', 'pause-reason'); return; }
    if (name === 'transfer') {
      var w = myWindow();
      $('tr-ticket').value = (w && w.ticket) || '';
      openDialog('dlg-transfer', 'tr-queue');
      return;
    }
    if (name === 'call_ticket') { openDialog('dlg-call', 'call-ticket'); return; }
    send(name, { window: session.window });
  }

  function send(type, fields) {
    busy = true;
    render();
    return client.request(type, fields)
      .then(function (r) {
        if (r.window) client.state.windows.set(r.window.number, r.window);
        if (r.ticket && r.ticket.applicant && typeof r.ticket.applicant === 'object') {
          if (r.window && r.window.ticket_id === r.ticket.id) detail = r.ticket;
        }
        var what = LABEL[type] || type;
        var num = r.ticket && r.ticket.number ? ' ' + r.ticket.number : '';
        if (r.case) { num = ' ' + r.case.receipt_no; showCase(r.case); }
        banner(what + num + ' 成功', 'ok', 2500);
        return r;
      })
      .catch(function (err) {
        banner(LABEL[type] ? LABEL[type] + '失败:' + U.staffErrorText(err) : U.staffErrorText(err));
        return null;
      })
      .then(function (r) { busy = false; render(); return r; });
  }

  document.querySelectorAll('.tm-act').forEach(function (b) {
    b.addEventListener('click', function () { act(b.dataset.act); });
  });

  $('wait-body').addEventListener('click', function (e) {
    var b = e.target.closest('.tm-call-row');
    if (!b) return;
    $('call-ticket').value = b.dataset.ticket;
    openDialog('dlg-call', 'call-reason');
  });

  function openDialog(id, focusId) {
    var d = $(id);
    d.querySelectorAll('input').forEach(function (i) { if (i.id !== 'call-ticket' && i.id !== 'tr-ticket') i.value = ''; });
    if (typeof d.showModal === 'function') d.showModal(); else d.setAttribute('open', '');
    if (focusId) setTimeout(function () { $(focusId).focus(); }, 0);
  }
  function closeDialog(d) { if (d.open) d.close(); }
  document.querySelectorAll('[data-close]').forEach(function (b) {
    b.addEventListener('click', function () { closeDialog(b.closest('dialog')); });
  });
  document.querySelectorAll('.tm-dialog').forEach(function (d) {
    d.addEventListener('close', function () { if (d.id === 'dlg-call') $('call-ticket').value = ''; });
  });

  $('pause-presets').addEventListener('click', function (e) {
    var b = e.target.closest('[data-reason]');
    if (b) { $('pause-reason').value = b.dataset.reason; $('pause-reason').focus(); }
  });

  $('form-pause').addEventListener('submit', function (e) {
    e.preventDefault();
    var reason = $('pause-reason').value.trim();
    if (!reason) { $('pause-reason').focus(); return; }
    closeDialog($('dlg-pause'));
    send('pause_window', { window: session.window, reason: reason });
  });

  $('form-call').addEventListener('submit', function (e) {
    e.preventDefault();
    var ticket = $('call-ticket').value.trim().toUpperCase();
    var reason = $('call-reason').value.trim();
    if (!ticket || !reason) return;
    closeDialog($('dlg-call'));
    send('call_ticket', { window: session.window, ticket: ticket, reason: reason });
  });

  $('form-transfer').addEventListener('submit', function (e) {
    e.preventDefault();
    var fields = { ticket: $('tr-ticket').value.trim().toUpperCase() };
    if ($('tr-queue').value) fields.to_queue = $('tr-queue').value;
    if ($('tr-window').value) fields.to_window = Number($('tr-window').value);
    if ($('tr-reason').value.trim()) fields.reason = $('tr-reason').value.trim();
    if (!fields.ticket) return;
    if (!fields.to_queue && !fields.to_window) { banner('请选择转到的业务或窗口', 'info', 4000); return; }
    closeDialog($('dlg-transfer'));
    send('transfer', fields);
  });

  // ---------------------------------------------------------------- cases (办件)

  var CASE_STATE_TEXT = {
    materials_requested: '待补正', accepted: '已受理', in_review: '审查中', suspended: '已中止',
    decided: '已办结', completed: '已出件', rejected: '不予受理',
    in_parts: '一件事·并联办理中', waiting_for_input: '等待前序事项', withdrawn: '已终止'
  };
  var CASE_SUBMIT = { accept: '受理', reject: '不予受理', materials: '发出补正告知' };

  function loadMatters() {
    if (matters || loadMatters.pending || !session) return;
    loadMatters.pending = true;
    client.request('list_matters', {})
      .then(function (r) { matters = r.matters || []; fillMatters(); fillMaterials(); render(); })
      .catch(function (err) { banner('读取事项目录失败:' + U.staffErrorText(err)); })
      .then(function () { loadMatters.pending = false; });
  }

  // The matters this window may accept: those whose queues (list_matters says which queues
  // accept each matter) include one of the window's queues. Only a catalogue that links no
  // matter to any queue (a hall without that mapping) offers every matter.
  function windowMatters() {
    if (!matters || !session) return [];
    var linked = matters.some(function (m) { return (m.queues || []).length > 0; });
    if (!linked) return matters;
    var w = myWindow();
    var wc = windowConfig(session.window);
    var queues = (w && w.queues) || (wc && wc.queues) || [];
    return matters.filter(function (m) {
      return (m.queues || []).some(function (q) { return queues.indexOf(q) >= 0; });
    });
  }

  function fillMatters() {
    var sel = $('case-matter');
    var keep = sel.value;
    var q = $('case-search').value.trim().toLowerCase();
    var list = windowMatters().filter(function (m) {
      return !q || m.name.toLowerCase().indexOf(q) >= 0 || m.code.toLowerCase().indexOf(q) >= 0 ||
        (m.department || '').indexOf(q) >= 0;
    });
    var none = q ? '(无匹配事项)' : '(本窗口的业务没有可受理的事项)';
    sel.innerHTML = (list.length ? '' : '<option value="">' + none + '</option>') + list.slice(0, 500).map(function (m) {
      var days = m.case_type === '即办件' ? '即办' : m.promised_working_days + ' 个工作日';
      return '<option value="' + U.escapeHtml(m.code) + '">' + U.escapeHtml(m.code + ' ' + m.name + '(' + days + ')') + '</option>';
    }).join('');
    if (keep && list.some(function (m) { return m.code === keep; })) sel.value = keep;
  }

  function isDeliveryWindow(n, w) {
    var wc = windowConfig(n);
    return ((w && w.kind) || (wc && wc.kind)) === '出件';
  }

  function renderCases(n, w, tstate) {
    var serving = tstate === 'serving';
    $('case-hint').textContent = serving ? '为 ' + ((w && w.ticket) || '') + ' 办件' : '开始办理后可受理';
    $('case-search').disabled = !serving;
    $('case-matter').disabled = !serving;
    $('case-submit').disabled = !serving || busy || !$('case-matter').value;
    $('case-resume').disabled = busy;
    $('case-deliver').disabled = busy;
    $('case-deliver').hidden = !isDeliveryWindow(n, w);
  }

  function setCaseMode(mode) {
    caseMode = mode;
    document.querySelectorAll('.tm-case-mode').forEach(function (b) {
      b.classList.toggle('active', b.dataset.mode === mode);
    });
    document.querySelectorAll('.tm-case-fields').forEach(function (f) { f.hidden = f.dataset.for !== mode; });
    var submit = $('case-submit');
    submit.textContent = CASE_SUBMIT[mode];
    submit.className = 'btn ' + (mode === 'accept' ? 'green' : mode === 'reject' ? 'red' : 'amber');
  }

  function showCase(cv) {
    var tz = client.state.hall && client.state.hall.timezone;
    $('case-result').hidden = false;
    $('case-no').textContent = cv.receipt_no;
    var st = $('case-state');
    st.className = 'tm-case-state ' + cv.state;
    st.textContent = CASE_STATE_TEXT[cv.state] || cv.state;
    $('case-matter-name').textContent = cv.matter_name || '';
    var due = '';
    if (cv.due_at) due = '办结时限 ' + U.fmtDateTime(cv.due_at, tz).slice(0, 16) + (cv.provisional ? '(暂定)' : '');
    else if (cv.state === 'materials_requested') due = '补正:' + (cv.missing_materials || []).join('、');
    else if (cv.state === 'rejected') due = '原因:' + (cv.rejection_reason || '');
    if (cv.deficiency_item) due += ' · 容缺:' + cv.deficiency_item + (cv.deficiency_promised_date ? '(' + cv.deficiency_promised_date + ' 前补齐)' : '');
    $('case-due').textContent = due;
  }

  // The matter's 材料清单 (list_matters): checkboxes for 补正, the deferrable ones for 容缺.
  function matterOf(code) {
    return (matters || []).filter(function (m) { return m.code === code; })[0] || null;
  }
  function materialLabel(x) {
    return x.name + '(' + x.form + (x.copies > 1 ? '×' + x.copies : '') + ')';
  }
  function fillMaterials() {
    var m = matterOf($('case-matter').value);
    var list = (m && m.materials) || [];
    var box = $('case-materials');
    var keep = {};
    box.querySelectorAll('input:checked').forEach(function (i) { keep[i.value] = true; });
    box.innerHTML = list.length ? list.map(function (x) {
      return '<label class="tm-material"><input type="checkbox" value="' + U.escapeHtml(x.name) + '"' +
        (keep[x.name] ? ' checked' : '') + '>' + U.escapeHtml(materialLabel(x)) + '</label>';
    }).join('') : '<span class="tm-case-hint">(先选择事项)</span>';
    var def = $('case-def-item');
    var was = def.value;
    def.innerHTML = '<option value="">无容缺材料</option>' + list.filter(function (x) { return x.deferrable; })
      .map(function (x) { return '<option value="' + U.escapeHtml(x.name) + '">' + U.escapeHtml('容缺:' + x.name) + '</option>'; })
      .join('');
    if (was && list.some(function (x) { return x.deferrable && x.name === was; })) def.value = was;
  }

  // 一次性告知书: a printable page (80 mm receipt or A4), filled from the case the server answered.
  function printNotice(cv, kind) {
    var m = matterOf(cv.matter_code) || {};
    var items = kind === '容缺' ? [cv.deficiency_item] : (cv.missing_materials || []);
    var byName = {};
    (m.materials || []).forEach(function (x) { byName[x.name] = x; });
    var notice = {
      kind: kind, receipt_no: cv.receipt_no, matter: (cv.matter_code || '') + ' ' + (cv.matter_name || ''),
      department: cv.department || '', hall: (client.state.hall && client.state.hall.name) || '',
      applicant: cv.applicant ? cv.applicant.name : '', at: cv.materials_requested_at || cv.accepted_at || '',
      promised: cv.deficiency_promised_date || '', window: session ? session.window : null,
      items: items.map(function (n) { var x = byName[n]; return x ? { name: n, form: x.form, copies: x.copies } : { name: n }; }),
    };
    var url = '/static/notice.html#' + encodeURIComponent(JSON.stringify(notice));
    var w = window.open(url, 'notice-' + cv.receipt_no);
    if (!w) banner('一次性告知书未能打开(浏览器阻止了弹出窗口)', 'info', 6000);
  }

  $('case-search').addEventListener('input', function () { fillMatters(); fillMaterials(); render(); });
  $('case-matter').addEventListener('change', function () { fillMaterials(); render(); });
  $('case-modes').addEventListener('click', function (e) {
    var b = e.target.closest('.tm-case-mode');
    if (b) setCaseMode(b.dataset.mode);
  });

  $('case-form').addEventListener('submit', function (e) {
    e.preventDefault();
    if (!session || busy) return;
    var matter = $('case-matter').value;
    if (!matter) { banner('请选择事项', 'info', 4000); $('case-search').focus(); return; }
    var fields = { window: session.window, matter: matter };
    var type;
    if (caseMode === 'accept') {
      type = 'accept_case';
      var item = $('case-def-item').value;
      var date = $('case-def-date').value;
      if (item || date) {
        if (!item || !date) { banner('容缺受理需同时填写容缺材料和承诺补齐日期'); return; }
        fields.deficiency_item = item;
        fields.deficiency_promised_date = date;
      }
    } else if (caseMode === 'reject') {
      type = 'reject_case';
      fields.reason = $('case-reason').value.trim();
      if (!fields.reason) { banner('不予受理须填写原因'); $('case-reason').focus(); return; }
    } else {
      type = 'request_materials';
      fields.missing_materials = [];
      $('case-materials').querySelectorAll('input:checked').forEach(function (i) { fields.missing_materials.push(i.value); });
      if (!fields.missing_materials.length) { banner('请勾选需补正的全部材料(一次性告知)'); return; }
    }
    send(type, fields).then(function (r) {
      if (!r) return;
      if (r.case && type === 'request_materials') printNotice(r.case, '补正');
      else if (r.case && fields.deficiency_item) printNotice(r.case, '容缺');
      ['case-def-item', 'case-def-date', 'case-reason'].forEach(function (id) { $(id).value = ''; });
      $('case-materials').querySelectorAll('input:checked').forEach(function (i) { i.checked = false; });
    });
  });

  function receiptAction(type, extra) {
    if (!session || busy) return;
    var receipt = $('case-receipt').value.trim().toUpperCase();
    if (!receipt) { banner('请输入受理编号', 'info', 4000); $('case-receipt').focus(); return; }
    var fields = { window: session.window, receipt_no: receipt };
    Object.keys(extra || {}).forEach(function (k) { fields[k] = extra[k]; });
    send(type, fields).then(function (r) { if (r) $('case-receipt').value = ''; });
  }
  $('case-resume').addEventListener('click', function () { receiptAction('resume_case'); });
  $('case-deliver').addEventListener('click', function () { receiptAction('deliver_case', { method: 'window' }); });
  $('case-receipt').addEventListener('keydown', function (e) {
    if (e.key === 'Enter') { e.preventDefault(); receiptAction('resume_case'); }
  });

  // Keyboard shortcuts for the frequent actions (not while typing or in a dialog).
  var KEYS = { F1: 'call_next', n: 'call_next', r: 'recall', s: 'start_service', f: 'finish_service', x: 'no_show',
    t: 'transfer', k: 'call_ticket', o: 'open_window', c: 'close_window' };
  document.addEventListener('keydown', function (e) {
    if (!session || $('desk').hidden) return;
    if (e.ctrlKey || e.altKey || e.metaKey) return;
    var tag = (e.target && e.target.tagName) || '';
    if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA' || document.querySelector('dialog[open]')) return;
    var key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    var name = KEYS[key];
    if (key === 'p') {
      var w = myWindow();
      name = w && w.state === 'paused' ? 'resume_window' : 'pause_window';
    }
    if (!name) return;
    e.preventDefault(); // F1 would open the browser's help
    act(name);
  });

  // ---------------------------------------------------------------- connection

  function fetchDetail() {
    var w = myWindow();
    if (!w || !w.ticket_id || (detail && detail.id === w.ticket_id)) return;
    client.request('get_ticket', { ticket: w.ticket_id })
      .then(function (r) { if (r.ticket && r.ticket.id === (myWindow() || {}).ticket_id) { detail = r.ticket; render(); } })
      .catch(function () { /* masked data stays */ });
  }

  var client = new HallClient({
    setup: function (c) {
      if (!session) return null;
      return c.request('auth', { token: session.token }).then(function (r) {
        session.role = r.role;
        if (r.window) session.window = r.window;
        saveSession(session);
      });
    },
    subscription: function () {
      if (!session) return null;
      var wc = windowConfig(session.window);
      var sub = { windows: [session.window] };
      if (wc && wc.queues && wc.queues.length) sub.queues = wc.queues;
      return sub;
    },
    onSnapshot: function () { render(); fetchDetail(); loadMatters(); },
    onEvent: function (ev) {
      render();
      if (session && ev.window === session.window) fetchDetail();
    },
    onSetupError: function (err) {
      if (err && err.code === 'unauthenticated') {
        saveSession(null);
        showLogin('登录已失效,请重新登录');
      } else {
        banner(U.staffErrorText(err));
      }
    }
  });
  window.hallClient = client;

  function tick() {
    var st = client.state;
    $('clock').textContent = U.fmtTime(st.now(), st.hall && st.hall.timezone, true);
  }
  setInterval(tick, 1000);
  setInterval(render, 30000); // the waited minutes
  tick();

  loadConfig().then(function () {
    if (session) showDesk(); else showLogin('');
    client.start();
  });
})();
