/*
 * HallOps recorded-clip voice: the call joined from short clips, as hardware calling
 * systems do (请 / A / 零 / 零 / 一 / 号 / 到 / 十 / 五 / 号窗口 / 办理).
 *
 * - The normaliser is pure (no DOM, no audio): VoiceClips.callClips("A001", 15) ->
 *   ["请", "A", "零", "零", "一", "号", "到", "十", "五", "号窗口", "办理"].
 *   Letters are said by name (clips "A".."Z"), ticket digits one by one (0 -> 零), window
 *   numbers as numbers (15 -> 十五, 20 -> 二十, 99 -> 九十九; above 99 digit by digit).
 *   A recall starts with 再次呼叫.
 * - ClipPlayer loads static/voice/manifest.json and decodes every clip once (Web Audio),
 *   then plays a clip list back to back on one AudioContext, into a given output node.
 *
 * The clips are made by displays/voice/make_clips.py (espeak-ng, offline); a hall may
 * replace them with recordings of a real announcer (docs/voice.md).
 */
(function (root, factory) {
  var api = factory();
  if (typeof module === 'object' && module.exports) module.exports = api;
  else root.VoiceClips = api;
})(typeof self !== 'undefined' ? self : this, function () {
  'use strict';

  var DIGITS = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];

  /** A ticket number's clips: letters by name, each digit on its own. "A012" -> A 零 一 二. */
  function ticketClips(number) {
    var out = [];
    String(number == null ? '' : number).trim().toUpperCase().split('').forEach(function (ch) {
      if (ch >= '0' && ch <= '9') out.push(DIGITS[ch.charCodeAt(0) - 48]);
      else if (ch >= 'A' && ch <= 'Z') out.push(ch);
      // anything else (a dash ...) is not spoken
    });
    return out;
  }

  /** A window number read as a number: 5 -> 五, 10 -> 十, 15 -> 十五, 20 -> 二十, 99 -> 九十九. */
  function numberClips(n) {
    var s = String(n == null ? '' : n).trim();
    if (!/^\d+$/.test(s)) return ticketClips(s);
    var v = parseInt(s, 10);
    if (v > 99) return ticketClips(String(v)); // 101 号窗口: 一 零 一
    if (v < 10) return [DIGITS[v]];
    var tens = Math.floor(v / 10), ones = v % 10;
    var out = tens === 1 ? ['十'] : [DIGITS[tens], '十'];
    if (ones) out.push(DIGITS[ones]);
    return out;
  }

  /** The clips of a call: kind 'call' (default) or 'recall'. */
  function callClips(number, windowNumber, kind) {
    var out = kind === 'recall' ? ['再次呼叫'] : [];
    return out.concat(['请'], ticketClips(number), ['号', '到'], numberClips(windowNumber), ['号窗口', '办理']);
  }

  /**
   * new ClipPlayer({base: '/static/voice/', context: () => AudioContext, output: () => AudioNode})
   * load() resolves true when every clip is decoded (false when the set is missing or broken);
   * play(keys) resolves when the last clip has ended.
   */
  function ClipPlayer(opts) {
    opts = opts || {};
    this.base = opts.base || '/static/voice/';
    this.context = opts.context;
    this.output = opts.output;
    this.buffers = new Map();
    this.manifest = null;
    this.ready = false;
    this.error = '';
    this.gapS = 0.06;
    this._loading = null;
  }

  ClipPlayer.prototype.load = function () {
    if (this._loading) return this._loading;
    var self = this;
    var ctx = this.context && this.context();
    if (!ctx || typeof fetch !== 'function') {
      this.error = 'no-web-audio';
      this._loading = Promise.resolve(false);
      return this._loading;
    }
    this._loading = fetch(this.base + 'manifest.json', { cache: 'no-cache' })
      .then(function (r) { if (!r.ok) throw new Error('manifest ' + r.status); return r.json(); })
      .then(function (manifest) {
        self.manifest = manifest;
        if (manifest.gap_ms != null) self.gapS = manifest.gap_ms / 1000;
        var keys = Object.keys(manifest.clips || {});
        return Promise.all(keys.map(function (key) {
          return fetch(self.base + manifest.clips[key].file)
            .then(function (r) { if (!r.ok) throw new Error(key + ' ' + r.status); return r.arrayBuffer(); })
            .then(function (data) { return decode(ctx, data); })
            .then(function (buf) { self.buffers.set(key, buf); });
        }));
      })
      .then(function () { self.ready = self.buffers.size > 0; return self.ready; })
      .catch(function (e) {
        self.error = String((e && e.message) || e);
        self.ready = false;
        if (typeof console !== 'undefined') console.warn('voice clips not available:', self.error);
        return false;
      });
    return this._loading;
  };

  function decode(ctx, data) {
    // The promise form where it exists; the callback form for old engines.
    return new Promise(function (resolve, reject) {
      var p = ctx.decodeAudioData(data, resolve, reject);
      if (p && typeof p.then === 'function') p.then(resolve, reject);
    });
  }

  /** Keys without a clip (a hall's partial clip set, or a letter not recorded). */
  ClipPlayer.prototype.missing = function (keys) {
    var self = this;
    return keys.filter(function (k) { return !self.buffers.has(k); });
  };

  /** Play the clips back to back; resolves at the end (missing clips are left out). */
  ClipPlayer.prototype.play = function (keys) {
    var self = this;
    var ctx = this.context && this.context();
    if (!ctx || !this.ready) return Promise.resolve(0);
    var out = (this.output && this.output()) || ctx.destination;
    var t = ctx.currentTime + 0.05;
    var start = t;
    var last = null;
    keys.forEach(function (key) {
      var buf = self.buffers.get(key);
      if (!buf) return;
      var src = ctx.createBufferSource();
      src.buffer = buf;
      src.connect(out);
      src.start(t);
      t += buf.duration + self.gapS;
      last = src;
    });
    var seconds = t - start;
    if (!last) return Promise.resolve(0);
    return new Promise(function (resolve) {
      var done = false;
      var finish = function () { if (!done) { done = true; resolve(seconds); } };
      last.onended = finish;
      // A suspended context never ends its sources: do not let one call block the queue.
      setTimeout(finish, seconds * 1000 + 1500);
    });
  };

  return { ticketClips: ticketClips, numberClips: numberClips, callClips: callClips, ClipPlayer: ClipPlayer, DIGITS: DIGITS };
});
