// 一次性告知书: fills the page from the fragment the terminal wrote (#<URI-encoded JSON>):
// {kind: "补正"|"容缺", receipt_no, matter, department, hall, applicant, at, promised, window,
//  items: [{name, form, copies}]}. Nothing is fetched; the page only prints.
(function () {
  'use strict';
  function $(id) { return document.getElementById(id); }
  var data = {};
  try { data = JSON.parse(decodeURIComponent(location.hash.slice(1))) || {}; } catch (e) { data = {}; }
  var isDeferral = data.kind === '容缺';
  $('title').textContent = isDeferral ? '容缺受理告知承诺书' : '补齐补正通知单(一次性告知)';
  $('hall').textContent = data.hall || '';
  $('receipt').textContent = data.receipt_no || '';
  $('matter').textContent = data.matter || '';
  $('department').textContent = data.department || '';
  $('applicant').textContent = data.applicant || '';
  $('at').textContent = (data.at || '').replace('T', ' ').slice(0, 16);
  $('window').textContent = data.window ? data.window + ' 号窗口' : '';
  $('lead').textContent = isDeferral
    ? '您申请的事项已容缺受理。以下材料暂缺,请按承诺日期补齐:'
    : '您提交的申请材料不齐全,请补齐以下全部材料(共 ' + (data.items || []).length + ' 项):';
  var ol = $('items');
  (data.items || []).forEach(function (x) {
    var li = document.createElement('li');
    li.textContent = x.name + (x.form ? '(' + x.form + (x.copies > 1 ? ',' + x.copies + ' 份' : '') + ')' : '');
    ol.appendChild(li);
  });
  if (isDeferral && data.promised) {
    $('promise').hidden = false;
    $('promise').textContent = '申请人承诺于 ' + data.promised + ' 前补齐上述材料;逾期未补齐的,按规定处理。';
  }
  var params = new URLSearchParams(location.search);
  function paper(p) {
    document.body.classList.toggle('paper-80', p === '80mm');
    document.body.classList.toggle('paper-a4', p !== '80mm');
  }
  paper(params.get('paper') || 'a4');
  $('paper-a4').addEventListener('click', function () { paper('a4'); });
  $('paper-80').addEventListener('click', function () { paper('80mm'); });
  $('print').addEventListener('click', function () { window.print(); });
})();
