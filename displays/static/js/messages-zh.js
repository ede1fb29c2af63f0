/*
 * HallOps error texts in plain Chinese: one table for every error code of docs/protocol.md
 * (and the client's own `disconnected` and `timeout`), used by every screen.
 *
 *   HallMessages.text(err)            -> Chinese only; what citizens see (kiosk, status page,
 *                                        rating pad) and every display. Never the server's
 *                                        English `message`; an unknown code gets FALLBACK.
 *   HallMessages.text(err, 'pad')     -> the wording for a context where it differs
 *                                        ('kiosk', 'status', 'pad').
 *   HallMessages.staffText(err)       -> the Chinese text plus the server's detail in brackets,
 *                                        for staff screens (terminal, back office).
 *
 * tests/displays/test_messages_zh.py checks that every code in docs/protocol.md is here.
 * Plain script (no modules, no build step): defines window.HallMessages.
 */
(function (root, factory) {
  var api = factory();
  if (typeof module === 'object' && module.exports) module.exports = api;
  else root.HallMessages = api;
})(typeof self !== 'undefined' ? self : this, function () {
  'use strict';

  var FALLBACK = '操作未成功,请稍后再试或咨询大厅工作人员';

  // code -> text, or {text, kiosk, status, pad} when a context needs other words.
  var CODES = {
    // the client itself
    disconnected: '网络连接中断,请稍后再试',
    timeout: '服务器无响应,请稍后再试',
    // the request itself (a screen's bug or a broken network: the citizen can only retry)
    message_too_large: '提交的内容过多,请精简后再试',
    malformed_json: FALLBACK,
    not_an_object: FALLBACK,
    missing_id: FALLBACK,
    missing_type: FALLBACK,
    unknown_type: FALLBACK,
    missing_field: { text: '缺少必填内容', kiosk: '信息不完整,请重新操作' },
    invalid_field: { text: '输入内容有误,请检查后再试', kiosk: '信息有误,请重新操作' },
    unknown_field: FALLBACK,
    // who may do what
    forbidden: { text: '无权执行此操作', kiosk: '本机暂时不能取号,请到咨询台咨询', status: '无法完成此操作', pad: '本评价器暂时不能评价,请咨询工作人员' },
    not_your_window: { text: '只能操作本窗口及本窗口的号码', pad: '这次服务不是本窗口办理的,请在办理窗口评价' },
    unauthenticated: { text: '用户名、密码或令牌无效', kiosk: '本机尚未启用,请联系工作人员', pad: '本评价器尚未启用,请联系工作人员' },
    rate_limited: { text: '操作过于频繁或登录失败次数过多,请稍后再试', kiosk: '取号过于频繁,请稍等一分钟再取' },
    display_token_required: '本大厅要求显示屏令牌,请联系管理员',
    storage_failed: '系统繁忙,本次操作未生效,请稍后再试',
    internal_error: '系统出现故障,本次操作未生效,请稍后再试或咨询工作人员',
    // queues, windows and tickets
    unknown_queue: '没有该业务,请重新选择',
    unknown_window: '没有该窗口',
    unknown_ticket: { text: '今天没有该号码', status: '没有找到该号码,号票只在取号当天有效' },
    queue_closed: '该业务当前不在办理时间,暂停取号',
    queue_full: '该业务今日号源已发完,请改日再来或预约办理',
    queue_empty: '当前没有等候的群众',
    illegal_transition: '当前状态不允许此操作',
    window_not_open: '窗口未开放或已暂停,请先开窗或恢复服务',
    window_busy: '窗口还有正在呼叫或办理的号码,请先办结、过号或转移',
    no_current_ticket: '窗口当前没有号码',
    not_served_here: '本窗口不办理该号码的业务',
    reason_required: { text: '此操作需要填写原因', pad: '差评请至少选择一项原因或填写意见', status: '差评请至少选择一项原因或填写意见' },
    recall_limit: '已达到重呼次数上限',
    not_allowed: { text: '大厅规则不允许此操作', kiosk: '按大厅规定暂不能办理此项,请咨询工作人员', status: '按大厅规定暂不能办理此项' },
    not_serving: '窗口当前号码尚未开始办理',
    // cases (办件)
    unknown_matter: '事项目录中没有该事项',
    unknown_case: '没有该办件',
    not_your_department: '该事项不属于本部门',
    extension_used: '该办件已延期过一次,不能再次延期',
    deadline_passed: '已超过办结时限,不能再延期',
    // 好差评
    already_rated: '本次服务已评价,谢谢!',
    not_rateable: { text: '当前没有可评价的服务', status: '办理结束后才能评价' },
    rating_expired: { text: '已超过评价期限', pad: '评价时间已过,可扫描号票二维码在手机上评价' },
    unknown_rating: '没有可以追加评价的评价',
    follow_up_used: '您已追加过评价',
    unknown_rectification: '没有该整改记录',
    not_owner: '只有被评价的工作人员、本部门后台或管理员可以申诉',
    appeal_used: '该差评已申诉过一次',
    // 投诉
    unknown_complaint: '没有该投诉记录',
    unknown_material: '该材料不在本事项的材料清单中',
    not_deferrable: '该材料不能容缺,须在受理时提交',
    notice_already_issued: '本件已一次性告知,材料清单未变,请重新打印原告知书',
    deliver_with_bundle: '该件属于一件事,须随一件事统一出件'
  };

  function code(err) { return err && typeof err === 'object' ? err.code : err; }

  /** The Chinese text of an error (an {code, message} object or a code), for a context. */
  function text(err, context) {
    var entry = CODES[code(err)];
    if (entry == null) return FALLBACK;
    if (typeof entry === 'string') return entry;
    return (context && entry[context]) || entry.text;
  }

  /** Staff screens: the Chinese text, then the server's own words (a detail for staff). */
  function staffText(err) {
    var zh = text(err);
    var server = err && typeof err === 'object' ? String(err.message || '') : '';
    return server && server !== zh ? zh + '(' + server + ')' : zh;
  }

  function has(c) { return Object.prototype.hasOwnProperty.call(CODES, c); }

  return { CODES: CODES, FALLBACK: FALLBACK, text: text, staffText: staffText, has: has };
});
