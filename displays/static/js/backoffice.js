/*
 * The back office (/backoffice): staff log in (back-office accounts and managers), see
 * their department's cases (办件) sorted by due date with 超期 / 即将到期 marks and the steps
 * they may take (审查, 中止, 恢复, 延期, 办结, 邮寄送达, 容缺补齐), and the 差评 rectification
 * list with its contact and rectification due times (联系, 当场解决, 整改, 回访, 解释说明,
 * 申诉; a manager decides appeals). Everything goes through the protocol (docs/protocol.md);
 * the server checks the department and the role. Lists refresh on every staff event
 * (case and rating events reach staff connections only) and every 30 s for the marks.
 */
(function () {
  'use strict';

  var U = HallClient.util;
  var $ = function (id) { return document.getElementById(id); };
  var SESSION_KEY = 'hallops.backoffice.session';
  var REFRESH_MS = 30000;

  var CASE_STATE = {
    materials_requested: '待补正', accepted: '已受理', in_review: '审查中', suspended: '中止(不计时)',
    decided: '已办结待出件', completed: '已出件', rejected: '不予受理',
    in_parts: '一件事·各部门办理中', waiting_for_input: '等待前序事项', withdrawn: '已终止(前序未通过)'
  };
  var RECT_STATE = { open: '待联系', contacted: '已联系待整改', rectified: '已整改待回访', appealed: '申诉中', closed: '已结束' };
  var OUTCOME = { rectified: '整改完成', on_the_spot: '当场解决', explained: '解释说明', appeal_upheld: '申诉成立(不计入统计)' };
  var LEVELS = { 5: '非常满意', 4: '满意', 3: '基本满意', 2: '不满意', 1: '非常不满意' };
  var SUSPENSION_REASONS = ['听证', '招标', '拍卖', '检验', '检测', '检疫', '鉴定', '专家评审'];

  var CASE_ACTIONS = [
    { type: 'start_review', label: '开始审查', states: ['accepted'] },
    { type: 'suspend_case', label: '中止', states: ['in_review'], fields: [
      { name: 'reason', label: '中止原因(行政许可法第四十五条)', kind: 'select', options: SUSPENSION_REASONS },
      { name: 'expected_working_days', label: '预计所需工作日', kind: 'number', min: 1, value: 5 },
      { name: 'note', label: '说明', kind: 'text', optional: true }] },
    { type: 'resume_review', label: '恢复审查', states: ['suspended'] },
    { type: 'extend_case', label: '延期', states: ['accepted', 'in_review'],
      when: function (k) { return !k.extension_days && k.case_type !== '即办件'; }, fields: [
        { name: 'working_days', label: '延长工作日(至多 10 个)', kind: 'number', min: 1, max: 10, value: 10 },
        { name: 'reason', label: '延期理由', kind: 'text' }] },
    { type: 'decide_case', label: '准予办结', states: ['in_review'], fixed: { decision: 'approved' }, cls: 'green',
      fields: [{ name: 'note', label: '说明', kind: 'text', optional: true }] },
    { type: 'decide_case', label: '不予许可', states: ['in_review'], fixed: { decision: 'disapproved' }, cls: 'red',
      fields: [{ name: 'note', label: '理由', kind: 'text' }] },
    { type: 'deliver_case', label: '邮寄送达', states: ['decided'], fixed: { method: 'post' },
      when: function (k) { return !k.bundle_receipt; },  // a part goes out with its bundle (统一出件)
      fields: [{ name: 'note', label: '邮寄单号', kind: 'text', optional: true }] },
    { type: 'supply_materials', label: '容缺材料已补齐', states: ['accepted', 'in_review', 'suspended', 'decided'],
      when: function (k) { return k.deficiency_status === 'pending' || k.deficiency_status === 'overdue'; } }
  ];

  var RECT_ACTIONS = [
    { type: 'contact_rater', label: '已联系', states: ['open'], fields: [{ name: 'note', label: '沟通情况', kind: 'text' }] },
    { type: 'resolve_on_the_spot', label: '当场解决', states: ['open'], fields: [{ name: 'note', label: '解决情况', kind: 'text' }] },
    { type: 'rectify', label: '已整改', states: ['contacted'], fields: [{ name: 'measures', label: '整改措施及反馈', kind: 'text' }] },
    { type: 'revisit', label: '回访', states: ['rectified'], fields: [
      { name: 'satisfaction', label: '群众满意度', kind: 'select', options: [5, 4, 3, 2, 1], labels: LEVELS },
      { name: 'note', label: '回访情况', kind: 'text', optional: true }] },
    { type: 'explain_rating', label: '解释说明', states: ['open', 'contacted'],
      fields: [{ name: 'explanation', label: '解释说明(诉求无法律依据)', kind: 'text' }] },
    { type: 'appeal_rating', label: '申诉', states: ['open', 'contacted', 'rectified'],
      when: function (r) { return !r.appeal_decision; }, fields: [{ name: 'reason', label: '申诉理由', kind: 'text' }] },
    { type: 'decide_appeal', label: '申诉成立', states: ['appealed'], managerOnly: true, fixed: { decision: 'upheld' }, cls: 'green',
      fields: [{ name: 'note', label: '说明', kind: 'text', optional: true }] },
    { type: 'decide_appeal', label: '驳回申诉', states: ['appealed'], managerOnly: true, fixed: { decision: 'rejected' }, cls: 'red',
      fields: [{ name: 'note', label: '驳回理由', kind: 'text' }] }
  ];

  var session = null; // {token, role, name}
  var me = null;
  var cases = [];
  var rects = [];
  var tab = 'cases';
  var pending = null; // the action the form is for
  var refreshTimer = null;
  var loading = null;
  try { session = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null'); } catch (e) { session = null; }

  function tz() { return (client.state.hall && client.state.hall.timezone) || 'Asia/Shanghai'; }

  /** "2026-11-24 17:30" in the hall's timezone. */
  function when(iso) {
    if (!iso) return '—';
    return U.fmtDateTime(iso, tz()).slice(0, 16);
  }

  function errText(err) { return U.staffErrorText(err); }

  function message(kind, text) {
    $('error').hidden = kind !== 'error' || !text;
    $('info').hidden = kind !== 'info' || !text;
    $(kind === 'error' ? 'error' : 'info').textContent = text || '';
  }

  function showLogin(show, err) {
    $('login-box').hidden = !show;
    $('main').hidden = show;
    $('user').hidden = show;
    $('login-error').hidden = !err;
    $('login-error').textContent = err || '';
  }

  // ------------------------------------------------------------------ lists

  function refresh() {
    if (!me) return Promise.resolve();
    if (loading) return loading;
    var dept = $('dept-filter').value || undefined;
    var fields = dept && me.role === 'manager' ? { department: dept } : {};
    loading = Promise.all([
      client.request('list_cases', fields),
      client.request('list_rectifications', fields)
    ]).then(function (replies) {
      cases = replies[0].cases || [];
      rects = replies[1].rectifications || [];
      if (me && me.role === 'backoffice') $('user-dept').textContent = replies[0].department || '';
      render();
    }).catch(function (err) {
      message('error', errText(err));
    }).then(function () { loading = null; });
    return loading;
  }

  var soon = null;
  function refreshSoon() {
    clearTimeout(soon);
    soon = setTimeout(refresh, 250);
  }

  function marks(item, kind) {
    var out = [];
    if (kind === 'case') {
      if (item.overdue) out.push('<span class="mark overdue">超期</span>');
      if (item.due_soon) out.push('<span class="mark due-soon">即将到期</span>');
      if (item.provisional && item.due_at) out.push('<span class="mark provisional" title="该年度节假日安排未公布,时限为暂定">暂定</span>');
      if (item.deficiency_status === 'overdue') out.push('<span class="mark overdue">容缺逾期</span>');
      else if (item.deficiency_status === 'pending') out.push('<span class="mark info">容缺待补</span>');
      if (item.extension_days) out.push('<span class="mark info">已延期 ' + item.extension_days + ' 日</span>');
      if (item.decided_on_time === false) out.push('<span class="mark overdue">超期办结</span>');
    } else {
      if (item.contact_overdue) out.push('<span class="mark overdue">联系超期</span>');
      if (item.rectify_overdue) out.push('<span class="mark overdue">整改超期</span>');
      if (item.due_soon) out.push('<span class="mark due-soon">即将到期</span>');
      if (item.provisional && item.state !== 'closed') out.push('<span class="mark provisional">暂定</span>');
      if (item.rating && item.rating.excluded) out.push('<span class="mark excluded">不计入统计</span>');
      if (item.contact_on_time === false) out.push('<span class="mark overdue">联系不及时</span>');
      if (item.rectify_on_time === false) out.push('<span class="mark overdue">整改不及时</span>');
    }
    return out.join('');
  }

  function actionButtons(item, list, kind) {
    return list.map(function (a, i) {
      if (a.states.indexOf(item.state) < 0) return '';
      if (a.when && !a.when(item)) return '';
      if (a.managerOnly && me.role !== 'manager') return '';
      return '<button type="button" class="btn ' + (a.cls || 'primary') + '" data-kind="' + kind + '" data-act="' + i +
        '" data-id="' + U.escapeHtml(kind === 'case' ? item.receipt_no : item.id) + '">' + U.escapeHtml(a.label) + '</button>';
    }).join('');
  }

  function render() {
    var now = client.state.now();
    $('now').textContent = '更新于 ' + U.fmtTime(now, tz(), true);
    var open = cases.filter(function (k) { return k.state !== 'completed' && k.state !== 'rejected'; });
    $('count-cases').textContent = open.length ? '(' + open.length + ')' : '';
    var openRects = rects.filter(function (r) { return r.state !== 'closed'; });
    $('count-rects').textContent = openRects.length ? '(' + openRects.length + ')' : '';
    updateDepartments();

    $('cases').querySelector('tbody').innerHTML = cases.map(function (k) {
      var cls = k.overdue ? 'overdue' : (k.due_soon ? 'due-soon' : (k.state === 'completed' || k.state === 'rejected' ? 'closed' : ''));
      var sub = [];
      if (k.missing_materials && k.missing_materials.length) sub.push('缺:' + k.missing_materials.join('、'));
      if (k.deficiency_item) sub.push('容缺:' + k.deficiency_item + '(承诺 ' + (k.deficiency_promised_date || '') + ')');
      if (k.suspension_reason && k.state === 'suspended') sub.push('中止:' + k.suspension_reason + ',预计 ' + k.suspension_expected_days + ' 个工作日');
      if (k.rejection_reason) sub.push('理由:' + k.rejection_reason);
      // 一件事: a part names its bundle; a bundle lists its parts and who holds it late
      if (k.bundle_receipt) sub.push('一件事 ' + k.bundle_receipt + ' 的分项' + (k.share_working_days != null ? ',时限 ' + k.share_working_days + ' 个工作日' : ''));
      if (k.parts && k.parts.length) {
        sub.push('分项:' + k.parts.map(function (p) {
          return p.department + ' ' + p.matter_name + '(' + (CASE_STATE[p.state] || p.state) + (p.overdue ? ',超期' : '') + ')';
        }).join('、'));
      }
      if (k.late_departments && k.late_departments.length) sub.push('超期部门:' + k.late_departments.join('、'));
      if (k.withdrawn_reason) sub.push('终止:' + k.withdrawn_reason);
      if (k.assisted_by_name || k.assisted_by) sub.push('帮办:' + (k.assisted_by_name || k.assisted_by));
      if (k.agent) sub.push('代办:' + k.agent + '(' + (k.agent_point || '') + ')');
      return '<tr class="' + cls + '" data-receipt="' + U.escapeHtml(k.receipt_no) + '">' +
        '<td class="num">' + U.escapeHtml(k.receipt_no) + '</td>' +
        '<td>' + U.escapeHtml(k.matter_name) + '<div class="sub">' + U.escapeHtml(k.department) + ' · ' +
          U.escapeHtml(k.case_type) + (k.promised_working_days ? ' · 承诺 ' + k.promised_working_days + ' 个工作日' : '') + '</div>' +
          (sub.length ? '<div class="sub">' + U.escapeHtml(sub.join(';')) + '</div>' : '') + '</td>' +
        '<td>' + U.escapeHtml(k.applicant_name || '') + '</td>' +
        '<td class="state">' + U.escapeHtml(CASE_STATE[k.state] || k.state) +
          (k.decision ? '<div class="sub">' + (k.decision === 'approved' ? '准予' : '不予') + '</div>' : '') + '</td>' +
        '<td class="due">' + when(k.accepted_at || k.created_at) + '</td>' +
        '<td class="due" data-due="' + U.escapeHtml(k.due_at || '') + '">' + when(k.due_at) + '</td>' +
        '<td>' + marks(k, 'case') + '</td>' +
        '<td><div class="acts">' + actionButtons(k, CASE_ACTIONS, 'case') + '</div></td></tr>';
    }).join('');
    $('cases-empty').hidden = cases.length > 0;

    $('rects').querySelector('tbody').innerHTML = rects.map(function (r) {
      var rating = r.rating || {};
      var cls = r.overdue ? 'overdue' : (r.due_soon ? 'due-soon' : (r.state === 'closed' ? 'closed' : ''));
      var detail = [];
      if (rating.reasons && rating.reasons.length) detail.push(rating.reasons.join('、'));
      if (rating.text) detail.push('“' + rating.text + '”');
      var progress = [];
      if (r.contact_note) progress.push('联系:' + r.contact_note);
      if (r.measures) progress.push('整改:' + r.measures);
      if (r.explanation) progress.push('解释:' + r.explanation);
      if (r.appeal_reason) progress.push('申诉:' + r.appeal_reason + (r.appeal_decision ? '(' + (r.appeal_decision === 'upheld' ? '成立' : '驳回') + ')' : ''));
      if (r.revisit_satisfaction) progress.push('回访:' + LEVELS[r.revisit_satisfaction]);
      if (rating.follow_up) progress.push('追评:' + LEVELS[rating.follow_up.score]);
      return '<tr class="' + cls + '" data-rect="' + r.id + '">' +
        '<td class="num">#' + r.id + '<div class="sub">' + when(r.opened_at) + '</div></td>' +
        '<td>' + U.windowLabel(r.window) + ' · ' + U.escapeHtml(r.owner_staff_name || r.owner_staff || '') +
          '<div class="sub">' + U.escapeHtml(r.owner_department || '') + '</div></td>' +
        '<td><span class="score">' + U.escapeHtml(LEVELS[rating.score] || '') + '</span> ' +
          '<span class="sub">' + U.escapeHtml(rating.ticket_number || '') + ' · ' + U.escapeHtml(rating.matter_name || '') + '</span>' +
          '<div>' + U.escapeHtml(detail.join(' ')) + '</div></td>' +
        '<td class="state">' + U.escapeHtml(r.state === 'closed' ? (OUTCOME[r.outcome] || RECT_STATE.closed) : RECT_STATE[r.state]) +
          (progress.length ? '<div class="sub">' + U.escapeHtml(progress.join(';')) + '</div>' : '') + '</td>' +
        '<td class="due contact-due" data-due="' + U.escapeHtml(r.contact_due) + '">' + when(r.contact_due) + '</td>' +
        '<td class="due rectify-due" data-due="' + U.escapeHtml(r.rectify_due) + '">' + when(r.rectify_due) + '</td>' +
        '<td>' + marks(r, 'rect') + '</td>' +
        '<td><div class="acts">' + actionButtons(r, RECT_ACTIONS, 'rect') + '</div></td></tr>';
    }).join('');
    $('rects-empty').hidden = rects.length > 0;
  }

  function updateDepartments() {
    if (!me || me.role !== 'manager') { $('dept-filter-box').hidden = true; return; }
    $('dept-filter-box').hidden = false;
    var sel = $('dept-filter');
    var have = new Set(Array.prototype.map.call(sel.options, function (o) { return o.value; }));
    cases.map(function (k) { return k.department; }).concat(rects.map(function (r) { return r.owner_department; }))
      .forEach(function (d) {
        if (d && !have.has(d)) {
          have.add(d);
          var o = document.createElement('option');
          o.value = o.textContent = d;
          sel.appendChild(o);
        }
      });
  }

  // ------------------------------------------------------------------ actions

  function openForm(kind, index, id) {
    var a = (kind === 'case' ? CASE_ACTIONS : RECT_ACTIONS)[index];
    pending = { kind: kind, action: a, id: id };
    if (!a.fields || !a.fields.length) { submit({}); return; }
    $('form-title').textContent = a.label + ' · ' + (kind === 'case' ? id : '差评 #' + id);
    $('form-fields').innerHTML = a.fields.map(function (f) {
      var input;
      if (f.kind === 'select') {
        input = '<select name="' + f.name + '">' + f.options.map(function (o) {
          return '<option value="' + U.escapeHtml(o) + '">' + U.escapeHtml(f.labels ? o + ' ' + f.labels[o] : o) + '</option>';
        }).join('') + '</select>';
      } else if (f.kind === 'number') {
        input = '<input name="' + f.name + '" type="number" min="' + (f.min || 1) + '"' + (f.max ? ' max="' + f.max + '"' : '') +
          ' value="' + (f.value || '') + '" required>';
      } else {
        input = '<textarea name="' + f.name + '" rows="2" maxlength="500"' + (f.optional ? '' : ' required') + '></textarea>';
      }
      return '<label>' + U.escapeHtml(f.label) + (f.optional ? '(选填)' : '') + input + '</label>';
    }).join('');
    $('action-form').hidden = false;
    var first = $('form-fields').querySelector('textarea, input, select');
    if (first) first.focus();
  }

  function closeForm() {
    pending = null;
    $('action-form').hidden = true;
  }

  function submit(values) {
    if (!pending) return;
    var a = pending.action;
    var fields = Object.assign({}, a.fixed || {}, values);
    if (pending.kind === 'case') fields.receipt_no = pending.id;
    else fields.rectification = Number(pending.id);
    $('form-submit').disabled = true;
    client.request(a.type, fields).then(function () {
      message('info', a.label + ':已完成');
      closeForm();
      return refresh();
    }).catch(function (err) {
      message('error', errText(err));
    }).then(function () { $('form-submit').disabled = false; });
  }

  $('action-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var values = {};
    (pending && pending.action.fields || []).forEach(function (f) {
      var el = $('form-fields').querySelector('[name="' + f.name + '"]');
      var v = el ? el.value.trim() : '';
      if (f.optional && !v) return;
      values[f.name] = (f.kind === 'number' || f.name === 'satisfaction') ? Number(v) : v;
    });
    submit(values);
  });
  $('form-cancel').addEventListener('click', closeForm);

  document.addEventListener('click', function (e) {
    var b = e.target.closest('button[data-act]');
    if (b) openForm(b.getAttribute('data-kind'), Number(b.getAttribute('data-act')), b.getAttribute('data-id'));
    var t = e.target.closest('.bo-tab');
    if (t) {
      tab = t.getAttribute('data-tab');
      Array.prototype.forEach.call(document.querySelectorAll('.bo-tab'), function (x) { x.classList.toggle('active', x === t); });
      $('panel-cases').hidden = tab !== 'cases';
      $('panel-rects').hidden = tab !== 'rects';
    }
  });
  $('dept-filter').addEventListener('change', refresh);

  // ------------------------------------------------------------------ session

  function loggedIn(reply, fromForm) {
    me = { role: reply.role, name: reply.name };
    if (me.role !== 'backoffice' && me.role !== 'manager') {
      me = null;
      showLogin(true, '本页面供后台审批人员和管理人员使用');
      return;
    }
    $('user-name').textContent = reply.name || '';
    $('user-dept').textContent = me.role === 'manager' ? '管理员(全部部门)' : '';
    showLogin(false);
    if (fromForm) client.resubscribe().catch(function () {}); // on reconnect the client subscribes itself
    refresh();
  }

  $('login-form').addEventListener('submit', function (e) {
    e.preventDefault();
    $('login-submit').disabled = true;
    client.request('login', { username: $('username').value.trim(), password: $('password').value }).then(function (reply) {
      session = { token: reply.token };
      try { sessionStorage.setItem(SESSION_KEY, JSON.stringify(session)); } catch (err) { /* private mode */ }
      $('password').value = '';
      loggedIn(reply, true);
    }).catch(function (err) {
      showLogin(true, errText(err));
    }).then(function () { $('login-submit').disabled = false; });
  });

  $('logout').addEventListener('click', function () {
    client.request('logout', {}).catch(function () {});
    session = null;
    me = null;
    try { sessionStorage.removeItem(SESSION_KEY); } catch (e) { /* private mode */ }
    cases = [];
    rects = [];
    showLogin(true);
  });

  var client = new HallClient({
    setup: function (c) {
      if (!session || !session.token) return null;
      return c.request('auth', { token: session.token }).then(function (reply) {
        loggedIn(reply);
      }).catch(function () {
        session = null;
        me = null;
        try { sessionStorage.removeItem(SESSION_KEY); } catch (e) { /* private mode */ }
        showLogin(true, '登录已失效,请重新登录');
      });
    },
    subscription: function () { return me ? {} : null; },
    onSnapshot: function (st) {
      if (st.hall && st.hall.name) $('hall-name').textContent = st.hall.name;
      refresh();
    },
    onEvent: function (ev) { if (ev.audience === 'staff') refreshSoon(); }
  });
  showLogin(!session);
  fetch('/config.json').then(function (r) { return r.json(); }).then(function (cfg) {
    if (cfg.hall && cfg.hall.name) $('hall-name').textContent = cfg.hall.name;
  }).catch(function () {});
  client.start();
  refreshTimer = setInterval(function () { if (me) refresh(); }, REFRESH_MS);
  window.__backoffice = client; // for tests and debugging
})();
