/*
 * The back office's complaints tab (投诉/纠纷): the list (its own department's; managers all),
 * overdue first, with the steps the sender may take — 登记 (any channel: 现场, 电话, 12345 转办,
 * 好差评, 办不成事), 分办 / 改派 (the management or a manager), 处理, 回复 (12345: 反馈), 办结 with
 * the complainant's satisfaction, 督办 (a manager). The server checks who may do what
 * (docs/protocol.md). Uses the page's client (backoffice.js: window.__backoffice).
 */
(function () {
  'use strict';

  var U = HallClient.util;
  var $ = function (id) { return document.getElementById(id); };
  var client = window.__backoffice;
  var STATE = { received: '待分办', assigned: '已分办待处理', handled: '已处理待回复', replied: '已回复待办结', closed: '已办结' };
  var LEVELS = { 5: '非常满意', 4: '满意', 3: '基本满意', 2: '不满意', 1: '非常不满意' };
  var list = [];
  var info = { management: '', department: null, channels: {}, categories: [] };
  var pending = null;

  function when(iso) {
    var tz = (client.state.hall && client.state.hall.timezone) || 'Asia/Shanghai';
    return iso ? U.fmtDateTime(iso, tz).slice(0, 16) : '—';
  }
  function isManagement() { return info.department === null || info.department === info.management; }
  function shown() { return !$('panel-complaints').hidden; }

  function refresh() {
    if ($('main').hidden) return Promise.resolve();
    var fields = $('complaint-overdue-only').checked ? { overdue_only: true } : {};
    return client.request('list_complaints', fields).then(function (reply) {
      list = reply.complaints || [];
      info = { management: reply.management, department: reply.department, channels: reply.channels || {},
               categories: reply.categories || [] };
      render();
    }).catch(function (err) {
      $('error').hidden = false;
      $('error').textContent = U.staffErrorText(err);
    });
  }

  function actions(k) {
    var out = [];
    if (k.state === 'received' && isManagement()) out.push(['assign', '分办']);
    if (k.state === 'assigned' && isManagement()) out.push(['reassign', '改派']);
    if (k.state === 'assigned') out.push(['handle', '已处理']);
    if (k.state === 'handled') out.push(['reply', k.channel === 'hotline_12345' ? '已反馈' : '已回复']);
    if (k.state === 'replied') out.push(['close', '办结']);
    if (k.state !== 'closed' && k.state !== 'replied' && info.department === null) out.push(['remind', '督办']);
    return out.map(function (a) {
      return '<button type="button" class="btn primary" data-complaint="' + k.id + '" data-step="' + a[0] + '">' + a[1] + '</button>';
    }).join('');
  }

  function render() {
    var open = list.filter(function (k) { return k.state !== 'closed'; });
    $('count-complaints').textContent = open.length ? '(' + open.length + ')' : '';
    $('complaints').querySelector('tbody').innerHTML = list.map(function (k) {
      var cls = k.overdue ? 'overdue' : (k.due_soon ? 'due-soon' : (k.state === 'closed' ? 'closed' : ''));
      var marks = [];
      if (k.overdue) marks.push('<span class="mark overdue">超期未回复</span>');
      if (k.due_soon) marks.push('<span class="mark due-soon">即将到期</span>');
      if (k.triage) marks.push('<span class="mark info">待管委会分办</span>');
      if (k.reminders) marks.push('<span class="mark info">督办 ' + k.reminders + ' 次</span>');
      if (k.reassignments) marks.push('<span class="mark info">改派 ' + k.reassignments + ' 次</span>');
      if (k.reply_on_time === false) marks.push('<span class="mark overdue">回复不及时</span>');
      var who = k.complainant || {};
      return '<tr class="' + cls + '" data-complaint-row="' + k.id + '">' +
        '<td class="num">#' + k.id + '<div class="sub">' + when(k.received_at) + '</div></td>' +
        '<td>' + U.escapeHtml(k.channel_name || k.channel) + (k.hotline_ref ? '<div class="sub">工单 ' + U.escapeHtml(k.hotline_ref) + '</div>' : '') +
          '<div class="sub">' + U.escapeHtml(k.category || '(未分类)') + '</div></td>' +
        '<td>' + U.escapeHtml(who.name || '') + '<div class="sub">' + U.escapeHtml(who.phone || '') + '</div></td>' +
        '<td>' + U.escapeHtml(k.content) + (k.handling ? '<div class="sub">处理:' + U.escapeHtml(k.handling) + '</div>' : '') +
          (k.reply ? '<div class="sub">回复:' + U.escapeHtml(k.reply) + '</div>' : '') + '</td>' +
        '<td class="owner">' + U.escapeHtml(k.owner_name || k.owner_department) + '</td>' +
        '<td class="state">' + U.escapeHtml(STATE[k.state] || k.state) +
          (k.satisfaction ? '<div class="sub">' + LEVELS[k.satisfaction] + '</div>' : '') + '</td>' +
        '<td class="due">' + when(k.due_at) + '</td>' +
        '<td>' + marks.join('') + '</td>' +
        '<td><div class="acts">' + actions(k) + '</div></td></tr>';
    }).join('');
    $('complaints-empty').hidden = list.length > 0;
  }

  var FORMS = {
    receive: { title: '登记投诉', type: 'receive_complaint', fields: function () {
      var ch = Object.keys(info.channels).filter(function (c) { return c !== 'rating'; });
      return [
        { name: 'channel', label: '渠道', options: ch, labels: info.channels },
        { name: 'category', label: '类别(决定责任主体;不选由管委会分办)', options: [''].concat(info.categories.map(function (r) { return r.text; })),
          labels: info.categories.reduce(function (m, r) { m[r.text] = r.text + '(' + r.party_name + ')'; return m; }, { '': '不选' }) },
        { name: 'content', label: '投诉内容', text: true },
        { name: 'hotline_ref', label: '12345 工单号(12345 转办必填)', optional: true, line: true },
        { name: 'matter_code', label: '事项编码', optional: true, line: true },
        { name: 'name', label: '投诉人姓名', optional: true, line: true },
        { name: 'phone', label: '联系电话', optional: true, line: true }];
    } },
    assign: { title: '分办', type: 'assign_complaint', fields: function () { return ownerFields(false); } },
    reassign: { title: '改派', type: 'assign_complaint', fields: function () { return ownerFields(true); } },
    handle: { title: '处理情况', type: 'handle_complaint', fields: function () { return [{ name: 'handling', label: '处理情况', text: true }]; } },
    reply: { title: '回复', type: 'reply_complaint', fields: function () { return [{ name: 'reply', label: '回复(反馈)内容', text: true }]; } },
    close: { title: '办结', type: 'close_complaint', fields: function () {
      return [{ name: 'satisfaction', label: '投诉人满意度', options: [5, 4, 3, 2, 1], labels: LEVELS }];
    } },
    remind: { title: '督办', type: 'remind_complaint', fields: function () { return [{ name: 'note', label: '督办意见', text: true }]; } }
  };

  function ownerFields(reason) {
    var f = [{ name: 'responsible', label: '责任主体', options: ['department', 'management'],
               labels: { department: '事项所属部门', management: info.management } },
             { name: 'department', label: '部门(选“事项所属部门”时填写)', optional: true, line: true }];
    if (reason) f.push({ name: 'reason', label: '改派理由', text: true });
    return f;
  }

  function open(step, id) {
    var form = FORMS[step];
    pending = { step: step, id: id, form: form, fields: form.fields() };
    $('complaint-form-title').textContent = form.title + (id ? ' · 投诉 #' + id : '');
    $('complaint-form-fields').innerHTML = pending.fields.map(function (f) {
      var input;
      if (f.options) {
        input = '<select name="' + f.name + '">' + f.options.map(function (o) {
          return '<option value="' + U.escapeHtml(o) + '">' + U.escapeHtml(f.labels && f.labels[o] !== undefined ? f.labels[o] : o) + '</option>';
        }).join('') + '</select>';
      } else if (f.line) {
        input = '<input name="' + f.name + '" maxlength="40">';
      } else {
        input = '<textarea name="' + f.name + '" rows="2" maxlength="1000"' + (f.optional ? '' : ' required') + '></textarea>';
      }
      return '<label>' + U.escapeHtml(f.label) + input + '</label>';
    }).join('');
    $('complaint-form').hidden = false;
  }

  $('complaint-form').addEventListener('submit', function (e) {
    e.preventDefault();
    if (!pending) return;
    var values = {};
    pending.fields.forEach(function (f) {
      var el = $('complaint-form-fields').querySelector('[name="' + f.name + '"]');
      var v = el ? el.value.trim() : '';
      if (v === '' && (f.optional || f.name === 'category')) return;
      values[f.name] = f.name === 'satisfaction' ? Number(v) : v;
    });
    if (pending.step === 'receive') {
      if (values.name || values.phone) values.complainant = { name: values.name || '', phone: values.phone || '' };
      delete values.name;
      delete values.phone;
    } else {
      values.complaint = Number(pending.id);
    }
    $('complaint-form-submit').disabled = true;
    client.request(pending.form.type, values).then(function () {
      $('info').hidden = false;
      $('info').textContent = pending.form.title + ':已完成';
      pending = null;
      $('complaint-form').hidden = true;
      return refresh();
    }).catch(function (err) {
      $('error').hidden = false;
      $('error').textContent = U.staffErrorText(err);
    }).then(function () { $('complaint-form-submit').disabled = false; });
  });
  $('complaint-form-cancel').addEventListener('click', function () { pending = null; $('complaint-form').hidden = true; });
  $('complaint-new').addEventListener('click', function () { open('receive', null); });
  $('complaint-overdue-only').addEventListener('change', refresh);

  document.addEventListener('click', function (e) {
    var b = e.target.closest('button[data-step]');
    if (b) open(b.getAttribute('data-step'), b.getAttribute('data-complaint'));
    var t = e.target.closest('.bo-tab');
    if (t) {
      $('panel-complaints').hidden = t.getAttribute('data-tab') !== 'complaints';
      if (shown()) refresh();
    }
  });
  setInterval(function () { if (shown()) refresh(); }, 30000);
  window.__backofficeComplaints = { refresh: refresh };
})();
